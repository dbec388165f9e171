"""Fixtures for the runbook tests: the shipped runbook, the sample incidents analysed once, and the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.analysis import analyze_paths
from diagnostics.runbook import load_runbook

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "expected.json").is_file())


@pytest.fixture(scope="session")
def runbook():
    return load_runbook("change-offering")


@pytest.fixture(scope="session")
def analysed():
    """sample name -> (analysis, expected.json), each sample read once per session."""
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            folder = SAMPLES / name
            cache[name] = (analyze_paths([str(folder)]), json.loads((folder / "expected.json").read_text()))
        return cache[name]

    return get


def run_csdiag(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line, as an operator runs it (no colour, so output can be read as text)."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, timeout=timeout)
