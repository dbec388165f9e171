"""Cadence quantiles: exact while a connection is slow, within 1 % once it carries bulk data."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.heartbeat.interval_stats import EXACT_LIMIT, IntervalStats


def nearest_rank(values, q):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_no_intervals_no_quantile():
    assert IntervalStats().quantile(0.5) is None


@given(st.lists(st.floats(min_value=0.0, max_value=1e5), min_size=1, max_size=EXACT_LIMIT))
def test_exact_for_a_heartbeat_sized_sample(values):
    stats = IntervalStats()
    for v in values:
        stats.add(v)
    for q in (0.5, 0.95):
        assert stats.quantile(q) == nearest_rank(values, q)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), extra=st.integers(min_value=1, max_value=2 * EXACT_LIMIT))
def test_within_one_percent_after_switching_to_the_histogram(seed, extra):
    rnd = random.Random(seed)
    values = [min(1e4, max(1e-6, rnd.lognormvariate(0.0, 3.0))) for _ in range(EXACT_LIMIT + extra)]
    stats = IntervalStats()
    for v in values:
        stats.add(v)
    assert stats.exact is None and stats.count == len(values)
    for q in (0.5, 0.95):
        assert stats.quantile(q) == pytest.approx(nearest_rank(values, q), rel=0.011)


def test_memory_stays_bounded_for_a_long_bulk_flow():
    stats = IntervalStats()
    for i in range(200_000):
        stats.add(0.001 * (1 + i % 50))
    assert stats.exact is None and len(stats.bins) < 500
    assert stats.quantile(0.5) == pytest.approx(0.025, rel=0.011)
