"""Each sample incident, analysed end to end, yields what its expected.json says: facts, findings, negatives."""

from __future__ import annotations

import json
import os
from datetime import timezone

import pytest

from diagnostics.analysis import analyze_paths

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
INCIDENTS = sorted(
    d for d in os.listdir(SAMPLES) if os.path.isfile(os.path.join(SAMPLES, d, "expected.json"))
)


@pytest.fixture(scope="module")
def analysed():
    cache = {}

    def get(name):
        if name not in cache:
            folder = os.path.join(SAMPLES, name)
            with open(os.path.join(folder, "expected.json")) as f:
                expected = json.load(f)
            cache[name] = (expected, analyze_paths([folder], tz=timezone.utc, tz_name="UTC"))
        return cache[name]

    return get


def _matches(fact, wanted: dict) -> bool:
    d = fact.to_dict()
    for key, value in wanted.items():
        got = d.get(key)
        if isinstance(got, list) and isinstance(value, list):
            if got != value:
                return False
        elif got != value:
            return False
    return True


@pytest.mark.parametrize("name", INCIDENTS)
def test_expected_facts_are_extracted(name, analysed):
    expected, result = analysed(name)
    missing = [w for w in expected.get("facts", []) if not any(_matches(f, w) for f in result.collected.facts if f.kind == w["kind"])]
    assert not missing, f"{name}: no fact matches {missing}"


@pytest.mark.parametrize("name", INCIDENTS)
def test_expected_findings_and_negative_controls(name, analysed):
    expected, result = analysed(name)
    categories = {f["category"] for f in result.document["findings"] if not f["benign"]}
    rules = {f["rule"] for f in result.document["findings"]}
    for want in expected.get("findings", []):
        if "category" in want:
            assert want["category"] in categories, f"{name}: expected a {want['category']} finding, got {sorted(categories)}"
        if "rule" in want:
            assert want["rule"] in rules, f"{name}: expected rule {want['rule']}"
    for unwanted in expected.get("absent_findings", []):
        if "category" in unwanted:
            assert unwanted["category"] not in categories, f"{name}: unexpected {unwanted['category']} finding"


@pytest.mark.parametrize("name", INCIDENTS)
def test_inputs_are_read_without_errors(name, analysed):
    expected, result = analysed(name)
    assert result.document["errors"] == []
    logs = {os.path.relpath(i["path"], os.path.join(SAMPLES, name)): i for i in result.document["inputs"] if i["kind"] == "log"}
    for rel, count in expected.get("records", {}).items():
        assert rel in logs, f"{name}: {rel} was not read as a log"
        assert logs[rel]["records"] == count, f"{name}: {rel} has {logs[rel]['records']} records, expected {count}"


@pytest.mark.parametrize("name", INCIDENTS)
def test_root_cause_and_failing_step(name, analysed):
    expected, result = analysed(name)
    failed = [i for i in result.document.get("incidents", []) if i["outcome"] == "failed"]
    want = expected.get("root_cause")
    if want is None:
        assert failed == [], f"{name}: the healthy control produced failed incidents {failed}"
        return
    got = [(i["root_cause"]["category"], i["failed_step"]) for i in failed if i["root_cause"]]
    assert (want["category"], want["step"]) in got, f"{name}: expected {want}, got {got}"
    if want.get("host"):
        incident = next(i for i in failed if i["root_cause"] and i["root_cause"]["category"] == want["category"])
        assert want["host"] in incident["hosts"]
