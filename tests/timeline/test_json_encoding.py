"""The timeline's JSON lines are the text `json.dumps(..., default=str)` of `Fact.to_dict()` gives, only cheaper."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from diagnostics.cli.timeline import _json_line
from diagnostics.logs.reader import ReadOptions
from diagnostics.model import FACT_KINDS
from diagnostics.pipeline import opened_inputs
from diagnostics.timeline import merged

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _reference_line(entry) -> str:
    """The encoding the timeline had before it was made faster: the specification of its bytes."""
    rec = entry.record
    return json.dumps({
        "type": "record", "ts": rec.ts.isoformat() if rec.ts else None, "path": rec.path, "line": rec.line,
        "level": rec.level, "logger": rec.logger, "thread": rec.thread, "ctx": list(rec.ctx), "jobs": list(rec.jobs),
        "logid": rec.logid, "format": rec.fmt, "message": rec.message, "continuation": rec.extra,
        "facts": [f.to_dict() for f in entry.facts],
    }, default=str) + "\n"


def _reference_dict(fact) -> dict:
    """Fact.to_dict as it was before field names were cached per class: the specification of its output."""
    out = {"kind": fact.kind}
    for f in dataclasses.fields(fact):
        value = getattr(fact, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (tuple, frozenset, set)):
            value = sorted(value) if isinstance(value, (frozenset, set)) else list(value)
        out[f.name] = value
    return out


def _entries(sample: Path):
    with opened_inputs([str(sample)]) as (found, _notes):
        logs = [i for i in found.inputs if i.kind == "log"]
        yield from merged(logs, ReadOptions(tz=timezone.utc, tz_name="UTC"), {})


@pytest.mark.parametrize("sample", sorted(p for p in SAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_")),
                         ids=lambda p: p.name)
def test_every_sample_line_is_byte_identical_to_json_dumps(sample):
    entries = list(_entries(sample))
    for entry in entries:
        assert _json_line(entry) == _reference_line(entry)


def test_samples_exercise_facts():
    """The comparison above would be vacuous without facts of many kinds."""
    kinds = {f.kind for s in SAMPLES.iterdir() if s.is_dir() and not s.name.startswith("_")
             for e in _entries(s) for f in e.facts}
    assert len(kinds) >= 5


@pytest.mark.parametrize("kind", sorted(FACT_KINDS))
def test_to_dict_is_the_plain_field_walk_for_every_kind(kind):
    """Every fact class, with each field holding a value of an awkward type (set, tuple, datetime, non-ASCII)."""
    cls = FACT_KINDS[kind]
    fact = cls()
    assert fact.to_dict() == _reference_dict(fact)
    when = datetime(2025, 3, 10, 16, 20, 31, 520000, tzinfo=timezone.utc)
    # frozenset({10, 3, 65}) iterates 65, 10, 3 (int hashes): only a sort gives to_dict's order
    values = [{"b", "a"}, frozenset({10, 3, 65}), ("x", "y"), when, "ünïcode", 7, 2.5, True, None]
    for i, f in enumerate(dataclasses.fields(cls)):
        setattr(fact, f.name, values[i % len(values)])
    assert fact.to_dict() == _reference_dict(fact)
    assert json.dumps(fact.to_dict(), default=str) == json.dumps(_reference_dict(fact), default=str)


def test_job_expansion_reads_records_only_and_finds_the_same_keys():
    """`--job` finds its logids and Seq numbers from the records alone, so its first pass builds no facts; the keys
    are those a pass with facts finds, for every job of every sample."""
    from diagnostics.timeline import Filters, find_related

    followed = 0
    for sample in sorted(p for p in SAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_")):
        with opened_inputs([str(sample)]) as (found, _notes):
            logs = [i for i in found.inputs if i.kind == "log"]
            opts = ReadOptions(tz=timezone.utc, tz_name="UTC")
            bare = list(merged(logs, opts, {}, facts=False))
            assert all(e.facts == [] for e in bare)
            jobs = {j for e in bare for j in e.record.jobs}
            for job in sorted(jobs):
                flt = Filters(job=job)
                assert not flt.expansion_needs_facts
                assert find_related(iter(bare), flt) == find_related(merged(logs, opts, {}), flt)
                followed += 1
    assert followed >= 5  # the samples hold jobs to follow
    assert Filters(vm="i-2-42-VM").expansion_needs_facts
