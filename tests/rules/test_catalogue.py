"""Every rule in rules/ proves itself: its examples run through the real log and host parsers and the engine."""

from __future__ import annotations

import re

import pytest

from diagnostics.engine import evaluate, load_rules
from diagnostics.engine.examples import run_example
from diagnostics.engine.examples import example_facts
from diagnostics.model import CORE_CATEGORIES



def _examples():
    import os

    saved = os.environ.pop("CSDIAG_RULES_DIR", None)
    try:
        ruleset = load_rules()
    finally:
        if saved is not None:
            os.environ["CSDIAG_RULES_DIR"] = saved
    return [pytest.param(rule, example, id=f"{rule.id}#{example.index}-{example.expect}")
            for rule in ruleset.rules for example in rule.examples]


def test_the_catalogue_loads_without_errors(catalogue) -> None:
    assert catalogue.errors == []
    assert len(catalogue.rules) >= 40


@pytest.mark.parametrize(("rule", "example"), _examples())
def test_rule_example(rule, example) -> None:
    result = run_example(rule, example)
    assert result.passed, f"{result.where}: {result.reason}"


def test_examples_use_the_real_parsers(catalogue) -> None:
    """Log and host examples go through diagnostics.facts / diagnostics.host; only capture facts are hand-made."""
    for rule in catalogue.rules:
        for example in rule.examples:
            for spec in example.facts:
                assert spec["kind"].startswith("heartbeat_"), f"{rule.id} example {example.index}: hand-made {spec['kind']}"
            if example.log.strip() or example.api.strip() or example.hosts:
                facts = example_facts(rule, example)
                parsed = [f for f in facts if "#example" in f.path and not f.path.endswith("/fact")]
                if example.expect == "match":
                    assert parsed, f"{rule.id} example {example.index}: its input gave no facts"


def test_every_rule_has_a_negative_example_that_is_not_empty_input(catalogue) -> None:
    """A negative example whose input yields no fact at all proves nothing; each rule needs a real near miss."""
    weak = [rule.id for rule in catalogue.rules
            if not any(example.expect == "no-match" and example_facts(rule, example) for example in rule.examples)]
    assert weak == []


def test_the_catalogue_covers_every_category_and_area(catalogue) -> None:
    used = {rule.category for rule in catalogue.rules}
    assert used >= set(CORE_CATEGORIES) - {"other"}
    areas = {rule.id.split(".")[0] for rule in catalogue.rules}
    assert areas >= {"capacity", "stale", "start", "libvirt", "scaling", "limits", "connectivity", "storage", "host", "network"}
    assert any(rule.benign for rule in catalogue.rules)
    assert any(rule.symptom_of for rule in catalogue.rules)


NEW_LAYOUT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} +\w+ +\[[^\]]+\] \([^:]+:\[[^\]]*\]\) \(logid:[0-9a-f]*\) ", re.M)
OLD_LAYOUT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} +\w+ +\[[^\]]+\] \([^:]+:(?:null|ctx-[0-9a-f]+[^)]*)\) \(logid:[0-9a-f]*\) ", re.M)


def test_examples_cover_both_log4j_layouts(catalogue) -> None:
    logs = [example.log for rule in catalogue.rules for example in rule.examples if example.log]
    assert sum(bool(NEW_LAYOUT.search(log)) for log in logs) >= 40
    assert sum(bool(OLD_LAYOUT.search(log)) for log in logs) >= 15


def test_a_capacity_error_after_a_failed_start_is_marked_as_its_symptom(catalogue) -> None:
    """Run the whole catalogue over the start-failure story: the capacity finding points at the start failure."""
    rule = catalogue.get("capacity.exhausted-after-start-failure")
    facts = example_facts(rule, rule.examples[0])
    findings = {f.rule_id: f for f in evaluate(catalogue, facts)}
    assert findings["capacity.exhausted-after-start-failure"].symptom_of == ["start.host-failed"]
    assert "start.host-failed" in findings
    assert "capacity.deployment-exhausted" not in findings  # not reported as real exhaustion


def test_real_exhaustion_is_not_marked_as_a_symptom(catalogue) -> None:
    rule = catalogue.get("capacity.deployment-exhausted")
    findings = {f.rule_id: f for f in evaluate(catalogue, example_facts(rule, rule.examples[0]))}
    assert findings["capacity.deployment-exhausted"].symptom_of == []
    assert "capacity.exhausted-after-start-failure" not in findings
    assert findings["capacity.host-ram-short"].entities["host"] == "kvm01"


def test_the_balloon_warning_is_benign_and_grouped(catalogue) -> None:
    rule = catalogue.get("libvirt.balloon-free-memory")
    findings = [f for f in evaluate(catalogue, example_facts(rule, rule.examples[0])) if f.rule_id == rule.id]
    assert [(f.benign, f.severity, f.count) for f in findings] == [(True, "info", 2)]
