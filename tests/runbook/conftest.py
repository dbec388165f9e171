"""Fixtures for the runbook tests: the shipped runbook and the sample incidents, each analysed once per session."""

from __future__ import annotations

import json

import pytest

from diagnostics.analysis import analyze_paths
from diagnostics.runbook import load_runbook
from runbook_samples import SAMPLES


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
