"""Hostile values made harmless: integers, JSON nesting, durations and timestamps with sane bounds.

Why: one absurd value in an input must cost one clear line, never the whole file or run. Python itself refuses to
convert a 5000-digit string to int (ValueError), json recurses until RecursionError on `[[[[...`, and `timedelta`
overflows on a 400-digit `--since`; each of those used to surface as "internal error ... please report this".
Every helper raises `BoundedValueError` (a ValueError, so existing `except ValueError` paths keep working) whose
message is one line that names the value, shortened.

>>> parse_int("4711")
4711
>>> parse_int("9" * 5000, what="job id")
Traceback (most recent call last):
...
diagnostics.bounded.BoundedValueError: job id '99999999999999999999...' (5000 digits) is longer than 20 digits
>>> json_depth('{"a": [1, {"b": "[[["}]}')
3
>>> bounded_seconds(2.5 * 3600, what="--since")
9000.0
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

MAX_INT_DIGITS = 20  # CloudStack ids are 64-bit: at most 20 digits (with a sign)
MAX_JSON_DEPTH = 64  # CloudStack answers nest about 8 deep; manifests 5
MAX_JSON_BYTES = 256 << 20
MAX_SECONDS = 100 * 366 * 86400  # a window longer than a century is a typo or an attack
SHOW = 20  # characters of a hostile value shown in a message


class BoundedValueError(ValueError):
    """A value outside sane bounds (one line naming it)."""


def _show(text: str) -> str:
    short = text if len(text) <= SHOW else text[:SHOW] + "..."
    return repr(short)


def parse_int(text: str | bytes, *, what: str = "number", max_digits: int = MAX_INT_DIGITS) -> int:
    """A decimal integer of at most `max_digits` digits; BoundedValueError otherwise (also for non-numbers)."""
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else str(text)
    s = s.strip()
    digits = len(s.lstrip("+-"))
    if digits > max_digits:
        raise BoundedValueError(f"{what} {_show(s)} ({digits} digits) is longer than {max_digits} digits")
    try:
        return int(s)
    except ValueError:
        raise BoundedValueError(f"{what} {_show(s)} is not a whole number") from None


def int_or_none(text: str | bytes | None, *, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """Like parse_int, but None for anything out of bounds: for parsers where a missing id is the honest answer."""
    if text is None:
        return None
    try:
        return parse_int(text, max_digits=max_digits)
    except BoundedValueError:
        return None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest nesting of arrays/objects in a JSON text (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= 1:
        return text.count("[") + text.count("{")
    depth = deepest = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if m.group(0) in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_json(data: str | bytes, *, source: str, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """json.loads with a size and a nesting bound; BoundedValueError names `source`. Invalid JSON: ValueError."""
    if len(data) > max_bytes:
        raise BoundedValueError(f"{source}: JSON of {len(data)} bytes is larger than {max_bytes}")
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    # Only a text with more brackets than the bound can be nested deeper: the scan runs for those alone.
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise BoundedValueError(f"{source}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable after the depth check; kept so no path can raise it
        raise BoundedValueError(f"{source}: JSON nested too deep") from None


_SIZE = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,6})?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str, *, what: str) -> int:
    """`512M`, `2G`, `1048576` -> bytes; BoundedValueError for anything else (one line naming `what`)."""
    m = _SIZE.match(text)
    if not m:
        raise BoundedValueError(f"{what} {_show(text)}: expected a size like 512M, 2G or a number of bytes")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def bounded_seconds(seconds: float, *, what: str, max_seconds: float = MAX_SECONDS) -> float:
    """A duration in seconds that is finite, not negative and at most `max_seconds` (a century by default)."""
    if not math.isfinite(seconds) or seconds < 0 or seconds > max_seconds:
        raise BoundedValueError(f"{what}: a duration of at most {max_seconds / 86400 / 366:.0f} years is expected")
    return float(seconds)


def parse_number(text: str, *, what: str, max_digits: int = 12) -> float:
    """A decimal number (`2`, `1.5`) with at most `max_digits` digits before the point."""
    whole = text.split(".", 1)[0].lstrip("+-")
    if len(whole) > max_digits or len(text) > max_digits + 10:
        raise BoundedValueError(f"{what} {_show(text)} has more than {max_digits} digits")
    try:
        return float(text)
    except ValueError:
        raise BoundedValueError(f"{what} {_show(text)} is not a number") from None


def shift(moment: datetime, delta: timedelta) -> datetime:
    """moment + delta, clamped to the representable range instead of raising OverflowError (years 1 and 9999)."""
    try:
        return moment + delta
    except OverflowError:
        edge = datetime.max if delta > timedelta(0) else datetime.min
        return edge.replace(tzinfo=moment.tzinfo)


def to_utc(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """An aware UTC datetime for a naive (in `tz`) or aware moment, for any year 1..9999 (clamped at the edges).

    Why: `datetime(9999, 12, 31, 23, tzinfo=+02:00).astimezone(utc)` works, but zone arithmetic near the edges
    raises OverflowError in some paths (-12:00 on 9999-12-31); a record must not vanish because of its date.
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz or timezone.utc)
    try:
        return aware.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        offset = aware.utcoffset() or timedelta(0)
        return shift(aware.replace(tzinfo=None), -offset).replace(tzinfo=timezone.utc)
