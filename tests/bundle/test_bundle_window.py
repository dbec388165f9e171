"""Time window and size cap: records (header + continuation) are kept or dropped together, and counted."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from bundle_inputs import MGMT_LOG

from diagnostics.bundle.window import WindowFilter, copy_tail, header_time, parse_since, rotated_before

NOW = datetime(2025, 3, 10, 18, 0, 0)


def _lines(text: str) -> list[bytes]:
    return text.encode().splitlines(keepends=True)


def test_since_keeps_records_in_the_window_with_their_stack_traces() -> None:
    w = WindowFilter(datetime(2025, 3, 10, 15, 11, 55))
    kept = b"".join(w.apply(_lines(MGMT_LOG))).decode()
    assert "release mem from host" not in kept and "===START===" not in kept
    assert "InsufficientServerCapacityException" in kept  # continuation of a kept record
    assert "\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart" in kept
    assert w.dropped_lines == 2
    assert w.kept_lines == len(_lines(MGMT_LOG)) - 2


def test_continuation_lines_of_a_dropped_record_are_dropped_too() -> None:
    w = WindowFilter(datetime(2025, 3, 10, 16, 0, 0))
    kept = b"".join(w.apply(_lines(MGMT_LOG))).decode()
    assert "InsufficientServerCapacityException" not in kept
    assert kept.startswith("2025-03-10 16:20:31,400")


def test_leading_orphan_lines_follow_the_first_record() -> None:
    text = "\tat a.b.C.d(C.java:1)\n" + MGMT_LOG
    inside = b"".join(WindowFilter(datetime(2025, 3, 10, 0, 0)).apply(_lines(text))).decode()
    outside = b"".join(WindowFilter(datetime(2025, 3, 10, 15, 11, 0)).apply(_lines(text))).decode()
    assert inside.startswith("\tat a.b.C.d")
    assert not outside.startswith("\tat")


def test_a_file_without_timestamps_is_kept_whole() -> None:
    text = "".join(f"line {i}\n" for i in range(1500))
    w = WindowFilter(datetime(2030, 1, 1))
    assert b"".join(w.apply(_lines(text))).decode() == text
    assert w.dropped_lines == 0


def test_until_end_bounds_the_window() -> None:
    w = WindowFilter(datetime(2025, 3, 10, 15, 11, 0), datetime(2025, 3, 10, 16, 0, 0))
    kept = b"".join(w.apply(_lines(MGMT_LOG))).decode()
    assert "===START===" in kept and "Seq 4-" not in kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2h", datetime(2025, 3, 10, 16, 0)), ("90m", datetime(2025, 3, 10, 16, 30)), ("1d", datetime(2025, 3, 9, 18, 0)),
     ("2025-03-10T15:00", datetime(2025, 3, 10, 15, 0)), ("2025-03-10 15:00:30", datetime(2025, 3, 10, 15, 0, 30))],
)
def test_since_accepts_durations_and_times(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_since_rejects_nonsense_with_a_message() -> None:
    with pytest.raises(ValueError, match="--since 'yesterday'"):
        parse_since("yesterday", NOW)


def test_header_time_accepts_both_layouts_and_rejects_continuations() -> None:
    assert header_time(b"2025-01-02T03:04:05,678 INFO x") == datetime(2025, 1, 2, 3, 4, 5)
    assert header_time(b"2025-01-02 03:04:05,678 INFO x") == datetime(2025, 1, 2, 3, 4, 5)
    assert header_time(b"\tat x") is None
    assert header_time(b"2025-13-45 03:04:05,678 bad date") is None


def test_rotated_files_before_the_window_are_recognised_by_name() -> None:
    start = datetime(2025, 3, 10, 9, 0)
    assert rotated_before("management-server.log.2025-03-08.gz", start)
    assert not rotated_before("management-server.log.2025-03-10.gz", start)
    assert not rotated_before("management-server.log.2025-03-09.gz", datetime(2025, 3, 9, 23, 0))
    assert not rotated_before("management-server.log", start)


def test_size_cap_keeps_the_newest_bytes_from_a_record_start_and_counts_dropped_lines() -> None:
    data = MGMT_LOG.encode()
    cap = len(data) - data.index(b"\tat com.cloud.vm.VirtualMachineManagerImpl")  # cut inside the stack trace
    out = io.BytesIO()
    cut = copy_tail(io.BytesIO(data), len(data), out, cap)
    kept = out.getvalue()
    assert kept.startswith(b"2025-03-10 16:20:31,400")  # moved on to the next record header
    assert data.endswith(kept)
    original = data.decode().splitlines()
    # line numbers map back: kept line i is original line lines_dropped + i
    assert kept.decode().splitlines()[0] == original[cut.lines_dropped]
    assert cut.bytes_dropped == len(data) - len(kept)


def test_size_cap_without_nearby_headers_cuts_at_a_line_start() -> None:
    data = "".join(f"plain line {i:05d}\n" for i in range(5000)).encode()
    out = io.BytesIO()
    cut = copy_tail(io.BytesIO(data), len(data), out, 1000)
    kept = out.getvalue()
    assert len(kept) <= 1000 and kept.startswith(b"plain line ") and data.endswith(kept)
    assert data.decode().splitlines()[cut.lines_dropped] == kept.decode().splitlines()[0]


def test_small_file_is_copied_whole() -> None:
    out = io.BytesIO()
    cut = copy_tail(io.BytesIO(b"a\nb\n"), 4, out, 100)
    assert out.getvalue() == b"a\nb\n" and cut.lines_dropped == 0


def test_since_with_a_zone_becomes_local_time_like_the_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert parse_since("2025-03-10T15:00:00Z", NOW) == datetime(2025, 3, 10, 16, 0)
        assert parse_since("2025-03-10T15:00:00+01:00", NOW) == datetime(2025, 3, 10, 15, 0)
    finally:
        monkeypatch.undo()
        time.tzset()
