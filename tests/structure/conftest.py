"""Fixtures for the structure tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """Write rule files into a fresh folder that stands in for the built-in rules/ folder."""
    root = tmp_path / "rules"
    root.mkdir()
    monkeypatch.setenv("CSDIAG_RULES_DIR", str(root))

    def write(name: str, text: str) -> Path:
        path = root / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
