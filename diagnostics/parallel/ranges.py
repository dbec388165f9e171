"""Byte ranges of one large plain log, read by several workers and merged into exactly the serial facts and summary.

Why the cuts are where they are: the fast filter (logs/blocks.py) reads a file in CHUNK-sized reads and cuts each
block at the last record start before the read's end. The per-block summary it keeps (first/last time, record count)
depends on those cuts, so ranges start only at cuts the serial run makes too: the last record start within the CHUNK
before a read's end is that read's cut whatever came before (`plan`). A cut is a header line, never inside a
multi-line record or a trace. A range's worker then reads read after read exactly as the serial loop does.

Why a merge is more than concatenation: a few extractors keep state across records of one input (a capacity-check
block open per thread, a host identity emitted once, the previous MAC of a NIC; `ExtractContext`), and the filter
skips pings of host identities it already knows. A worker of a later range does not know the state of the ranges
before it, so it notes every record that reads or writes that state (`_Recorder`) and ships the record instead of its
facts; the parent replays those records in file order with the one true state (`merge`). They are few: capacity
lines, first pings per host and range, `StartCommand` answers with NICs. A ping the serial run would have skipped
(its host was seen in an earlier range) is dropped with its record count. Everything else travels as facts plus
counters: no record text, no lines.

The first range runs with the real state of a fresh input (it is the start of the file) and ships its final state.
Known limit: the input's `side` comes from the first SIDE_VOTES records that name one; a later range's worker keeps
its own first SIDE_VOTES votes, so if the ranges before it hold fewer and pings it dropped were among those, the
side could be computed from fewer votes (only matters for a file of mixed sides with almost no records).
"""

from __future__ import annotations

import bisect
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.facts import record_facts
from diagnostics.facts.block_search import BlockSearch
from diagnostics.facts.hot_keywords import _IDENTITY_RE, PING_INDEX
from diagnostics.facts.registry import FLUSHERS, ExtractContext
from diagnostics.logs import blocks
from diagnostics.logs.reader import SNIFF_LINES, LogStats, ReadOptions, _Assembler, file_side, side_votes_of_lines
from diagnostics.model import Fact, Record
from diagnostics.sources.files import _read_error, display_name

MIN_RANGE_BYTES = 16 << 20  # a range below this costs more to start and merge than it saves


@dataclass(frozen=True, slots=True)
class Range:
    """One worker's share of a file: from `start` (a serial cut) through the block of read `stop_read` (None: EOF).
    Read number w ends at (w + 1) * CHUNK, as in the serial loop."""

    index: int
    start: int
    first_read: int
    stop_read: int | None
    stop: int | None  # where the next range starts (the cut of read `stop_read`)


@dataclass(slots=True)
class RangePart:
    """What a range's worker ships back: facts, counters, and the records whose facts depend on earlier ranges."""

    facts: list[Fact] = field(default_factory=list)
    replays: list[tuple[int, Record]] = field(default_factory=list)  # (position in facts, record), file order
    provisional: dict[int, tuple[tuple[bytes, ...], bool]] = field(default_factory=dict)  # ping record line -> (keys, other hits)
    votes: list[tuple[int, str]] = field(default_factory=list)  # (record line, side), in order (later ranges)
    side_votes: Counter = field(default_factory=Counter)  # the first range's votes (head included)
    layouts: Counter = field(default_factory=Counter)
    records: int = 0
    unparsed: int = 0
    orphans: int = 0
    lines: int = 0
    bytes_read: int = 0
    truncated_lines: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    errors: list[str] = field(default_factory=list)
    scan_seen: set[bytes] = field(default_factory=set)
    state: tuple | None = None  # the first range: (open_checks, nic_macs, seen) at its end


