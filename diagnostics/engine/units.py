"""Quantities with units as rule authors write them: sizes (`4GiB`), durations (`10m`), percentages (`95%`).

Facts carry bytes, MHz and seconds as plain numbers, so every literal is normalised to those units once,
at parse time; conditions then compare plain numbers.
"""

from __future__ import annotations

import re

# CloudStack prints sizes 1024-based even when it says "GB", so GB and GiB mean the same here.
SIZE_FACTORS: dict[str, int] = {
    "B": 1,
    "KB": 1024, "KiB": 1024, "K": 1024,
    "MB": 1024**2, "MiB": 1024**2, "M": 1024**2,
    "GB": 1024**3, "GiB": 1024**3, "G": 1024**3,
    "TB": 1024**4, "TiB": 1024**4, "T": 1024**4,
}
DURATION_FACTORS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
FREQUENCY_FACTORS: dict[str, float] = {"MHz": 1.0, "GHz": 1000.0}
UNITS: tuple[str, ...] = tuple(
    sorted([*SIZE_FACTORS, *DURATION_FACTORS, *FREQUENCY_FACTORS, "%"], key=len, reverse=True)
)

_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(" + "|".join(re.escape(u) for u in UNITS) + r")?\s*$")


def scale(number: str, unit: str | None) -> float | int:
    """Turn a number and an optional unit into bytes, seconds, MHz or a fraction (for `%`)."""
    value: float | int = float(number) if "." in number else int(number)
    if not unit:
        return value
    if unit == "%":
        return float(value) / 100.0
    if unit in SIZE_FACTORS:
        result = value * SIZE_FACTORS[unit]
        return int(result) if float(result).is_integer() else result
    if unit in DURATION_FACTORS:
        return float(value) * DURATION_FACTORS[unit]
    if unit in FREQUENCY_FACTORS:
        return float(value) * FREQUENCY_FACTORS[unit]
    raise ValueError(f"unknown unit {unit!r}")


def parse_duration(text: str) -> float:
    """`10m` -> 600.0 seconds. Raises ValueError naming the accepted units."""
    match = _QUANTITY.match(text or "")
    if not match or (match.group(2) or "s") not in DURATION_FACTORS:
        raise ValueError(f"not a duration: {text!r} (use a number with ms, s, m, h or d, e.g. \"10m\")")
    return float(scale(match.group(1), match.group(2) or "s"))


def human_bytes(value: float | int | None) -> str:
    """Bytes as an operator reads them: 1024-based with one decimal, e.g. `31.5 GiB`."""
    if value is None:
        return "unknown"
    number = float(value)
    sign = "-" if number < 0 else ""
    number = abs(number)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if number < 1024 or unit == "TiB":
            return f"{sign}{number:.0f} {unit}" if unit == "B" else f"{sign}{number:.1f} {unit}"
        number /= 1024
    return f"{sign}{number:.1f} TiB"  # pragma: no cover  (loop always returns)


def human_duration(seconds: float | int | None) -> str:
    """Seconds as `2h05m`, `3m20s` or `12.5s`."""
    if seconds is None:
        return "unknown"
    total = float(seconds)
    if abs(total) < 60:
        return f"{total:.1f}s".replace(".0s", "s")
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
