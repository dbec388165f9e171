"""`Key:   value` listings (lscpu, virsh nodeinfo, virsh dominfo) as a pyparsing grammar.

These outputs share one shape, so they share one grammar; each command module maps the keys it knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyparsing as pp

_KEY = pp.Regex(r"[A-Za-z][^:]*?(?=:)")("key")
_PAIR = _KEY + pp.Suppress(":") + pp.Regex(r".*")("value") + pp.StringEnd()


@dataclass(slots=True, frozen=True)
class Pair:
    key: str
    value: str
    line: int
    text: str


def parse_pairs(text: str) -> dict[str, Pair]:
    """First occurrence of each key wins (a paste of two outputs keeps the first)."""
    pairs: dict[str, Pair] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if ":" not in stripped:
            continue
        try:
            parsed = _PAIR.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            continue
        key = parsed["key"].strip()
        if key not in pairs:
            pairs[key] = Pair(key, parsed["value"].strip(), lineno, line)
    return pairs


def as_int(pair: Pair | None) -> int | None:
    """`"56"` -> 56; `"2400 MHz"` -> 2400; anything else -> None."""
    if pair is None:
        return None
    head = pair.value.split()[0] if pair.value.split() else ""
    return int(head) if head.isdigit() else None


def as_float(pair: Pair | None) -> float | None:
    if pair is None or not pair.value.split():
        return None
    head = pair.value.split()[0].rstrip("s").replace(",", ".")
    try:
        return float(head)
    except ValueError:
        return None
