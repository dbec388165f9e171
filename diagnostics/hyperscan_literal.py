"""One way to hand a literal to Hyperscan, shared by the keyword scan, the catalogue matcher and the record filter.

Hyperscan reads its patterns as regular expressions; escaping every byte that is not ASCII alphanumeric as `\\xHH`
makes any text (brackets, dots, non-ASCII) a plain literal without a regex escaper of our own per caller.

>>> hs_literal(b"Resource [Host:1]")
b'Resource\\\\x20\\\\x5bHost\\\\x3a1\\\\x5d'
"""

from __future__ import annotations


def hs_literal(text: bytes) -> bytes:
    """A Hyperscan expression matching `text` literally (every non-alphanumeric byte escaped as \\xHH)."""
    return b"".join(bytes([c]) if c < 128 and chr(c).isalnum() else b"\\x%02x" % c for c in text)
