"""Reading a log raises the cyclic GC's young threshold only while it reads, and gives the caller's back."""

from __future__ import annotations

import gc

import pytest

from diagnostics.logs.reader import LogStats, ReadOptions
from diagnostics.logs.stream import YOUNG_THRESHOLD, stream_facts

LOG = "samples/healthy-scale/management-server.log"


@pytest.fixture
def default_threshold():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_threshold_is_raised_while_reading_and_restored_after_the_last_fact(default_threshold):
    facts = stream_facts(LOG, ReadOptions(), LogStats(LOG))
    next(facts)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    list(facts)
    assert gc.get_threshold() == (700, 10, 10)


def test_threshold_is_restored_when_the_reader_is_abandoned_and_when_two_interleave(default_threshold):
    first = stream_facts(LOG, ReadOptions(), LogStats(LOG))
    second = stream_facts(LOG, ReadOptions(), LogStats(LOG))
    next(first)
    next(second)
    first.close()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the other one still reads
    second.close()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_callers_own_higher_threshold_is_left_alone(default_threshold):
    gc.set_threshold(50_000, 20, 20)
    list(stream_facts(LOG, ReadOptions(), LogStats(LOG)))
    assert gc.get_threshold() == (50_000, 20, 20)
