"""The rule format documented in rules/README.md is a real, loadable rule whose positive example passes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from diagnostics.engine.examples import run_example
from diagnostics.engine.loader import build_rule

README = Path(__file__).resolve().parents[2] / "rules" / "README.md"


def test_the_documented_example_rule_loads_and_its_positive_example_passes() -> None:
    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    rule = build_rule(tomllib.loads(block), block, str(README))
    assert rule.id == "capacity.host-cpu-short"
    positive = next(e for e in rule.examples if e.expect == "match")
    result = run_example(rule, positive)
    assert result.passed, result.reason
