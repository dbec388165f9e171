"""What a local worker sends back: its part with the facts packed by kind, rebuilt in the parent into equal facts."""

from __future__ import annotations

import os
import pickle
from datetime import timezone

import pytest

from conftest import ROOT, SAMPLE_DIRS, SAMPLES, make_log
from diagnostics.engine import load_rules
from diagnostics.logs import blocks
from diagnostics.logs.interest import interest_for
from diagnostics.logs.reader import ReadOptions
from diagnostics.model import FACT_KINDS, Fact
from diagnostics.parallel import ranges
from diagnostics.parallel.work import Shipped, pack_facts, unpack_facts
from diagnostics.pipeline import Collected, collect


def _fields(fact: Fact) -> tuple:
    return type(fact), tuple(getattr(fact, name) for name in type(fact).field_names())


def _roundtrip(part):
    return pickle.loads(pickle.dumps(Shipped(part), protocol=pickle.HIGHEST_PROTOCOL))


@pytest.mark.parametrize("sample", SAMPLE_DIRS)
def test_every_samples_facts_come_back_equal_in_kind_value_and_order(sample):
    facts = collect([os.path.join(SAMPLES, sample)], tz=timezone.utc, tz_name="UTC").facts
    part = Collected(facts=list(facts), notes=["kept"], tz_name="UTC")
    back = _roundtrip(part)
    assert type(back) is Collected and back.notes == ["kept"] and back.tz_name == "UTC"
    assert [_fields(f) for f in back.facts] == [_fields(f) for f in facts]
    assert part.facts == facts  # the worker's own part is left as it was


def test_every_fact_kind_survives_with_unusual_values():
    """Each kind, with every field set to a value of another type than usual: the packing never interprets values."""
    made = []
    for cls in FACT_KINDS.values():
        if cls is Fact:
            continue
        fact = object.__new__(cls)
        for i, name in enumerate(cls.field_names()):
            setattr(fact, name, (f"value {i}\u00e9", i, None, frozenset({i}))[i % 4])
        made.append(fact)
    groups, order = pack_facts(made + made[::-1])
    back = unpack_facts(*pickle.loads(pickle.dumps((groups, order))))
    assert [_fields(f) for f in back] == [_fields(f) for f in made + made[::-1]]
    assert len(groups) == len(made) and back[0] is not back[-1 - 0]


def test_a_byte_range_part_comes_back_with_its_facts_and_its_replayed_records(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks, "CHUNK", 64 << 10)  # small reads: a few MiB hold many ranges
    path = tmp_path / "management-server.log"
    make_log(str(path), 3 << 20, seed=11)
    opts = ReadOptions(tz=timezone.utc, tz_name="UTC", interest=interest_for(load_rules([]).rules))
    planned = ranges.plan(str(path), 256 << 10)
    assert len(planned) > 4 and any(ranges.read_range(str(path), opts, rng).replays for rng in planned[1:])
    for rng in planned:
        part = ranges.read_range(str(path), opts, rng)
        back = _roundtrip(part)
        assert [_fields(f) for f in back.facts] == [_fields(f) for f in part.facts]
        assert [(pos, rec.line, rec.message) for pos, rec in back.replays] == [(pos, rec.line, rec.message)
                                                                            for pos, rec in part.replays]
        assert (back.records, back.lines, back.first_ts, back.last_ts) == (part.records, part.lines, part.first_ts,
                                                                           part.last_ts)


def test_nothing_but_a_fact_class_is_rebuilt():
    class NotAFact:
        __slots__ = ("a",)

    with pytest.raises(TypeError):
        from diagnostics.parallel.work import _maker

        _maker(NotAFact)
