"""Which extractor keywords occur in a text: one multi-pattern search instead of one search per keyword.

Intel Hyperscan (the `hyperscan` package) searches all keywords at once at hundreds of MB/s; where it cannot
load (an unsupported CPU), a compiled alternation of the same keywords does the job, slower.
"""

from __future__ import annotations

import re

from diagnostics.facts.registry import EXTRACTORS, Extractor, keyword_regex

KEYWORDS: list[str] = []
EXTRACTORS_OF: list[list[Extractor]] = []
for _ext in EXTRACTORS:
    for _kw in _ext.keywords:
        if _kw not in KEYWORDS:
            KEYWORDS.append(_kw)
            EXTRACTORS_OF.append([])
        EXTRACTORS_OF[KEYWORDS.index(_kw)].append(_ext)
KEYWORD_BYTES = [k.encode() for k in KEYWORDS]
INDEX = {k: i for i, k in enumerate(KEYWORDS)}
_FALLBACK = keyword_regex(KEYWORDS)
_database = None


def database():
    """The compiled Hyperscan database, or None where Hyperscan is unavailable."""
    global _database
    if _database is None:
        try:
            import hyperscan

            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=[re.escape(k) for k in KEYWORD_BYTES], ids=list(range(len(KEYWORDS))),
                       elements=len(KEYWORDS), flags=[0] * len(KEYWORDS))
            _database = db
        except Exception:  # not installed, or the CPU lacks what Hyperscan needs
            _database = False
    return _database or None


def matches(block: bytes) -> list[tuple[int, int, int]]:
    """(keyword index, start, end) of every occurrence in `block`, by start (overlaps included)."""
    found: list[tuple[int, int, int]] = []
    db = database()
    if db is not None:
        append = found.append

        def on_match(kw_index: int, _start: int, end: int, _flags: int, _ctx) -> None:
            append((kw_index, end - len(KEYWORD_BYTES[kw_index]), end))

        db.scan(block, match_event_handler=on_match)
    else:
        text_re = re.compile(b"|".join(re.escape(k) for k in sorted(KEYWORD_BYTES, key=len, reverse=True)))
        found = [(INDEX[m.group().decode()], m.start(), m.end()) for m in text_re.finditer(block)]
    found.sort(key=lambda m: m[1])
    return found


def found_in(text: str) -> set[int]:
    """Indexes of the keywords present in `text`."""
    if not text:
        return set()
    db = database()
    if db is None:
        return {INDEX[m.group()] for m in _FALLBACK.finditer(text)}
    hits: set[int] = set()
    add = hits.add
    db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=lambda i, _s, _e, _f, _c: add(i))
    return hits
