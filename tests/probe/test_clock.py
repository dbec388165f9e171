"""Clock offset from one bracketed `date +%s.%N` reading."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnostics.probe import clock_offset
from diagnostics.probe.clock import best_clock_offset


def test_a_host_ten_seconds_ahead():
    offset = clock_offset(1000.0, 1000.2, "1010.100000000\n")
    assert offset.offset_s == pytest.approx(10.0)
    assert offset.uncertainty_s == pytest.approx(0.1)


@pytest.mark.parametrize("text", ["", "1700000000.%N", "Mon Nov 23 21:40:00 UTC 2026", "nan", "inf"])
def test_output_that_is_not_a_reading_gives_none(text):
    assert clock_offset(1000.0, 1000.2, text) is None


@given(
    sent=st.floats(1e9, 2e9),
    round_trip=st.floats(0, 5),
    true_offset=st.floats(-3600, 3600),
    where=st.floats(0, 1),
)
def test_the_true_offset_lies_within_the_uncertainty(sent, round_trip, true_offset, where):
    received = sent + round_trip
    remote_reading = sent + where * round_trip + true_offset  # the host read its clock somewhere in the round trip
    offset = clock_offset(sent, received, f"{remote_reading:.9f}")
    assert abs(offset.offset_s - true_offset) <= offset.uncertainty_s + 1e-5


def test_the_tightest_round_trip_wins_and_unusable_readings_are_skipped():
    samples = [(100.0, 100.4, "105.3"), (101.0, 101.002, "106.0015"), (102.0, 102.001, "garbage"), (103.0, 103.01, "108.0")]
    best = best_clock_offset(samples)
    assert best.offset_s == pytest.approx(5.0005) and best.uncertainty_s == pytest.approx(0.001)
    assert best_clock_offset([(1.0, 2.0, "x")]) is None and best_clock_offset([]) is None
