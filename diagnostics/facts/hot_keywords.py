"""Keywords that hit a large share of a busy log's lines but rarely carry news, and how the fast scanner keeps them
from costing Python work per line.

On a production management server nine in ten keyword hits are `Ping from Routing host N(name)` (every host, every
minute) and `Found the following agents behind on ping: []`. Their facts come from a handful of those lines: the
first ping of each host (its id <-> name pair) and the non-empty "behind on ping" lists. So pings are not searched by
Hyperscan at all: one regular expression per block finds only pings of identities not seen before (a negative
lookahead over a trie of the known ones, rebuilt as hosts appear), and hits followed by a routine suffix such as
the empty list are dropped before any record is built. The exact reader still gives every such line to the
extractors, which ignore the repeats; tests hold both paths to the same facts.
"""

from __future__ import annotations

import re
import time

from diagnostics.facts.keywords import INDEX

PING = "Ping from Routing host"
PING_INDEX = INDEX[PING]
_PING_BYTES = PING.encode()
_IDENTITY_RE = re.compile(rb" (\d+)\(([^)\s]+)\)")
MAX_IDENTITIES = 4096  # beyond this many hosts the ping expression stops growing; their pings are checked one by one

# keyword index -> the bytes right after the keyword that mark a routine line (no fact in it)
ROUTINE_SUFFIX: dict[int, bytes] = {
    INDEX["Found the following agents behind on ping"]: b": []",
}


def unseen_ping_pattern(known: set[bytes]) -> re.Pattern[bytes]:
    """`Ping from Routing host` not followed by ` N(name)` of a known identity.

    The known identities form a trie so the lookahead costs the length of one identity, whatever their number.
    Identities end with `)` and hold no other `)`, so none is a prefix of another.
    """
    root: dict = {}
    for identity in known:
        node = root
        for byte in identity:
            node = node.setdefault(byte, {})
    body = _trie(root)
    return re.compile(re.escape(_PING_BYTES) + (b"(?! " + body + b")" if body else b""))


def _trie(node: dict) -> bytes:
    if not node:
        return b""
    branches = [re.escape(bytes([k])) + _trie(node[k]) for k in sorted(node)]
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"


class PingFilter:
    """The pings of one input worth a record: the first of each host identity (and any it cannot read).

    The pattern is rebuilt when the identities seen have doubled since the last build, or when pings of identities
    it does not know yet (each checked in Python) cost as much as a rebuild: big clouds, where hosts trickle in over
    many blocks, then rebuild a few times instead of once per block.
    """

    STALE_COST = 1e-6  # seconds one already-seen ping costs when the pattern still lets it through

    def __init__(self) -> None:
        self.known: set[bytes] = set()
        self.pattern = unseen_ping_pattern(self.known)
        self.build_seconds = 0.0

    def new_pings(self, buf, block, limit: int, seen: set[bytes]) -> list[tuple[int, int]]:
        """(PING_INDEX, end) of the pings in `block` (a view of `buf` from 0) naming an identity not in `seen`.
        `seen` holds the identities already given to the extractors; it grows here."""
        found = []
        stale = 0
        for m in self.pattern.finditer(block):
            if is_new_ping(buf, m.end(), limit, seen):
                found.append((PING_INDEX, m.end()))
            else:
                stale += 1
        grown = len(seen) >= 2 * len(self.known) or stale * self.STALE_COST >= self.build_seconds
        if len(seen) != len(self.known) and len(self.known) < MAX_IDENTITIES and grown:
            start = time.perf_counter()
            self.known = {key[1:] for key in list(seen)[:MAX_IDENTITIES]}
            self.pattern = unseen_ping_pattern(self.known)
            self.build_seconds = time.perf_counter() - start
        return found


def is_new_ping(buf, end: int, limit: int, seen: set[bytes]) -> bool:
    """A ping keyword ending at `end` (before `limit`): does it name a host identity not seen before? (Unreadable
    ones: yes.)"""
    m = _IDENTITY_RE.match(buf, end, limit)
    if m is None:
        return True
    key = m.group(0)
    if key in seen:
        return False
    seen.add(key)
    return True
