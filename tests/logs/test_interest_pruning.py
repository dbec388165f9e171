"""Build only what is read: with the rules loaded, records that can feed no rule and no correlation (quiet records of
benign catalogue templates: pings, empty "behind on ping" lists) get no fact, and nothing a reader sees changes.

The analysis of every sample and of a busy production-like mix is run twice, with the pruned interest and with the
full one (`interest_for(..., prune=False)`); findings, incidents, inputs and status must be the same document but
for the fact counts (and the fast path's count of records read closely per layout; the layouts seen stay).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from datetime import timezone
from pathlib import Path

import pytest

import diagnostics.pipeline as pipeline
from diagnostics.analysis import analyze_paths
from diagnostics.engine import load_rules
from diagnostics.logs.interest import interest_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FOLDERS = sorted(d.name for d in SAMPLES.iterdir() if d.is_dir() and not d.name.startswith("_"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "perf"))
from make_log import build  # noqa: E402  (the benchmark's own generator: the production mix)


def _doc(paths: list[str], prune: bool, monkeypatch) -> dict:
    monkeypatch.setattr(pipeline, "interest_for", functools.partial(interest_for, prune=prune))
    doc = analyze_paths(paths, tz=timezone.utc, tz_name="UTC").document
    doc = json.loads(json.dumps(doc, default=str))
    doc.pop("generated", None)
    doc["summary"].pop("facts", None)  # the one figure that must change: facts nobody reads are not built
    for item in doc["inputs"]:
        item.pop("facts", None)
        if "layouts" in item:  # on the fast path: records read closely per header layout; the layouts seen stay
            item["layouts"] = sorted(item["layouts"])
    return doc


@pytest.mark.parametrize("folder", FOLDERS)
def test_pruning_changes_no_finding_and_no_incident_on_any_sample(folder: str, monkeypatch) -> None:
    paths = [str(SAMPLES / folder)]
    assert _doc(paths, True, monkeypatch) == _doc(paths, False, monkeypatch)


def test_pruning_keeps_the_production_mix_document_and_drops_most_facts(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "management-server.log"
    build(str(path), 3 << 20, seed=11, profile="production")
    pruned, full = _doc([str(path)], True, monkeypatch), _doc([str(path)], False, monkeypatch)
    assert pruned == full
    assert pruned["findings"] or pruned["incidents"]  # the mix has failures: the comparison is not of two empty lists
    monkeypatch.setattr(pipeline, "interest_for", functools.partial(interest_for, prune=True))
    few = analyze_paths([str(path)], tz=timezone.utc).document["summary"]["facts"]
    monkeypatch.setattr(pipeline, "interest_for", functools.partial(interest_for, prune=False))
    many = analyze_paths([str(path)], tz=timezone.utc).document["summary"]["facts"]
    assert few * 3 < many  # pings and empty ping lists were most of the facts


def test_a_rule_that_reads_benign_records_gets_them_back() -> None:
    """The pruning follows the rules: a rule on benign templates brings their literals back into the filter."""
    from diagnostics.engine.loader import build_rule

    text = '''
id = "x.benign-reader"
title = "t"
category = "agent_connectivity"
severity = "info"
confidence = 0.5
condition = 'log_record.relevance == "benign"'
message = "m"

[[example]]
expect = "match"
log = """
2025-03-10 00:00:00,043 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-17:[]) (logid:) Ping from Routing host 8(kvm08)
"""

[[example]]
expect = "no-match"
log = """
2025-03-10 00:00:00,044 DEBUG [c.c.a.ApiServlet] (qtp1850777594-3:[ctx-6f066429]) (logid:6f066429) ===START===  10.20.0.3 -- GET  command=listVirtualMachines
"""
'''
    import tomllib

    rule = build_rule(tomllib.loads(text), text, "x.toml")
    builtin = load_rules([]).rules
    without = {t for t, _ in interest_for(builtin).literals}
    with_reader = {t for t, _ in interest_for([*builtin, rule]).literals}
    assert "Ping from Routing host" not in without
    assert "Ping from Routing host" in with_reader
    assert with_reader >= without
