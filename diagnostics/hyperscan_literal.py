"""One way to hand a literal to Hyperscan, shared by the keyword scan, the catalogue matcher and the record filter.

Hyperscan reads its patterns as regular expressions; escaping every byte that is not ASCII alphanumeric as `\\xHH`
makes any text (brackets, dots, non-ASCII) a plain literal without a regex escaper of our own per caller.

>>> hs_literal(b"Resource [Host:1]")
b'Resource\\\\x20\\\\x5bHost\\\\x3a1\\\\x5d'
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path


# each byte's form, looked up: every run escapes the ~2,500 literals of the catalogue and the rules again to find its
# cached databases (diagnostics.facts.keywords), and a per-byte generator made that 30 ms a time
_FORM = [bytes([c]) if c < 128 and chr(c).isalnum() else b"\\x%02x" % c for c in range(256)]


def hs_literal(text: bytes) -> bytes:
    """A Hyperscan expression matching `text` literally (every non-alphanumeric byte escaped as \\xHH)."""
    return b"".join([_FORM[c] for c in text])


def cached_database(exprs: list[bytes], ids: list[int], flags: list[int]):
    """A block-mode Hyperscan database of `exprs`, loaded from the cache of compiled databases when it holds one
    (compiling costs tens of milliseconds per thousand literals on every run; loading a few). Raises where Hyperscan
    cannot load."""
    import hyperscan

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
    """Where a compiled database of these expressions is kept between runs. None: no cache (CSDIAG_CACHE_DIR="")."""
    root = os.environ.get("CSDIAG_CACHE_DIR")
    if root == "":
        return None
    if root is None:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "csdiag")
    key = hashlib.sha256(repr((exprs, ids, flags, getattr(hyperscan, "__version__", ""), platform.machine())).encode())
    return Path(root) / f"hs-{key.hexdigest()[:32]}.db"
