"""The fast path: facts of a large log without parsing every line.

All extractor keywords are searched at once over big chunks of raw bytes (`keywords.matches`, Hyperscan); only the records around a hit are decoded and parsed, walking back from a hit in a stack trace
to its record's header line. The extractors are the same as on the exact path (`facts_from_records`), and they
see the same records in the same order, so both paths give the same facts; tests hold them to that.
Only plain log4j files take this path (journald wrapping and ticket pastes go through the exact reader).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from diagnostics.facts import TRACE_LINES
from diagnostics.facts.keywords import EXTRACTORS_OF, INDEX, database, matches
from diagnostics.facts.registry import EXTRACTORS, FLUSHERS, ExtractContext, Extractor
from diagnostics.logs.reader import LogStats, ReadOptions, _Assembler
from diagnostics.model import Fact
from diagnostics.sources.files import MAX_LINE, SourceError, _read_error, display_name, open_binary

CHUNK = 8 << 20
MAX_RECORD_LINES = 400  # continuation lines read after a hit's header (stack traces, domain XML)
_HEADER_START = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")



def available() -> bool:
    """The fast path needs Hyperscan; without it every file goes through the exact reader."""
    return database() is not None


_ORDER = {ext: i for i, ext in enumerate(EXTRACTORS)}

# Keywords that hit a large share of all lines but rarely carry news: a cheap look at the bytes after the keyword
# decides whether the record is worth parsing. (The exact path reaches the same facts through the extractors.)
_IDENTITY_RE = re.compile(rb" (\d+)\(([^)\s]+)\)")


def _new_identity(block: bytes, end: int, seen: set) -> bool:
    m = _IDENTITY_RE.match(block, end)
    if m is None:
        return True
    key = m.group(0)
    if key in seen:
        return False
    seen.add(key)
    return True


def _someone_behind(block: bytes, end: int, seen: set) -> bool:
    return block[end:end + 4] != b": []"


_PRECHECK = {
    INDEX["Ping from Routing host"]: _new_identity,
    INDEX["Found the following agents behind on ping"]: _someone_behind,
}


def _is_header(block: bytes, pos: int) -> bool:
    return _HEADER_START.match(block, pos) is not None


def _record_start(block: bytes, line_start: int) -> int | None:
    """The header line of the record that contains the line at `line_start` (None: before any header)."""
    pos = line_start
    for _ in range(TRACE_LINES + 2):
        if _is_header(block, pos):
            return pos
        if pos == 0:
            return None
        pos = block.rfind(b"\n", 0, pos - 1) + 1
    return None


def _record_end(block: bytes, start: int) -> int:
    end = block.find(b"\n", start)
    lines = 0
    while end != -1 and lines < MAX_RECORD_LINES:
        nxt = end + 1
        if nxt >= len(block) or _is_header(block, nxt):
            return nxt
        end = block.find(b"\n", nxt)
        lines += 1
    return len(block) if end == -1 else end + 1


def _cut(buf: bytes) -> int:
    """Where to end this block: at the start of the last header line, so no record spans two blocks."""
    pos = len(buf)
    for _ in range(MAX_RECORD_LINES + 2):
        nl = buf.rfind(b"\n", 0, pos - 1)
        if nl == -1:
            break
        if _is_header(buf, nl + 1):
            return nl + 1
        pos = nl + 1
    nl = buf.rfind(b"\n")
    return nl + 1 if nl != -1 else len(buf)


def scan_facts(path: str, opts: ReadOptions, stats: LogStats, progress=None) -> Iterator[Fact]:
    """Facts of one plain log4j file (plain or gzip), in file order, in constant memory."""
    name = display_name(path)
    stream, stats.read.compressed = open_binary(path)
    ctx = ExtractContext()
    asm = _Assembler(name, opts, stats, 1970, None)
    line_base = 1
    carry = b""
    try:
        while True:
            try:
                data = stream.read(CHUNK)
            except (EOFError, OSError, zlib.error) as exc:
                stats.read.errors.append(_read_error(name, exc))
                data = b""
            if progress is not None and data:
                progress(name, len(data))
            stats.read.bytes_read += len(data)
            buf = carry + data if carry else data
            if not buf:
                break
            cut = _cut(buf) if data else len(buf)
            if cut == 0 and data:
                if len(buf) > 4 * MAX_LINE:  # one absurdly long line: keep its head, skip the rest
                    stats.read.truncated_lines += 1
                    carry = buf[:MAX_LINE]
                else:
                    carry = buf
                continue
            block, carry = buf[:cut], buf[cut:]
            newlines = block.count(b"\n")
            stats.read.lines += newlines
            yield from _scan_block(block, line_base, newlines, asm, ctx, stats)
            line_base += newlines
            if not data:
                break
    finally:
        stream.close()
    for flush in FLUSHERS:
        yield from flush(ctx)


def _scan_block(block: bytes, line_base: int, newlines: int, asm: _Assembler, ctx: ExtractContext, stats: LogStats) -> Iterator[Fact]:
    headers = block.count(b"\n20") + (1 if block[:2] == b"20" else 0)
    stats.records += headers
    if stats.first_ts is None and _is_header(block, 0):
        rec = _parse(block, 0, _record_end(block, 0), line_base, asm)
        if rec is not None:
            stats.first_ts = rec.ts
    last = block.rfind(b"\n", 0, len(block) - 1) + 1
    if _is_header(block, last):
        rec = _parse(block, last, len(block), line_base + newlines - (1 if block.endswith(b"\n") else 0), asm)
        if rec is not None and rec.ts is not None:
            stats.last_ts = rec.ts
    # group keyword hits by record
    by_record: dict[int, set[Extractor]] = {}
    line_of: dict[int, int] = {}
    seen = ctx.scan_seen
    for kw_index, start, end in matches(block):
        check = _PRECHECK.get(kw_index)
        if check is not None and not check(block, end, seen):
            continue
        ls = block.rfind(b"\n", 0, start) + 1
        rs = line_of.get(ls)
        if rs is None:
            rs = _record_start(block, ls)
            line_of[ls] = rs if rs is not None else -1
        if rs is None or rs == -1:
            continue
        in_header = block.find(b"\n", rs) >= start or block.find(b"\n", rs) == -1
        bucket = by_record.setdefault(rs, set())
        for ext in EXTRACTORS_OF[kw_index]:
            if in_header or ext.in_trace:
                bucket.add(ext)
    counted_to, lineno = 0, line_base
    for rs in sorted(by_record):
        lineno += block.count(b"\n", counted_to, rs)
        counted_to = rs
        rec = _parse(block, rs, _record_end(block, rs), lineno, asm)
        if rec is None:
            continue
        for ext in sorted(by_record[rs], key=_ORDER.__getitem__):
            produced = ext.func(rec, ctx)
            if produced:
                yield from produced


def _parse(block: bytes, start: int, end: int, lineno: int, asm: _Assembler):
    text = block[start:end].decode("utf-8", "replace")
    lines = text.rstrip("\n").split("\n")
    asm.current = None
    for offset, line in enumerate(lines):
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
        asm.feed(lineno + offset, line.rstrip("\r"))
    return asm.flush()


def can_scan(head_lines: list[str]) -> bool:
    """Plain log4j (no journald prefix, no paste): the file starts with a timestamped header line."""
    from diagnostics.logs.paste import detect_paste

    first = next((line for line in head_lines if line.strip()), "")
    return _is_header(first.encode(), 0) and not detect_paste(head_lines)[0]
