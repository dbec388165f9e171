"""One record stream for every log input: bytes -> (pre-stages) -> the one builder -> `record_facts` -> facts.

Files, `.gz` and stdin are opened the same way and their first block is sniffed (stdin too: it is not a slow path).
Plain log4j text streams through the fast filter (logs/blocks.py), which hands the byte ranges of the records that
may matter to the builder; journald/syslog wrapping and ticket pastes go through their pre-stages (logs/syslog.py,
logs/paste.py) and then every line goes to the same builder. Either way each record becomes facts in
`facts.record_facts`, so the choice changes the speed, never the facts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import sys
import threading
from collections.abc import Iterator

from diagnostics.facts import facts_from_records
from diagnostics.facts.block_search import available
from diagnostics.facts.registry import ExtractContext
from diagnostics.logs.blocks import CHUNK, _fill, scan_facts
from diagnostics.logs.header import HEADER_RE, ORIGIN_RE
from diagnostics.logs.interest import Interest, default_interest
from diagnostics.logs.paste import detect_paste
from diagnostics.logs.reader import SNIFF_LINES, LogStats, ReadOptions, file_side, read_records, side_votes_of_lines
from diagnostics.logs.syslog import SYSLOG_RE
from diagnostics.model import Fact
from diagnostics.sources.files import _read_error, display_name, open_binary


def plain_log4j(head_lines: list[str], opts: ReadOptions) -> bool:
    """Plain log4j text (the fast filter applies): timestamped headers, no journald wrapping, no ticket paste, no
    collector's origin tokens.
    The input may start mid-record (a rotated file, a cut excerpt): any header in the head will do."""
    if opts.paste:
        return False
    headers = 0
    for line in head_lines:
        if line[:1].isdigit() and HEADER_RE.match(line):
            headers += 1
        elif (o := ORIGIN_RE.match(line)) is not None and HEADER_RE.match(line, o.end()):
            return False  # merged by a collector: the filter counts records by their leading stamp; read every line
        elif line[:1].isalnum() and SYSLOG_RE.match(line):
            return False
    return headers > 0 and not detect_paste(head_lines)[0]


class _Prefixed(io.RawIOBase):
    """The sniffed first block, then the rest of the stream: what the line reader reads after a sniff."""

    def __init__(self, first: bytes, rest) -> None:
        self.first, self.pos, self.rest = first, 0, rest

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if self.pos < len(self.first):
            n = min(len(target), len(self.first) - self.pos)
            target[:n] = self.first[self.pos:self.pos + n]
            self.pos += n
            return n
        if self.rest is None:
            return 0
        data = self.rest.read1(len(target)) if hasattr(self.rest, "read1") else self.rest.read(len(target))
        target[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if self.rest is not None and self.rest is not sys.stdin.buffer:
            self.rest.close()
        super().close()


YOUNG_THRESHOLD = 10_000  # objects allocated between young collections while a log is read (CPython's default: 700)
_reading = [0]  # streams being read now (a caller may interleave several)
_reading_lock = threading.Lock()
_callers_threshold: list[int] = []  # the thresholds before the first of them started


@contextlib.contextmanager
def _fewer_young_collections():
    """Fewer cyclic-GC passes while facts pile up: every fact the caller keeps survives each young collection and is
    traversed again by the older ones, so with the default threshold the collector cost a fifth of a busy log's
    analysis (measured: tests/perf/bench_logs.py). Cycles are still collected, only less often. The caller's
    thresholds come back when the last stream ends."""
    with _reading_lock:  # a Dask worker may read in threads
        _reading[0] += 1
        if _reading[0] == 1:
            _callers_threshold[:] = gc.get_threshold()
            if _callers_threshold[0] < YOUNG_THRESHOLD:
                gc.set_threshold(YOUNG_THRESHOLD, *_callers_threshold[1:])
    try:
        yield
    finally:
        with _reading_lock:
            _reading[0] -= 1
            if _reading[0] == 0 and _callers_threshold[0] < YOUNG_THRESHOLD \
                    and gc.get_threshold()[0] == YOUNG_THRESHOLD:  # (unless the caller changed it meanwhile)
                gc.set_threshold(*_callers_threshold)


def stream_facts(path: str, opts: ReadOptions, stats: LogStats, *, interest: Interest | None = None,
                 progress=None) -> Iterator[Fact]:
    """Facts of one log input (path, or '-' for stdin). Raises SourceError when it cannot be opened; read errors
    later on are kept in `stats.read.errors` with everything read before them."""
    with _fewer_young_collections():
        yield from _stream_facts(path, opts, stats, interest=interest, progress=progress)


def _stream_facts(path: str, opts: ReadOptions, stats: LogStats, *, interest: Interest | None = None,
                  progress=None) -> Iterator[Fact]:
    interest = interest if interest is not None else default_interest()
    name = display_name(path)
    stream, stats.read.compressed = open_binary(path)
    first = bytearray(2 * CHUNK)  # the sniffed block stays where the fast filter reads on
    with memoryview(first) as view:
        n, failure = _fill(stream, view[:CHUNK], stats.read.compressed)
    head = bytes(first[:min(n, 1 << 16)]).decode("utf-8", "replace").splitlines()[:SNIFF_LINES]
    if failure is None and available(interest) and plain_log4j(head, opts):
        stats.reader = "fast"
        stats.side_votes.update(side_votes_of_lines(head))
        try:
            yield from scan_facts(path, opts, stats, progress, interest=interest, stream=stream, first=first, first_len=n)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        stats.side = file_side(stats.side_votes, stats.path)
        return
    stats.reader = "exact"
    if failure is None and not plain_log4j(head, opts):
        opts = dataclasses.replace(opts, message_records=True)  # pastes and prose: quoted messages count
    if failure is not None:  # the stream broke within the first block: read what came, say why it stopped
        stats.read.errors.append(_read_error(name, failure))
        if stream is not sys.stdin.buffer:
            stream.close()
        stream = None
    lines = io.BufferedReader(_Prefixed(bytes(first[:n]), stream), buffer_size=1 << 16)
    del first
    last = 0
    for fact in facts_from_records(read_records(path, opts, stats, stream=lines), ExtractContext(interest=interest)):
        if progress is not None and stats.read.bytes_read - last >= 1 << 20:
            progress(name, stats.read.bytes_read - last)
            last = stats.read.bytes_read
        yield fact
    if progress is not None:
        progress(name, stats.read.bytes_read - last)

