"""The shape of a log message, Drain-style: what is left when ids, numbers, hosts and blobs are masked.

Records that no catalogue template knows are grouped by this shape, so one unexplained message repeated a
thousand times with different ids is one line in the report, not a thousand. The logger's area (areas.toml) gives
such a record a category hint.

>>> message_shape('Failed to connect to 10.1.1.5 for host 42 (uuid 0b6e1c2a-5d3f-4e8a-9b7c-1d2e3f4a5b6c)')
'Failed to connect to <ip> for host <num> (uuid <uuid>)'
>>> message_shape('Unable to start i-2-57-VM on Host {"id":4,"name":"kvm01"} after 3 attempts')
'Unable to start <vm> on Host <json> after <num> attempts'
>>> area_of('c.c.a.m.AgentManagerImpl')
('agent_link', 'agent_connectivity')
>>> area_of('c.c.v.SomethingNew') is None
True
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

AREAS_FILE = Path(__file__).with_name("areas.toml")
MAX_SHAPE = 200

# Order matters: blobs and structured ids before the bare numbers inside them.
_MASKS = (
    (re.compile(r"\{[^{}]{0,2000}\}"), "<json>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b[irsv]-\d+-\d+-(?:VM|VMOPS|QA)\b|\b[rsv]-\d+-VM\b"), "<vm>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"), "<ip>"),
    (re.compile(r"(?:/[\w.@%+-]+){2,}/?"), "<path>"),
    (re.compile(r"\b(?:ctx|job|logid)-?[0-9a-fA-F]+\b"), "<id>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b(?=\W|$)"), "<hex>"),
    (re.compile(r"-?\b\d+(?:[.,]\d+)*\b"), "<num>"),
)


def message_shape(message: str) -> str:
    """The message with its variable parts masked, cut to a bounded length."""
    text = message[:4 * MAX_SHAPE]
    for rx, token in _MASKS:
        text = rx.sub(token, text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_SHAPE]


@lru_cache(maxsize=1)
def _areas() -> list[dict]:
    return tomllib.loads(AREAS_FILE.read_text(encoding="utf-8"))["area"]


@lru_cache(maxsize=4096)
def area_of(logger: str | None) -> tuple[str, str] | None:
    """(area, category hint) of a logger name, or None when no area claims it."""
    if not logger:
        return None
    cls = logger.rsplit(".", 1)[-1]
    for area in _areas():
        if cls in area.get("class_equals", ()) or any(p in cls for p in area.get("class_contains", ())):
            return area["name"], area["category"]
    return None
