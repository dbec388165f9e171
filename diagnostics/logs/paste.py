"""Repair log excerpts pasted into tickets before they are parsed.

What operators' pastes do to log lines, and what is undone here:
- markdown quotes (`> ` at line start)                -> stripped
- blank lines between entries                         -> dropped
- links added by a web page (`[X.java:12](https://...)`, `<https://...>`) -> reduced to their text
- hard wrapping at a fixed width, mid-word            -> lines of exactly that width are joined with the next
  line unless the next line starts a record or a stack frame
Each repair is counted so the output can state what was assumed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

QUOTE_RE = re.compile(r"^\s{0,3}(?:>\s?)+")
MD_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((?:https?://|www\.)[^)\s]*\)")
ANGLE_LINK_RE = re.compile(r"\s*<(?:https?://|www\.)[^>\s]*>")
_RECORD_START_RE = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:)"
)
_FRAME_START_RE = re.compile(r"^\s*(?:at |Caused by:|\.\.\. \d+ more|Suppressed:|[\w$.]+(?:Exception|Error)\b)")


@dataclass(slots=True)
class PasteRepairs:
    """What the paste repair assumed; rendered as notes in every output."""

    quotes: int = 0
    blanks: int = 0
    links: int = 0
    joined: int = 0
    width: int | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        out = []
        if self.quotes:
            out.append(f"paste mode: stripped markdown '> ' quotes from {self.quotes} lines")
        if self.blanks:
            out.append(f"paste mode: dropped {self.blanks} blank lines between entries")
        if self.links:
            out.append(f"paste mode: removed {self.links} web links around stack frames")
        if self.joined:
            out.append(f"paste mode: joined {self.joined} lines hard-wrapped at {self.width} characters")
        return out


def _unquote(line: str, repairs: PasteRepairs) -> str:
    stripped = QUOTE_RE.sub("", line, count=1)
    if stripped != line:
        repairs.quotes += 1
    return stripped


def _delink(line: str, repairs: PasteRepairs) -> str:
    """Links are removed from the re-joined line: wrapping may have cut a link in two."""
    if "http" in line or "www." in line:
        line, n1 = MD_LINK_RE.subn(r"\1", line)
        line, n2 = ANGLE_LINK_RE.subn("", line)
        repairs.links += n1 + n2
    return line


def _clean(line: str, repairs: PasteRepairs) -> str:
    return _delink(_unquote(line, repairs), repairs)


def detect_paste(sample_lines: list[str]) -> tuple[bool, int | None]:
    """Does this look like a ticket paste, and at which width was it hard-wrapped (if at all)?"""
    nonblank = [line for line in sample_lines if line.strip()]
    if not nonblank:
        return False, None
    quoted = sum(1 for line in nonblank if QUOTE_RE.match(line) and line.lstrip().startswith(">"))
    linked = sum(1 for line in nonblank if MD_LINK_RE.search(line) or ANGLE_LINK_RE.search(line))
    cleaned = [_unquote(line.rstrip("\r\n"), PasteRepairs()) for line in nonblank]
    width = _wrap_width(cleaned)
    blank_between = sum(1 for line in sample_lines if not line.strip())
    record_starts = sum(1 for line in cleaned if _RECORD_START_RE.match(line))
    is_paste = (
        quoted * 5 >= len(nonblank)
        or linked > 0
        or width is not None
        or (record_starts >= 3 and blank_between * 2 >= record_starts)
    )
    return is_paste, width


def _wrap_width(lines: list[str]) -> int | None:
    """The width W such that several W-long lines are followed by a line that cannot start anything."""
    lengths: Counter[int] = Counter()
    for cur, nxt in zip(lines, lines[1:]):
        if len(cur) >= 40 and nxt and not _RECORD_START_RE.match(nxt) and not _FRAME_START_RE.match(nxt) and not _linked(cur):
            lengths[len(cur)] += 1
    if not lengths:
        return None
    width, count = lengths.most_common(1)[0]
    # links added by the page after wrapping make those lines longer: they do not disprove a width
    longer = sum(1 for line in lines if len(line) > width and not _linked(line))
    return width if count >= 2 and longer == 0 else None


def _linked(line: str) -> bool:
    return MD_LINK_RE.search(line) is not None or ANGLE_LINK_RE.search(line) is not None


def repair_paste(lines: Iterable[str], width: int | None, repairs: PasteRepairs) -> Iterator[str]:
    """Yield repaired lines (without trailing newlines)."""
    repairs.width = width
    pending: str | None = None
    last_len = 0  # length of the last physical line in `pending`: only a full-width line was wrapped
    for raw in lines:
        line = _unquote(raw.rstrip("\r\n"), repairs)
        if not line.strip():
            repairs.blanks += 1
            continue
        if pending is not None:
            if (
                width is not None
                and last_len >= width
                and not _RECORD_START_RE.match(line)
                and not _FRAME_START_RE.match(line)
            ):
                pending += line
                last_len = len(line)
                repairs.joined += 1
                continue
            yield _delink(pending, repairs)
        pending = line
        last_len = len(line)
    if pending is not None:
        yield _delink(pending, repairs)
