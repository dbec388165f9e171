"""The fast filter: which byte ranges of a large log hold records worth reading, handed to the one record builder.

The input is read in 4 MiB blocks cut at record starts. One Hyperscan pass per block (facts.block_search) finds what
is derived from elsewhere, never typed here: the extractors' keywords, the loud level fields, the exception suffix
and the interest literals of the catalogue and the rules. Pings are thinned by `hot_keywords`. For each hit the
record around it is found with the builder's own test of a record start (`_Assembler.starts_record`, the header
grammar of `header.py`), its lines go through the builder (`reader._Assembler`) and the record through the one
`facts.record_facts`, exactly as on the exact path. A record without a hit gives no fact on the exact path either,
so both paths give the same facts; tests/logs/test_stream_property.py holds them to that on generated logs.

Lines before the first record start of the input (a file that starts mid-record, a header-less excerpt) are fed to
the builder line by line, as the exact reader does. Figures: tests/perf/bench_logs.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from diagnostics.facts import NOT_RECORDS, record_facts
from diagnostics.facts.block_search import GENERIC, NOT_A_RECORD, BlockSearch
from diagnostics.facts.keywords import KEYWORD_BYTES
from diagnostics.facts.registry import FLUSHERS, ExtractContext
from diagnostics.logs.interest import Interest
from diagnostics.logs.reader import LogStats, ReadOptions, _Assembler
from diagnostics.logs.record_fact import side_of_record
from diagnostics.model import Fact
from diagnostics.sources.files import MAX_LINE, READ_ERRORS, _read_error, display_name

CHUNK = 4 << 20  # small enough that the passes over a block (Hyperscan, pings, newlines, records) share the CPU cache
_DATE = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
# What header.HEADER_RE requires of a line (all after the logger is optional there), in bytes: a line it matches
# is a header for the builder too (the converse need not hold; those lines get the builder's own test).
_HEADER_PREFIX = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{1,9})?[ \t]+(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)"
                            rb"[ \t]+\[[^\]\n]*\]")
_MONTH_INITIALS = frozenset(b"ADFJMNOS")  # a classic syslog stamp starts with a month name
_ORIGIN = re.compile(rb"\[?[A-Za-z][\w.-]{0,62}\]?:?[ \t]+\d{4}-\d\d-\d\d[ T]\d\d:")  # header.ORIGIN_RE, in bytes
SIDE_VOTES = 2000  # records whose side names the input's side (every record still gets its own side)
# gzip is read in small pieces: a read that hits a truncated member raises and loses what it decompressed (ISA-L
# decompresses up to 512 KiB per call), so pieces this small keep nearly every line before the cut
GZIP_PIECE = 16 << 10
RECORD_CAP = 64 << 20  # a record longer than this (MAX_CONTINUATION lines of over 12 KiB) is read in pieces


def _starts_record(buf, pos: int, limit: int) -> bool:
    """Does the line at `pos` start a record for the builder? Cheap byte tests first, the builder's own test when
    they cannot tell."""
    if pos >= limit:
        return False
    c = buf[pos]
    if 0x30 <= c <= 0x39:
        if _HEADER_PREFIX.match(buf, pos, limit) is not None:
            return True
        if _DATE.match(buf, pos, limit) is None:
            return False
    elif c not in _MONTH_INITIALS and _ORIGIN.match(buf, pos, limit) is None:
        return False
    end = buf.find(b"\n", pos, min(limit, pos + MAX_LINE))
    line = bytes(buf[pos:end if end != -1 else min(limit, pos + MAX_LINE)]).decode("utf-8", "replace").rstrip("\r")
    return _Assembler.starts_record(line)


def _record_start(buf, at: int, floor: int, limit: int) -> int:
    """The start of the record holding byte `at`: walk back line by line, never before `floor` (a record start)."""
    pos = buf.rfind(b"\n", floor, at) + 1
    if pos < floor:
        pos = floor
    while pos > floor and not _starts_record(buf, pos, limit):
        pos = buf.rfind(b"\n", floor, pos - 1) + 1
        if pos < floor:
            pos = floor
    return pos


def _record_end(buf, start: int, limit: int) -> int:
    """The end of the record starting at `start`: the next line that starts a record, or `limit`."""
    end = buf.find(b"\n", start, limit)
    while end != -1:
        nxt = end + 1
        if nxt >= limit or _starts_record(buf, nxt, limit):
            return nxt
        end = buf.find(b"\n", nxt, limit)
    return limit


def _cut(buf, limit: int, floor: int = 0) -> int:
    """Where to end this block: at the start of the last record, so no record spans two blocks. 0: not one whole
    line yet; -1: one record fills the buffer (read on; `floor` is where this walk may stop, the earlier reads had
    no record start). A record longer than RECORD_CAP is cut after its last whole line."""
    pos = limit
    while True:
        nl = buf.rfind(b"\n", floor, pos - 1)
        if nl == -1:
            break
        if _starts_record(buf, nl + 1, limit):
            return nl + 1
        pos = nl + 1
    nl = buf.rfind(b"\n", 0, limit)
    if nl == -1:
        return 0
    return -1 if limit < RECORD_CAP else nl + 1


def scan_facts(path: str, opts: ReadOptions, stats: LogStats, progress=None, *, interest: Interest,
               stream: BinaryIO, first: bytearray | None = None, first_len: int = 0) -> Iterator[Fact]:
    """Facts of one plain log4j input (file, gzip or stdin) from the open binary `stream`, whose first `first_len`
    bytes were already read into `first` (a buffer of at least 2 * CHUNK bytes, taken over here); in file order,
    in constant memory. Closes nothing: the caller owns the stream.

    The input is read into one reused buffer: a fresh multi-MiB object per read costs more than the search.
    """
    name = display_name(path)
    ctx = ExtractContext(interest=interest)
    asm = _Assembler(name, opts, stats, 1970, None)
    search = BlockSearch(interest)
    buf = first if first is not None and len(first) >= 2 * CHUNK else bytearray(2 * CHUNK)
    if first is not None and buf is not first:
        buf[:first_len] = first[:first_len]
    line_base = 1
    at_start = True
    for block in read_blocks(stream, name, stats, buf, sniffed=first_len, compressed=stats.read.compressed,
                             progress=progress):
        lines = yield from _scan_block(block.buf, block.view, block.cut, line_base, asm, ctx, stats, search, at_start)
        at_start = False
        stats.read.lines += lines
        line_base += lines
    for flush in FLUSHERS:
        yield from flush(ctx)


@dataclass(slots=True)
class Block:
    """One block of `read_blocks`: whole records at buf[:cut], valid until the next block is asked for."""

    buf: bytearray
    view: memoryview
    cut: int
    reads: int  # reads of CHUNK made so far, this block's included
    dropped: int  # input bytes before buf[0] since reading began (earlier blocks, skipped tails of over-long lines)
    last: bool


def read_blocks(stream: BinaryIO, name: str, stats: LogStats, buf: bytearray, have: int = 0, *, sniffed: int = 0,
                compressed: bool = False, progress=None) -> Iterator[Block]:
    """The one read-and-cut loop of the fast filter (scan_facts, and each byte range of parallel/ranges.py, which
    must cut exactly where the serial run cuts): reads of CHUNK into one reused buffer, each block cut at the start
    of its last record and the rest carried to the next read. `buf` (>= 2 * CHUNK) holds `have` bytes carried from
    before, or `sniffed` bytes already read from the stream (counted as its first read). Read errors end the input
    with one line in stats.read.errors; bytes and truncated lines are counted in stats.read."""
    view = memoryview(buf)
    cutting = False  # inside an over-long line whose tail is being skipped
    walked = 0  # bytes at buf[:walked] hold no record start but the one at 0 (see _cut)
    reads = dropped = 0
    try:
        while True:
            if len(buf) - have < CHUNK:  # one record longer than the buffer: make room
                view.release()
                buf.extend(bytes(CHUNK))
                view = memoryview(buf)
            if sniffed:
                n, failure, end, have, sniffed = sniffed, None, sniffed, 0, 0
            else:
                n, failure = _fill(stream, view[have:have + CHUNK], compressed)
                end = have + n
            stats.read.bytes_read += n
            reads += 1
            if failure is not None:
                stats.read.errors.append(_read_error(name, failure))
            if progress is not None and n:
                progress(name, n)
            if end == 0:
                break
            last = not n or failure is not None
            cut = end if last else _cut(buf, end, max(0, walked - 1))
            if cut == -1:  # one record so far: read on
                walked, have = end, end
                continue
            walked = 0
            if cut == 0:
                if end > 4 * MAX_LINE:  # one absurdly long line: keep its head, skip the rest
                    stats.read.truncated_lines += 0 if cutting else 1
                    cutting = True
                    dropped += end - MAX_LINE
                    have = MAX_LINE
                else:
                    have = end
                continue
            cutting = False
            yield Block(buf, view, cut, reads, dropped, last)
            tail = bytes(view[cut:end])
            buf[:len(tail)] = tail
            have = len(tail)
            dropped += cut
            if last:
                break
    finally:
        view.release()


def _fill(stream, target: memoryview, compressed: bool) -> tuple[int, BaseException | None]:
    """Read into `target`; (bytes read, the error that ended the stream early). A gzip stream is read in pieces:
    one big read that hits a truncated member raises and would lose everything it had decompressed."""
    if not compressed:
        try:
            got = 0
            while got < len(target):  # a pipe gives what it has: fill the block
                n = stream.readinto(target[got:])
                if not n:
                    break
                got += n
            return got, None
        except READ_ERRORS as exc:
            return 0, exc
    got = 0
    while got < len(target):
        try:
            piece = stream.read1(min(len(target) - got, GZIP_PIECE))
        except READ_ERRORS as exc:
            return got, exc
        if not piece:
            break
        target[got:got + len(piece)] = piece
        got += len(piece)
    return got, None


def _scan_block(buf, view, limit: int, line_base: int, asm: _Assembler, ctx: ExtractContext, stats: LogStats,
                search: BlockSearch, at_start: bool) -> Iterator[Fact]:
    """Facts of the records in buf[:limit]; returns the number of lines in it."""
    floor = 0
    if at_start:  # the input's first lines up to its first record start: line by line, as the exact reader does
        floor = 0 if _starts_record(buf, 0, limit) else _record_end(buf, 0, limit)
        if floor:
            yield from _feed_lines(buf, 0, floor, line_base, asm, ctx, stats)
    if stats.first_ts is None:
        rec = _parse(buf, floor, _record_end(buf, floor, limit), 0, asm) if floor < limit else None
        if rec is not None and rec.ts is not None:
            stats.first_ts = rec.ts
    lastline = buf.rfind(b"\n", 0, limit - 1) + 1
    if _starts_record(buf, lastline, limit):
        rec = _parse(buf, lastline, limit, 0, asm)
        if rec is not None and rec.ts is not None:
            stats.last_ts = rec.ts
    hits = sorted((end, index) for index, end in search.hits(buf, view, limit, ctx.scan_seen))
    counted_to, lineno = 0, line_base
    layouts = stats.layouts
    votes = sum(stats.side_votes.values())
    ranges: list[list] = []  # [start, end, [(keyword index, hit end), ...], a GENERIC hit among them]
    record_end = floor
    rfind, find, header = buf.rfind, buf.find, _HEADER_PREFIX.match
    for end, index in hits:
        at = end - 1
        if at < record_end:
            if ranges:  # else: in the head fed line by line above
                current = ranges[-1]
                current[2].append((index, end))
                if index == GENERIC:
                    current[3] = True
            continue
        # most hits lie in a one-line record: its own line a header, the next line one too (the tests of
        # _record_start/_record_end that answer first, inline); anything else takes the general walk
        start = rfind(b"\n", record_end, at) + 1
        if start < record_end:
            start = record_end
        elif start > record_end and header(buf, start, limit) is None:
            start = _record_start(buf, at, record_end, limit)
        nl = find(b"\n", start, limit)
        if nl == -1:
            record_end = limit
        elif nl + 1 >= limit or header(buf, nl + 1, limit) is not None:
            record_end = nl + 1
        else:
            record_end = _record_end(buf, start, limit)
        ranges.append([start, record_end, [(index, end)], index == GENERIC])
    count = buf.count
    for start, stop, found, generic in ranges:
        lineno += count(b"\n", counted_to, start)
        counted_to = start
        rec = _parse(buf, start, stop, lineno, asm, view)
        if rec is None:
            continue
        fmt = rec.fmt
        if fmt in NOT_RECORDS:
            continue
        layouts[fmt] += 1
        if votes < SIDE_VOTES:
            side = side_of_record(rec)
            if side is not None:
                stats.side_votes[side] += 1
                votes += 1
        if rec.extra:
            in_message = None
        elif len(found) == 1 and stop - start <= MAX_LINE:  # most records: one line, one hit
            in_message = _one_keyword(rec.message, buf, stop, found[0])
        else:
            in_message = _message_keywords(rec, buf, start, stop, found)
        produced = record_facts(rec, ctx, generic, in_message)
        if produced:
            yield from produced
    newlines = lineno - line_base + buf.count(b"\n", counted_to, limit)
    stats.records += search.records(buf, limit, newlines)
    return newlines


def _message_keywords(rec, buf, start: int, stop: int, found: list) -> set[int] | None:
    """The keywords in a one-line record's message, from the block's hits (None: let the record be searched).
    A hit counts where the keyword lies wholly in the message, as a search of `rec.message` would find it."""
    if rec.extra or stop - start > MAX_LINE:
        return None
    line = rec.message
    if "\ufffd" in line:  # replaced bytes: character and byte offsets part ways
        return None
    end_of_line = stop - 1 if buf[stop - 1] == 0x0A else stop
    if end_of_line > start and buf[end_of_line - 1] == 0x0D:
        end_of_line -= 1
    message_start = end_of_line - (len(line) if line.isascii() else len(line.encode("utf-8", "surrogatepass")))
    return {index for index, end in found if index < NOT_A_RECORD and end - len(KEYWORD_BYTES[index]) >= message_start}


def _one_keyword(line: str, buf, stop: int, hit: tuple[int, int]) -> set[int] | None:
    """`_message_keywords` of a one-line record with one hit (the common case, without the general bookkeeping)."""
    ascii = line.isascii()
    if not ascii and "\ufffd" in line:  # replaced bytes: character and byte offsets part ways
        return None
    index, end = hit
    if index >= NOT_A_RECORD:
        return set()
    end_of_line = stop - 1 if buf[stop - 1] == 0x0A else stop
    if end_of_line > 0 and buf[end_of_line - 1] == 0x0D:
        end_of_line -= 1
    message_start = end_of_line - (len(line) if ascii else len(line.encode("utf-8", "surrogatepass")))
    return {index} if end - len(KEYWORD_BYTES[index]) >= message_start else set()


def _feed_lines(buf, start: int, end: int, lineno: int, asm: _Assembler, ctx: ExtractContext, stats: LogStats) -> Iterator[Fact]:
    """Records of buf[start:end] built line by line (the head of an input that starts mid-record)."""
    asm.current = None
    text = bytes(buf[start:end]).decode("utf-8", "replace")
    done_records = []
    for offset, line in enumerate(text.rstrip("\n").split("\n")):
        done = asm.feed(lineno + offset, line[:MAX_LINE].rstrip("\r"))
        if done is not None:
            done_records.append(done)
    done = asm.flush()
    if done is not None:
        done_records.append(done)
    for rec in done_records:
        if rec.fmt == "orphan":
            stats.orphans += 1
            stats.unparsed += 1
            continue
        if rec.fmt in NOT_RECORDS:
            stats.unparsed += 1
            continue
        stats.records += 1
        stats.layouts[rec.fmt] += 1
        yield from record_facts(rec, ctx)


def _parse(block, start: int, end: int, lineno: int, asm: _Assembler, view=None):
    """The record the builder makes of block[start:end] (`view`: a memoryview of `block`, decoded without a copy)."""
    text = str(view[start:end] if view is not None else block[start:end], "utf-8", "replace")
    asm.current = None
    if text.find("\n", 0, len(text) - 1) == -1 and len(text) <= MAX_LINE:  # most hits: a one-line record
        line = text[:-1] if text[-1:] == "\n" else text
        if line[-1:] == "\r":
            line = line.rstrip("\r")
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
