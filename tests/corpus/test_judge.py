"""The judge of the corpus is itself specified: what counts as csdiag naming a category, and what is a false alarm."""

from __future__ import annotations

from pathlib import Path

from tests.corpus.corpus import Case, accuracy_table, judge


def _case(**meta):
    base = {"expected": [], "negative": False}
    base.update(meta)
    return Case("000-test", Path("."), base)


def _doc(status="WARNING", findings=(), root_causes=()):
    return {
        "summary": {"status": status},
        "findings": [dict(category=c, severity=s, benign=b) for c, s, b in findings],
        "incidents": [{"root_cause": {"category": c}} for c in root_causes],
    }


def test_a_positive_is_right_when_its_primary_category_is_a_warning_or_critical_finding():
    case = _case(expected=["storage", "network"])
    assert judge(case, _doc(findings=[("storage", "warning", False)])).right
    assert judge(case, _doc(status="CRITICAL", findings=[("storage", "critical", False)])).right


def test_a_positive_counts_an_incident_root_cause():
    assert judge(_case(expected=["start_failed"]), _doc(root_causes=["start_failed"])).right


def test_a_secondary_category_alone_is_not_enough():
    assert not judge(_case(expected=["storage", "network"]), _doc(findings=[("network", "warning", False)])).right


def test_info_and_benign_findings_do_not_count():
    case = _case(expected=["storage"])
    assert not judge(case, _doc(findings=[("storage", "info", False)])).right
    assert not judge(case, _doc(findings=[("storage", "warning", True)])).right


def test_status_ok_is_never_right_for_a_positive_even_with_the_category():
    verdict = judge(_case(expected=["storage"]), _doc(status="OK", root_causes=["storage"]))
    assert not verdict.right and "status OK" in verdict.why


def test_a_negative_control_fails_only_on_a_forbidden_warning_or_critical_category():
    case = _case(negative=True, forbidden=["agent_connectivity"])
    assert judge(case, _doc(status="OK")).right
    assert judge(case, _doc(findings=[("agent_connectivity", "info", False), ("other", "warning", False)])).right
    verdict = judge(case, _doc(findings=[("agent_connectivity", "warning", False)]))
    assert not verdict.right and "false alarm" in verdict.why


def test_the_table_counts_per_primary_category_and_negatives_apart():
    pos = _case(expected=["storage"])
    neg = _case(negative=True, forbidden=["storage"])
    results = [(pos, judge(pos, _doc(findings=[("storage", "warning", False)]))),
               (pos, judge(pos, _doc(status="OK"))),
               (neg, judge(neg, _doc(findings=[("storage", "critical", False)])))]
    table = accuracy_table(results)
    assert "storage                      2      1    50.0 %" in table
    assert "negative controls            1      0     0.0 %" in table
    assert "false alarms on negative controls: 1 of 1" in table
