"""Fixtures for the engine tests: facts built by hand (the language is tested apart from the parsers)."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from diagnostics.model import FACT_KINDS, Fact

T0 = datetime(2025, 3, 10, 15, 11, 55, tzinfo=timezone.utc)


def make_fact(kind: str, seconds: float | None = 0, **fields: Any) -> Fact:
    """A fact of `kind` at T0 + seconds (None: no timestamp, like host command output)."""
    fields.setdefault("path", "management-server.log")
    fields.setdefault("line", 1)
    fields.setdefault("text", f"{kind} line")
    ts = None if seconds is None else T0 + timedelta(seconds=seconds)
    return FACT_KINDS[kind](ts=ts, **fields)


@pytest.fixture
def fact() -> Callable[..., Fact]:
    return make_fact


RULE_HEAD = """\
id = "{id}"
title = "A test rule"
category = "insufficient_capacity"
severity = "critical"
confidence = 0.9
"""

EXAMPLES = """
[[example]]
expect = "match"
log = "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (w:[]) (logid:0f1e2d3c) Free CPU: 1 , Requested CPU: 2"

[[example]]
expect = "no-match"
log = "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (w:[]) (logid:0f1e2d3c) Host has enough CPU and RAM available"
"""


def rule_text(rule_id: str = "test.rule", body: str = 'condition = "capacity_check.free_ram < 1GiB"\nmessage = "m"\n',
              examples: str = EXAMPLES) -> str:
    return RULE_HEAD.format(id=rule_id) + body + examples


@pytest.fixture
def rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write rule files into a fresh folder that stands in for the built-in rules/ folder."""
    root = tmp_path / "rules"
    root.mkdir()
    monkeypatch.setenv("CSDIAG_RULES_DIR", str(root))

    def write(name: str, text: str) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return path

    write.root = root  # type: ignore[attr-defined]
    return write
