"""One Hyperscan pass over a block of raw log bytes: the keyword hits worth a record, and how many records it holds.

Besides the extractor keywords, the same pass finds every line start that is not `20..` (a continuation or foreign
line), so records = line starts - those, without a `bytes.count(b"\\n20")` pass of its own (which costs more than the
whole keyword search). A block made mostly of continuation lines (stack traces, domain XML) would call back into
Python for each of them, so after such a block the search counts `\\n20` the plain way for a while.
"""

from __future__ import annotations

from diagnostics.facts.hot_keywords import PING_INDEX, ROUTINE_SUFFIX, PingFilter, is_new_ping
from diagnostics.facts.keywords import KEYWORD_BYTES, compile_database, database

NOT_A_RECORD = len(KEYWORD_BYTES)  # the id of the line-start literals
_LINE_STARTS = [b"\n" + bytes([c]) for c in range(256) if c != 0x32] + [b"\n2" + bytes([c]) for c in range(256) if c != 0x30]
PLAIN_BLOCKS = 8  # blocks counted the plain way after one where continuation lines were a quarter of all
_databases: dict[bool, object] = {}


def _database(count_lines: bool):
    """The keyword database without pings (PingFilter finds those), with or without the line-start literals;
    None if that cannot compile (the plain keyword database then serves, pings included)."""
    if count_lines not in _databases:
        try:
            _databases[count_lines] = compile_database({PING_INDEX}, {NOT_A_RECORD: _LINE_STARTS} if count_lines else None)
        except Exception:
            _databases[count_lines] = None
    return _databases[count_lines]


class BlockSearch:
    """The search of one input, block after block (it learns host identities and how continuation-heavy it is)."""

    def __init__(self) -> None:
        self.pings = PingFilter()
        self.plain_left = 0
        self.not_records: int | None = None  # line starts that start no record in the last block (None: not counted)

    def hits(self, buf, view, limit: int, seen: set[bytes]) -> list[tuple[int, int]]:
        """(keyword index, end) of the hits in buf[:limit] worth a record, in no set order; `end - 1` lies in the
        keyword's line. `seen` holds the ping identities already given to the extractors (it grows here)."""
        block = view[:limit]
        count_lines = self.plain_left == 0
        db = _database(count_lines)
        if db is None and count_lines:
            count_lines, db = False, _database(False)
        self.plain_left = max(0, self.plain_left - 1)
        found: list[tuple[int, int]] = []
        append = found.append
        not_records = [0]
        routine = ROUTINE_SUFFIX.get
        check_pings = db is None  # Hyperscan also reports pings: check each one here

        def on_match(index: int, _start: int, end: int, _flags: int, _context) -> None:
            if index == NOT_A_RECORD:
                not_records[0] += 1
                return
            suffix = routine(index)
            if suffix is not None and buf.startswith(suffix, end, limit):
                return
            if check_pings and index == PING_INDEX and not is_new_ping(buf, end, limit, seen):
                return
            append((index, end))

        (db if db is not None else database()).scan(block, match_event_handler=on_match)
        if db is not None:
            found.extend(self.pings.new_pings(buf, block, limit, seen))
        self.not_records = not_records[0] if count_lines else None
        return found

    def records(self, buf, limit: int, newlines: int) -> int:
        """Records (lines starting with `20`) in buf[:limit] that holds `newlines` newlines, after `hits`.
        (Bytes after `limit` are left over from earlier reads: nothing here may look at them.)"""
        if self.not_records is None:
            return buf.count(b"\n20", 0, limit) + (1 if buf.startswith(b"20", 0, limit) else 0)
        complete = buf[limit - 1] == 0x0A
        starts = newlines + (0 if complete else 1)
        not_records = self.not_records + (0 if buf.startswith(b"20", 0, limit) else 1)  # the first line has no "\n" before it
        if not complete and limit >= 2 and buf[limit - 2:limit] == b"\n2":  # a last line "2" (no newline at the end of the file)
            not_records += 1
        if self.not_records * 4 > starts:
            self.plain_left = PLAIN_BLOCKS
        return starts - not_records
