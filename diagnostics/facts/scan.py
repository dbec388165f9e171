"""The fast path: facts of a large log without parsing every line.

The file is read in 4 MiB blocks cut at record boundaries. One Hyperscan pass per block finds every extractor keyword
(and counts the records, see `block_search`); pings are filtered by `hot_keywords`; only the records around a hit
are decoded and parsed, walking back from a hit in a stack trace to its record's header line. The extractors are the
same as on the exact path (`facts_from_records`) and see the same records in the same order, so both paths give the
same facts; tests hold them to that. Only plain log4j files take this path (journald wrapping and ticket pastes go
through the exact reader). Figures: tests/perf/bench_logs.py.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from diagnostics.facts import TRACE_LINES
from diagnostics.facts.block_search import BlockSearch
from diagnostics.facts.keywords import EXTRACTORS_OF, database
from diagnostics.facts.registry import EXTRACTORS, FLUSHERS, ExtractContext, Extractor
from diagnostics.logs.reader import LogStats, ReadOptions, _Assembler
from diagnostics.model import Fact
from diagnostics.sources.files import MAX_LINE, _read_error, display_name, open_binary

CHUNK = 4 << 20  # small enough that the passes over a block (Hyperscan, pings, newlines, records) share the CPU cache
MAX_RECORD_LINES = 400  # continuation lines read after a hit's header (stack traces, domain XML)
_HEADER_START = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


def available() -> bool:
    """The fast path needs Hyperscan; without it every file goes through the exact reader."""
    return database() is not None


_ORDER = {ext: i for i, ext in enumerate(EXTRACTORS)}
_IN_HEADER = [frozenset(exts) for exts in EXTRACTORS_OF]  # per keyword: who wants a hit in the header line
_IN_TRACE = [frozenset(e for e in exts if e.in_trace) for exts in EXTRACTORS_OF]  # ... or further down the record
_NOT_RECORDS = ("orphan", "unparsed")  # as on the exact path: extractors see log4j records only


def _is_header(block, pos: int, limit: int) -> bool:
    return _HEADER_START.match(block, pos, limit) is not None


def _record_start(block, line_start: int, limit: int) -> int | None:
    """The header line of the record that contains the line at `line_start` (None: before any header)."""
    pos = line_start
    for _ in range(TRACE_LINES + 2):
        if _is_header(block, pos, limit):
            return pos
        if pos == 0:
            return None
        pos = block.rfind(b"\n", 0, pos - 1) + 1
    return None


def _record_end(block, start: int, limit: int) -> int:
    end = block.find(b"\n", start, limit)
    lines = 0
    while end != -1 and lines < MAX_RECORD_LINES:
        nxt = end + 1
        if nxt >= limit or _is_header(block, nxt, limit):
            return nxt
        end = block.find(b"\n", nxt, limit)
        lines += 1
    return limit if end == -1 else end + 1


def _cut(buf, limit: int) -> int:
    """Where to end this block: at the start of the last header line, so no record spans two blocks (else after the
    last whole line)."""
    pos = limit
    for _ in range(MAX_RECORD_LINES + 2):
        nl = buf.rfind(b"\n", 0, pos - 1)
        if nl == -1:
            break
        if _is_header(buf, nl + 1, limit):
            return nl + 1
        pos = nl + 1
    nl = buf.rfind(b"\n", 0, limit)
    return nl + 1 if nl != -1 else 0  # 0: not one whole line yet


def scan_facts(path: str, opts: ReadOptions, stats: LogStats, progress=None) -> Iterator[Fact]:
    """Facts of one plain log4j file (plain or gzip), in file order, in constant memory.

    The file is read into one reused buffer: a fresh multi-MiB object per read costs more than the keyword search.
    """
    name = display_name(path)
    stream, stats.read.compressed = open_binary(path)
    ctx = ExtractContext()
    asm = _Assembler(name, opts, stats, 1970, None)
    search = BlockSearch()
    buf = bytearray(2 * CHUNK)
    view = memoryview(buf)
    have = 0  # bytes carried over from the last read (the start of a record) at buf[:have]
    cutting = False  # inside an over-long line whose tail is being skipped
    line_base = 1
    try:
        while True:
            if len(buf) - have < CHUNK:  # one record longer than the buffer: make room
                view.release()
                buf.extend(bytes(CHUNK))
                view = memoryview(buf)
            n, failure = _fill(stream, view[have:have + CHUNK], stats.read.compressed)
            if failure is not None:
                stats.read.errors.append(_read_error(name, failure))
            if progress is not None and n:
                progress(name, n)
            stats.read.bytes_read += n
            end = have + n
            if end == 0:
                break
            last = not n or failure is not None
            cut = end if last else _cut(buf, end)
            if cut == 0:
                if end > 4 * MAX_LINE:  # one absurdly long line: keep its head, skip the rest
                    stats.read.truncated_lines += 0 if cutting else 1
                    cutting = True
                    have = MAX_LINE
                else:
                    have = end
                continue
            cutting = False
            lines = yield from _scan_block(buf, view, cut, line_base, asm, ctx, stats, search)
            stats.read.lines += lines
            line_base += lines
            tail = bytes(view[cut:end])
            buf[:len(tail)] = tail
            have = len(tail)
            if last:
                break
    finally:
        view.release()
        stream.close()
    for flush in FLUSHERS:
        yield from flush(ctx)


def _fill(stream, target: memoryview, compressed: bool) -> tuple[int, BaseException | None]:
    """Read into `target`; (bytes read, the error that ended the stream early). A gzip stream is read in pieces:
    one big read that hits a truncated member raises and would lose everything it had decompressed."""
    if not compressed:
        try:
            return stream.readinto(target) or 0, None
        except (EOFError, OSError, zlib.error) as exc:
            return 0, exc
    got = 0
    while got < len(target):
        try:
            piece = stream.read1(min(len(target) - got, 1 << 20))
        except (EOFError, OSError, zlib.error) as exc:
            return got, exc
        if not piece:
            break
        target[got:got + len(piece)] = piece
        got += len(piece)
    return got, None


def _scan_block(buf, view, limit: int, line_base: int, asm: _Assembler, ctx: ExtractContext, stats: LogStats,
                search: BlockSearch) -> Iterator[Fact]:
    """Facts of the records in buf[:limit]; returns the number of lines in it."""
    if stats.first_ts is None and _is_header(buf, 0, limit):
        rec = _parse(buf, 0, _record_end(buf, 0, limit), line_base, asm)
        if rec is not None:
            stats.first_ts = rec.ts
    last = buf.rfind(b"\n", 0, limit - 1) + 1
    if _is_header(buf, last, limit):
        rec = _parse(buf, last, limit, 0, asm)
        if rec is not None and rec.ts is not None:
            stats.last_ts = rec.ts
    # group keyword hits by record; a hit ending at `end` lies in the line of byte end - 1
    by_record: dict[int, set[Extractor]] = {}
    record_of_line: dict[int, int] = {}
    for kw_index, end in search.hits(buf, view, limit, ctx.scan_seen):
        at = end - 1
        line_start = buf.rfind(b"\n", 0, at) + 1
        rs = record_of_line.get(line_start)
        if rs is None:
            found = _record_start(buf, line_start, limit)
            rs = record_of_line[line_start] = found if found is not None else -1
        if rs == -1:
            continue
        if rs == line_start:  # the hit is in the header line
            wanted = _IN_HEADER[kw_index]
        else:
            header_end = buf.find(b"\n", rs, limit)
            wanted = _IN_HEADER[kw_index] if header_end == -1 or header_end >= at else _IN_TRACE[kw_index]
            if not wanted:
                continue
        bucket = by_record.get(rs)
        if bucket is None:
            by_record[rs] = set(wanted)
        else:
            bucket |= wanted
    counted_to, lineno = 0, line_base
    for rs in sorted(by_record):
        lineno += buf.count(b"\n", counted_to, rs)
        counted_to = rs
        rec = _parse(buf, rs, _record_end(buf, rs, limit), lineno, asm)
        if rec is None or rec.fmt in _NOT_RECORDS:
            continue
        chosen = by_record[rs]
        for ext in sorted(chosen, key=_ORDER.__getitem__) if len(chosen) > 1 else chosen:
            produced = ext.func(rec, ctx)
            if produced:
                yield from produced
    newlines = lineno - line_base + buf.count(b"\n", counted_to, limit)
    stats.records += search.records(buf, limit, newlines)
    return newlines


def _parse(block, start: int, end: int, lineno: int, asm: _Assembler):
    text = block[start:end].decode("utf-8", "replace")
    asm.current = None
    if text.find("\n", 0, len(text) - 1) == -1 and len(text) <= MAX_LINE:  # most hits: a one-line record
        line = text.rstrip("\n").rstrip("\r")
        rec = asm.header_record(lineno, line)
        if rec is not None:
            return rec
        asm.feed(lineno, line)
        return asm.flush()
    for offset, line in enumerate(text.rstrip("\n").split("\n")):
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
        asm.feed(lineno + offset, line.rstrip("\r"))
    return asm.flush()


def can_scan(head_lines: list[str]) -> bool:
    """Plain log4j (no journald prefix, no paste): the file starts with a timestamped header line."""
    from diagnostics.logs.paste import detect_paste

    first = next((line for line in head_lines if line.strip()), "")
    return _is_header(first.encode(), 0, len(first.encode())) and not detect_paste(head_lines)[0]
