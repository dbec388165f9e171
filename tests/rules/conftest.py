"""The catalogue tests load the repository's own rules/ folder, never an override from the environment."""

from __future__ import annotations

import pytest

from diagnostics.engine import RuleSet, load_rules


@pytest.fixture(scope="session")
def catalogue() -> RuleSet:
    mp = pytest.MonkeyPatch()
    mp.delenv("CSDIAG_RULES_DIR", raising=False)
    try:
        return load_rules()
    finally:
        mp.undo()
