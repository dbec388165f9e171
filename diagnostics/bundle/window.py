"""Keep what matters of a big log: records inside a time window (`--since`), then the newest bytes (size cap).

Why records and not lines: a Java stack trace has no timestamp of its own, so continuation lines follow the
decision made for their header line. Both steps stream in constant memory and count what they dropped, so the
manifest can say honestly that a file is partial.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from diagnostics.bounded import bounded_seconds, parse_number, shift

_TS = re.compile(rb"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATED_NAME = re.compile(r"\.(\d{4}-\d{2}-\d{2})(?:\.gz)?$")
_MAX_LINE = 1 << 24  # bound on one readline while looking for a cut point
LOOKAHEAD_LINES = 1000  # leading lines kept waiting for the first header before a file counts as "no timestamps"


def parse_since(text: str, now: datetime) -> datetime:
    """`2h`, `90m`, `1d` (before `now`) or an ISO time `2025-03-10T15:00` / `2025-03-10 15:00:00` / `...Z`.

    The result is naive local time, like the timestamps log4j writes.

    Raises ValueError with a message fit for the user.
    """
    m = _DURATION.match(text)
    if m:
        amount = parse_number(m.group(1), what="--since")
        seconds = bounded_seconds(amount * _UNITS[m.group(2).lower()], what=f"--since {text.strip()[:20]!r}")
        return shift(now, -timedelta(seconds=seconds))
    if len(text) > 64:
        raise ValueError(f"--since {text[:20]!r}...: expected a duration like 2h, 30m, 1d or a time like 2025-03-10T15:00")
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a duration like 2h, 30m, 1d or a time like 2025-03-10T15:00") from None
    if when.tzinfo is not None:  # log4j writes local time without a zone: compare in this machine's local time
        when = when.astimezone().replace(tzinfo=None)
    return when


def header_time(line: bytes) -> datetime | None:
    """The log4j timestamp that starts a record line, or None for a continuation line."""
    m = _TS.match(line)
    if not m:
        return None
    try:
        return datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def rotated_before(name: str, start: datetime) -> bool:
    """`management-server.log.2025-01-01.gz` holds only that day: skip it whole when the window starts later."""
    m = _DATED_NAME.search(name)
    if not m:
        return False
    try:
        day = datetime.fromisoformat(m.group(1))
    except ValueError:
        return False
    return day + timedelta(days=1) <= start


@dataclass(slots=True)
class WindowFilter:
    """Keeps records whose header time is >= start (and < end, when given)."""

    start: datetime | None
    end: datetime | None = None
    dropped_lines: int = 0
    kept_lines: int = 0
    headers_seen: int = 0

    def _inside(self, ts: datetime) -> bool:
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)

    def apply(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        it = iter(lines)
        pending: list[bytes] = []
        first: bytes | None = None
        keep = True
        # Lines before the first header belong to a record that started in an older file: they follow that header's
        # verdict. If no header comes soon, the file is not a timestamped log and is kept whole.
        for line in it:
            ts = header_time(line)
            if ts is None:
                pending.append(line)
                if len(pending) >= LOOKAHEAD_LINES:
                    break
                continue
            self.headers_seen += 1
            keep = self._inside(ts)
            first = line
            break
        if first is not None:
            pending.append(first)
        if keep:
            self.kept_lines += len(pending)
            yield from pending
        else:
            self.dropped_lines += len(pending)
        del pending
        for line in it:
            ts = header_time(line)
            if ts is not None:
                self.headers_seen += 1
                keep = self._inside(ts)
            if keep:
                self.kept_lines += 1
                yield line
            else:
                self.dropped_lines += 1


@dataclass(slots=True)
class TailCut:
    """What `copy_tail` left out."""

    bytes_dropped: int = 0
    lines_dropped: int = 0


def copy_tail(src: BinaryIO, size: int, dst: BinaryIO, cap: int, chunk: int = 1 << 20) -> TailCut:
    """Copy the last `cap` bytes of `src` (of `size` bytes) to `dst`, starting at a line start.

    The cut moves forward to the next record header when one is near, so the kept part does not begin in the
    middle of a stack trace. Counting the dropped lines keeps `path:line` translatable to the original.
    """
    cut = TailCut()
    src.seek(0)
    if size <= cap:
        _copy(src, dst, chunk)
        return cut
    start = size - cap
    remaining = start
    while remaining > 0:  # count newlines in the dropped head, streaming
        block = src.read(min(chunk, remaining))
        if not block:
            break
        cut.lines_dropped += block.count(b"\n")
        remaining -= len(block)
    if start > 0:
        src.seek(start - 1)
        if src.read(1) != b"\n":
            partial = src.readline(_MAX_LINE)  # finish the line that the cut went through
            start += len(partial)
            cut.lines_dropped += 1 if partial.endswith(b"\n") else 0
    # Move on to the next record header within a bounded number of lines.
    src.seek(start)
    offset, skipped, found = start, 0, False
    for _ in range(LOOKAHEAD_LINES):
        line = src.readline(_MAX_LINE)
        if not line:
            break
        if header_time(line) is not None:
            found = True
            break
        offset += len(line)
        skipped += 1
    begin = offset if found else start
    cut.lines_dropped += skipped if found else 0
    src.seek(begin)
    cut.bytes_dropped = begin
    _copy(src, dst, chunk)
    return cut


def _copy(src: BinaryIO, dst: BinaryIO, chunk: int) -> None:
    while True:
        block = src.read(chunk)
        if not block:
            return
        dst.write(block)
