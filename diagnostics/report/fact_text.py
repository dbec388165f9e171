"""A fact as one short human line: its kind and the fields that are set, sizes in GiB/MiB."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from diagnostics.model import Fact

_COMMON = {"ts", "path", "line", "text"}
_SIZE_FIELDS = {"requested_ram", "free_ram", "used_ram", "reserved_ram", "total_ram", "actual_total_ram",
                "old_used", "new_used", "old_reserved", "new_reserved", "total", "requested", "new_memory", "current_memory"}


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{sign}{n / size:.2f} {unit}"
    return f"{sign}{n} B"


def describe_fact(fact: Fact) -> str:
    parts = [fact.kind]
    for f in dataclasses.fields(fact):
        if f.name in _COMMON:
            continue
        value = getattr(fact, f.name)
        if value in (None, "", (), [], False):
            continue
        if fact.kind in ("capacity_check", "capacity_change", "scale_error") and f.name in _SIZE_FIELDS and isinstance(value, int):
            value = human_bytes(value)
        elif isinstance(value, datetime):
            value = value.isoformat(timespec="seconds")
        elif isinstance(value, (tuple, list)):
            value = ",".join(str(v) for v in value)
        text = str(value)
        if len(text) > 160:
            text = text[:157] + "..."
        parts.append(f"{f.name}={text}")
    return " ".join(parts)
