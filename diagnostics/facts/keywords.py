"""Which extractor keywords occur in a text: one multi-pattern search instead of one search per keyword.

Intel Hyperscan (the `hyperscan` package) searches all keywords at once at hundreds of MB/s; where it cannot
load (an unsupported CPU), a compiled alternation of the same keywords does the job, slower.
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

from diagnostics.facts.registry import EXTRACTORS, Extractor, keyword_regex
from diagnostics.hyperscan_literal import hs_literal

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
    import hyperscan

    literals = [(i, KEYWORD_BYTES[i]) for i in range(len(KEYWORD_BYTES)) if i not in skip]
    literals += [(i, text) for i, texts in (extra or {}).items() for text in texts]
    exprs = [hs_literal(text) for _, text in literals] + [expr for _, expr, _ in expressions]
    ids = [i for i, _ in literals] + [i for i, _, _ in expressions]
    flags = [0] * len(literals) + [f for _, _, f in expressions]
    cached = _cache_path(exprs, ids, flags, hyperscan)
    if cached is not None:
        try:
            db = hyperscan.loadb(cached.read_bytes(), mode=hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)
            return db
        except Exception:  # noqa: BLE001  (absent, stale or from another CPU: compile afresh)
            pass
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(hyperscan.dumpb(db))
            os.replace(tmp, cached)
        except OSError:
            pass  # a read-only home: compile each time
    return db


def _cache_path(exprs, ids, flags, hyperscan):
    """Where a compiled database of these expressions is kept between runs (compiling the filter's database costs
    a few tenths of a second per run, more than reading 50 MB). None: no cache (CSDIAG_CACHE_DIR="")."""
    root = os.environ.get("CSDIAG_CACHE_DIR")
    if root == "":
        return None
    if root is None:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "csdiag")
    key = hashlib.sha256(repr((exprs, ids, flags, getattr(hyperscan, "__version__", ""), platform.machine())).encode())
    return Path(root) / f"hs-{key.hexdigest()[:32]}.db"


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
