"""Which zone naive log timestamps are in, and what `--since 2h` means.

CloudStack writes local time without a zone. The operator says which zone with `--tz`; by default the local
zone of the machine running csdiag is assumed, and every output states the zone it used.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from diagnostics.bounded import BoundedValueError, bounded_seconds, parse_number, shift

_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$")
_REL_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w)s?$", re.I)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400, "w": 604800}


class TimeSpecError(ValueError):
    pass


def local_zone() -> tuple[tzinfo, str]:
    """The machine's zone, by IANA name when it can be found (so DST is right), else its current offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = os.path.realpath("/etc/localtime")
            if "zoneinfo/" in target:
                name = target.split("zoneinfo/", 1)[1]
        except OSError:
            name = ""
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    tz = datetime.now().astimezone().tzinfo or timezone.utc
    return tz, str(tz)


def resolve_tz(name: str | None) -> tuple[tzinfo, str]:
    """`--tz` value -> (tzinfo, label). Accepts IANA names, UTC, +02:00 style offsets; None = local zone."""
    if not name or name.lower() == "local":
        tz, label = local_zone()
        return tz, f"{label} (local zone; use --tz to change)"
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc, "UTC"
    m = _OFFSET_RE.match(name)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return timezone(delta if m.group(1) == "+" else -delta), name
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeSpecError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin, UTC or +02:00)") from None


def parse_when(text: str, tz: tzinfo, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `1d` (before now) or an absolute `2025-03-10 14:00[:ss]` (in `tz`) -> aware datetime."""
    text = text.strip()
    m = _REL_RE.match(text)
    if m:
        now = now or datetime.now(timezone.utc)
        return shift(now, -timedelta(seconds=parse_duration(text)))
    try:
        if len(text) > 64:
            raise ValueError
        ts = datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        raise TimeSpecError(f"cannot read time {text[:40]!r}: use e.g. 2h, 30m, 1d or 2025-03-10 14:00") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=tz)


def parse_duration(text: str) -> float:
    m = _REL_RE.match(text.strip())
    if not m:
        raise TimeSpecError(f"cannot read duration {text[:40]!r}: use e.g. 90s, 10m, 2h")
    try:
        amount = parse_number(m.group(1), what="duration")
        return bounded_seconds(amount * _UNIT[m.group(2).lower()], what=f"duration {text.strip()[:20]!r}")
    except BoundedValueError as exc:
        raise TimeSpecError(str(exc)) from None
