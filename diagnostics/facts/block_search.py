"""One Hyperscan pass over a block of raw log bytes: the hits worth a record, and how many records it holds.

What is searched is derived, never hand-kept: the extractors' keywords (registry), and under one id of its own
(`GENERIC`) what makes a record worth a `log_record` fact: a loud level field, the suffix every exception name ends
with, and the interest literals of the catalogue and the rules (diagnostics.logs.interest).

Besides the extractor keywords, the same pass finds every line start that is not a record start (not a stamp's
`YYYY-`, any year: a continuation or foreign line), so records = line starts - those, without a counting pass of its
own (which costs more than the whole keyword search). A block made mostly of continuation lines (stack traces,
domain XML) would call back into Python for each of them, so after such a block the search counts record starts
the plain way for a while.
"""

from __future__ import annotations

import re

from diagnostics.facts.hot_keywords import PING_INDEX, ROUTINE_SUFFIX, PingFilter
from diagnostics.facts.keywords import KEYWORD_BYTES, compile_database, database
from diagnostics.hyperscan_literal import hs_literal
from diagnostics.logs.interest import Interest
from diagnostics.logs.record_fact import EXCEPTION_SUFFIXES

NOT_A_RECORD = len(KEYWORD_BYTES)  # the id of the line-start literals
GENERIC = NOT_A_RECORD + 1  # the id of what may make a log_record fact
# A line start that is no record start: the line does not open with four digits and a dash (the year of a stamp,
# 0000-9999: records dated 1970 or 9999 count like any other). The branches are exclusive (they differ in where the
# first byte that breaks `DDDD-` sits), so each such line start is reported once.
NOT_RECORD_START = rb"\n(?:[^0-9]|[0-9][^0-9]|[0-9]{2}[^0-9]|[0-9]{3}[^0-9]|[0-9]{4}[^\-])"
_RECORD_START = re.compile(rb"\d{4}-")
_RECORD_STARTS = re.compile(rb"\n\d{4}-")
# The level field of a WARN/ERROR/FATAL header: the level and the whitespace after it (`\s+` in header.HEADER_RE).
# Literals, not a regular expression: a regex here triples the database's compile time.
LOUD_LITERALS = [level + space for level in (b"WARN", b"ERROR", b"FATAL")
                 for space in (b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")]
PLAIN_BLOCKS = 8  # blocks counted the plain way after one where continuation lines were a quarter of all
HS_FLAG_CASELESS = 1
_databases: dict[tuple, object] = {}


def generic_expressions(interest: Interest) -> list[tuple[int, bytes, int]]:
    """(GENERIC, Hyperscan expression, flags) for everything that can make a record's log_record fact."""
    out = [(GENERIC, hs_literal(lit), 0) for lit in LOUD_LITERALS]
    out += [(GENERIC, hs_literal(s.encode()), 0) for s in EXCEPTION_SUFFIXES]
    out += [(GENERIC, hs_literal(text.encode()), HS_FLAG_CASELESS if caseless else 0) for text, caseless in interest.literals]
    return out


def _database(count_lines: bool, interest: Interest):
    """The keyword database without pings (PingFilter finds those), with or without the line-start literals, with
    the generic expressions of `interest`; None if that cannot compile (the caller then reads every record)."""
    key = (count_lines, interest.key())
    if key not in _databases:
        if len(_databases) > 16:
            _databases.clear()
        try:
            lines = [(NOT_A_RECORD, NOT_RECORD_START, 0)] if count_lines else []
            _databases[key] = compile_database({PING_INDEX}, None, lines + generic_expressions(interest))
        except Exception:
            _databases[key] = None
    return _databases[key]


def available(interest: Interest) -> bool:
    """Can the filter run for `interest` (Hyperscan loads, and the interest is not every record)?"""
    return not interest.everything and _database(True, interest) is not None


class BlockSearch:
    """The search of one input, block after block (it learns host identities and how continuation-heavy it is)."""

    def __init__(self, interest: Interest) -> None:
        self.interest = interest
        self.pings = PingFilter()
        self.plain_left = 0
        self.not_records: int | None = None  # line starts that start no record in the last block (None: not counted)

    def hits(self, buf, view, limit: int, seen: set[bytes]) -> list[tuple[int, int]]:
        """(keyword index, end) of the hits in buf[:limit] worth a record, in no set order; `end - 1` lies in the
        keyword's line. `seen` holds the ping identities already given to the extractors (it grows here)."""
        block = view[:limit]
        count_lines = self.plain_left == 0
        db = _database(count_lines, self.interest)
        if db is None and count_lines:
            count_lines, db = False, _database(False, self.interest)
        self.plain_left = max(0, self.plain_left - 1)
        found: list[tuple[int, int]] = []
        append = found.append
        not_records = [0]
        routine = ROUTINE_SUFFIX.get

        def on_match(index: int, _start: int, end: int, _flags: int, _context) -> None:
            if index == NOT_A_RECORD:
                not_records[0] += 1
                return
            suffix = routine(index)
            if suffix is not None and buf.startswith(suffix, end, limit):
                return
            append((index, end))

        db.scan(block, match_event_handler=on_match)
        found.extend(self.pings.new_pings(buf, block, limit, seen))
        self.not_records = not_records[0] if count_lines else None
        return found

    def records(self, buf, limit: int, newlines: int) -> int:
        """Records (lines starting with a stamp's `YYYY-`) in buf[:limit] that holds `newlines` newlines, after
        `hits`. (Bytes after `limit` are left over from earlier reads: nothing here may look at them.)"""
        first = 1 if _RECORD_START.match(buf, 0, limit) is not None else 0  # the first line has no "\n" before it
        if self.not_records is None:
            return len(_RECORD_STARTS.findall(buf, 0, limit)) + first
        complete = buf[limit - 1] == 0x0A
        starts = newlines + (0 if complete else 1)
        not_records = self.not_records + 1 - first
        if not complete:  # a last line too short to break `DDDD-` before the end of the file: the search saw no miss
            tail = buf.rfind(b"\n", 0, limit) + 1
            if tail and limit - tail < 5 and bytes(buf[tail:limit]).isdigit():
                not_records += 1
        if self.not_records * 4 > starts:
            self.plain_left = PLAIN_BLOCKS
        return starts - not_records