def eligible(path: str, opts: ReadOptions) -> bool:
    """Would the serial run read this input with the fast filter (a plain, uncompressed log4j file)? The same sniff
    as logs.stream, on the same bytes."""
    from diagnostics.facts.block_search import available
    from diagnostics.logs.stream import plain_log4j

    if path == "-" or not os.path.isfile(path) or opts.interest is None or not available(opts.interest):
        return False
    try:
        with open(path, "rb") as f:
            first = f.read(blocks.CHUNK)
    except OSError:
        return False
    if first[:2] == b"\x1f\x8b" or len(first) < blocks.CHUNK:
        return False
    head = first[:1 << 16].decode("utf-8", "replace").splitlines()[:SNIFF_LINES]
    return plain_log4j(head, opts)


def plan(path: str, range_bytes: int) -> list[Range]:
    """Ranges of about `range_bytes` (whole reads), each starting at a cut of the serial loop; one range when no
    such cut is found (a file of a few giant records)."""
    chunk = blocks.CHUNK
    size = os.path.getsize(path)
    per = max(1, range_bytes // chunk)
    starts: list[tuple[int, int]] = [(0, 0)]  # (first read, start offset)
    with open(path, "rb") as f:
        read = per
        while (read + 1) * chunk < size:  # read `read` must not be the last one: its block is cut normally
            f.seek((read - 1) * chunk)
            window = bytearray(f.read(chunk))
            cut = blocks._cut(window, len(window), 0) if len(window) == chunk else -1
            if cut > 0:
                starts.append((read, (read - 1) * chunk + cut))
                read += per
            else:
                read += 1  # no record start in that read: try the next one
    ranges = []
    for i, (first, start) in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        ranges.append(Range(i, start, first, nxt[0] - 1 if nxt else None, nxt[1] if nxt else None))
    return ranges


class _Recorder:
    """In a later range's worker: which record is being read, and whether it touched cross-record state."""

    def __init__(self) -> None:
        self.current: Record | None = None
        self.touched = False
        self.position = 0  # facts kept so far
        self.replays: list[tuple[int, Record]] = []
        self.provisional_lines: set[int] = set()

    def start(self, rec: Record) -> None:
        if rec is self.current or rec.line == 0:  # line 0: blocks parses a record only for its time
            return
        self.current, self.touched = rec, False
        if rec.line in self.provisional_lines:
            self.touch()

    def touch(self) -> None:
        if not self.touched and self.current is not None:
            self.touched = True
            self.replays.append((self.position, self.current))


class _StateDict(dict):
    """A dict of ExtractContext state that tells the recorder whenever an extractor uses it."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def get(self, *args):
        self.recorder.touch()
        return super().get(*args)

    def pop(self, *args):
        self.recorder.touch()
        return super().pop(*args)

    def __getitem__(self, key):
        self.recorder.touch()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self.recorder.touch()
        super().__setitem__(key, value)

    def __contains__(self, key):
        self.recorder.touch()
        return super().__contains__(key)

    def setdefault(self, *args):
        self.recorder.touch()
        return super().setdefault(*args)


class _StateSet(set):
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __contains__(self, key):
        self.recorder.touch()
        return super().__contains__(key)

    def add(self, key):
        self.recorder.touch()
        super().add(key)


class _Votes(Counter):
    """Side votes of a later range, logged with the record that cast them."""

    def __init__(self, recorder: _Recorder, log: list) -> None:
        super().__init__()
        self.recorder, self.log = recorder, log

    def __setitem__(self, key, value):
        if value > self.get(key, 0) and self.recorder.current is not None:
            self.log.append((self.recorder.current.line, key))
        super().__setitem__(key, value)


class _RecordingAssembler(_Assembler):
    def header_record(self, lineno: int, line: str):
        rec = super().header_record(lineno, line)
        if rec is not None:
            self.recorder.start(rec)
        return rec

    def flush(self):
        rec = super().flush()
        if rec is not None:
            self.recorder.start(rec)
        return rec


class _RangeSearch(BlockSearch):
    """The block search of a later range, noting the pings it lets through only because this worker has not seen
    their host yet (the serial run may have, in an earlier range)."""

    line_base = 1
    provisional: dict[int, tuple[tuple[bytes, ...], bool]]
    recorder: _Recorder

    def hits(self, buf, view, limit: int, seen: set[bytes]):
        found = super().hits(buf, view, limit, seen)
        pings = [end for index, end in found if index == PING_INDEX]
        if not pings:
            return found
        keys_at: dict[int, list[bytes]] = {}  # record start -> identities of the pings in it
        for end in pings:
            m = _IDENTITY_RE.match(buf, end, limit)
            if m is not None:  # an unreadable one is let through by every run
                keys_at.setdefault(blocks._record_start(buf, end - 1, 0, limit), []).append(m.group(0))
        ends = sorted(end for _index, end in found)
        line, counted = self.line_base, 0
        for start in sorted(keys_at):
            line += buf.count(b"\n", counted, start)
            counted = start
            stop = blocks._record_end(buf, start, limit)
            hits = bisect.bisect_right(ends, stop) - bisect.bisect_right(ends, start)  # hits whose end - 1 is in it
            keys = keys_at[start]
            self.provisional[line] = (tuple(keys), hits > len(keys))
            self.recorder.provisional_lines.add(line)
        return found


def read_range(path: str, opts: ReadOptions, rng: Range, progress=None) -> RangePart:
    """One range of a plain log (`plan`), read as the serial fast filter reads those bytes."""
    name = display_name(path)
    stats = LogStats(name)
    part = RangePart()
    recorder = _Recorder()
    if rng.index == 0:
        ctx = ExtractContext(interest=opts.interest)
        asm = _Assembler(name, opts, stats, 1970, None)
        search = BlockSearch(opts.interest)
    else:
        ctx = ExtractContext(open_checks=_StateDict(recorder), seen=_StateSet(recorder), nic_macs=_StateDict(recorder),
                             interest=opts.interest)
        stats.side_votes = _Votes(recorder, part.votes)
        asm = _RecordingAssembler(name, opts, stats, 1970, None)
        asm.recorder = recorder
        search = _RangeSearch(opts.interest)
        search.provisional, search.recorder = part.provisional, recorder
    with open(path, "rb") as f:
        for fact in _scan(f, name, rng, opts, stats, ctx, asm, search, progress):
            if recorder.touched:
                continue  # replayed by the parent
            part.facts.append(fact)
            recorder.position += 1
    part.replays = recorder.replays
    part.layouts, part.records, part.unparsed, part.orphans = stats.layouts, stats.records, stats.unparsed, stats.orphans
    part.lines, part.bytes_read = stats.read.lines, stats.read.bytes_read
    part.truncated_lines, part.errors = stats.read.truncated_lines, stats.read.errors
    part.first_ts, part.last_ts = stats.first_ts, stats.last_ts
    part.scan_seen = ctx.scan_seen
    if rng.index == 0:
        part.side_votes = stats.side_votes
        part.state = (ctx.open_checks, ctx.nic_macs, ctx.seen)
    else:
        part.layouts = Counter(stats.layouts)
    return part


def _scan(f, name: str, rng: Range, opts: ReadOptions, stats: LogStats, ctx: ExtractContext, asm: _Assembler,
          search: BlockSearch, progress):
    """The read loop of blocks.scan_facts (blocks.read_blocks) over one range: the same reads, cuts and blocks,
    without the flush at the end (the parent flushes after the last range)."""
    chunk = blocks.CHUNK
    buf = bytearray(2 * chunk)
    f.seek(rng.start)
    have = rng.first_read * chunk - rng.start  # the carry the serial loop holds before this range's first read
    with memoryview(buf) as view:
        if have:
            got = f.readinto(view[:have])
            if got != have:
                raise OSError(f"{name}: the file shrank while it was read")
            stats.read.bytes_read += have
        if rng.index == 0:
            n, _failure = blocks._fill(f, view[:chunk], False)
            head = bytes(buf[:min(n, 1 << 16)]).decode("utf-8", "replace").splitlines()[:SNIFF_LINES]
            stats.side_votes.update(side_votes_of_lines(head))
            f.seek(0)
    at_start = rng.index == 0
    line_base = 1
    for block in blocks.read_blocks(f, name, stats, buf, have, progress=progress):
        if isinstance(search, _RangeSearch):
            search.line_base = line_base
        lines = yield from blocks._scan_block(block.buf, block.view, block.cut, line_base, asm, ctx, stats, search, at_start)
        at_start = False
        stats.read.lines += lines
        line_base += lines
        if rng.stop_read is not None and rng.first_read + block.reads - 1 == rng.stop_read:
            if rng.start + block.dropped + block.cut != rng.stop:
                raise RuntimeError(f"{name}: range {rng.index} ends at byte {rng.start + block.dropped + block.cut}, "
                                   f"planned {rng.stop}")
            stats.read.bytes_read = rng.stop - rng.start
            break


def merge(name: str, parts: list[RangePart], opts: ReadOptions) -> tuple[LogStats, list[Fact]]:
    """The serial stats and facts of one input from its ranges' parts, in order: later ranges' records that depend
    on state are replayed with the state the ranges before them left; pings the serial run skips are dropped."""
    stats = LogStats(name)
    stats.reader = "fast"
    first = parts[0]
    ctx = ExtractContext(interest=opts.interest)
    ctx.open_checks, ctx.nic_macs, ctx.seen = first.state
    ctx.scan_seen = set(first.scan_seen)
    facts = list(first.facts)
    votes = Counter(first.side_votes)
    offset = first.lines
    for part in parts[1:]:
        for fact in part.facts:
            fact.line += offset
        pos = 0
        dropped: set[int] = set()
        for position, rec in part.replays:
            facts.extend(part.facts[pos:position])
            pos = position
            local = rec.line
            ping = part.provisional.get(local)
            if ping is not None:
                keys, other = ping
                built = other or any(key not in ctx.scan_seen for key in keys)
                ctx.scan_seen.update(keys)
                if not built:  # the serial filter knew this host by now: no record, no count
                    dropped.add(local)
                    part.layouts[rec.fmt] -= 1
                    continue
            rec.line = local + offset
            facts.extend(record_facts(rec, ctx))
        facts.extend(part.facts[pos:])
        ctx.scan_seen |= part.scan_seen
        total = sum(votes.values())
        for line, side in part.votes:
            if total >= blocks.SIDE_VOTES:
                break
            if line not in dropped:
                votes[side] += 1
                total += 1
        offset += part.lines
    for flush in FLUSHERS:
        facts.extend(flush(ctx))
    for part in parts:
        stats.layouts.update(part.layouts)
        stats.records += part.records
        stats.unparsed += part.unparsed
        stats.orphans += part.orphans
        stats.read.lines += part.lines
        stats.read.bytes_read += part.bytes_read
        stats.read.truncated_lines += part.truncated_lines
        stats.read.errors.extend(part.errors)
        if stats.first_ts is None:
            stats.first_ts = part.first_ts
        if part.last_ts is not None:
            stats.last_ts = part.last_ts
    stats.layouts = Counter({k: v for k, v in stats.layouts.items() if v})
    stats.side_votes = votes
    stats.side = file_side(votes, name)
    return stats, facts


def read_whole(path: str, opts: ReadOptions, range_bytes: int) -> tuple[LogStats, list[Fact]]:
    """Every range of one file, one after the other in this process (tests, and the reference for the runners)."""
    parts = [read_range(path, opts, rng) for rng in plan(path, range_bytes)]
    return merge(display_name(path), parts, opts)


__all__ = ["MIN_RANGE_BYTES", "Range", "RangePart", "eligible", "merge", "plan", "read_range", "read_whole"]
