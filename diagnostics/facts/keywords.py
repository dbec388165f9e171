"""Which extractor keywords occur in a text: one multi-pattern search instead of one search per keyword.

Intel Hyperscan (the `hyperscan` package) searches all keywords at once at hundreds of MB/s; where it cannot
load (an unsupported CPU), a compiled alternation of the same keywords does the job, slower.
"""

from __future__ import annotations

from diagnostics.facts.registry import EXTRACTORS, Extractor, keyword_regex
from diagnostics.hyperscan_literal import cached_database, hs_literal

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


def compile_database(skip: set[int] = frozenset(), extra: dict[int, list[bytes]] | None = None,
                     expressions: list[tuple[int, bytes, int]] = ()):
    """A Hyperscan database of every keyword except the indexes in `skip` (searched some other way), plus `extra`
    literals reported under ids of their own, plus `expressions` (id, Hyperscan regex, flags). Raises where
    Hyperscan cannot load."""
    literals = [(i, KEYWORD_BYTES[i]) for i in range(len(KEYWORD_BYTES)) if i not in skip]
    literals += [(i, text) for i, texts in (extra or {}).items() for text in texts]
    exprs = [hs_literal(text) for _, text in literals] + [expr for _, expr, _ in expressions]
    ids = [i for i, _ in literals] + [i for i, _, _ in expressions]
    flags = [0] * len(literals) + [f for _, _, f in expressions]
    return cached_database(exprs, ids, flags)


def database():
    """The compiled Hyperscan database of the plain keywords, or None where Hyperscan is unavailable."""
    global _database
    if _database is None:
        try:
            _database = compile_database()
        except Exception:  # not installed, or the CPU lacks what Hyperscan needs
            _database = False
    return _database or None


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
