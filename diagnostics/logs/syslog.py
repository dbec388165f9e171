"""Lines wrapped by journald/syslog: `Sep 03 01:12:08 mgmt01 java[2720]: WARN  [c.c.a.m.AgentManagerImpl] (...) ...`.

Classic syslog timestamps carry neither year nor zone: the year is inferred (from other inputs or the file's
modification time, rolling back a year for months after the reference month) and the output says so.
journald prints the month in the host's locale (`2月 10`, `avril 15`, `nov 20`, `мар 05`): the names it may use
are data (`data/syslog_months.toml`), so a French or Chinese host's journal is read like an English one.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, tzinfo
from importlib import resources


def _load_months() -> dict[str, int]:
    """Lower-cased month name (without a trailing dot) -> month number, from every locale in the data file."""
    data = tomllib.loads(resources.files("diagnostics.logs").joinpath("data/syslog_months.toml").read_text("utf-8"))
    months: dict[str, int] = {}
    for locale, names in data["months"].items():
        if len(names) != 12:
            raise ValueError(f"syslog_months.toml: locale {locale} lists {len(names)} months, not 12")
        for number, variants in enumerate(names, start=1):
            for name in variants.split("|"):
                key = name.strip().rstrip(".").casefold()
                if months.setdefault(key, number) != number:
                    raise ValueError(f"syslog_months.toml: {name!r} ({locale}) means month {months[key]} elsewhere")
    return months


MONTHS = _load_months()
# Longest names first so that `janv` is not read as `jan` followed by garbage.
_MONTH_ALT = "|".join(re.escape(name) for name in sorted(MONTHS, key=len, reverse=True))

SYSLOG_RE = re.compile(
    # the look-ahead rejects most lines (stack frames, messages) before the long alternation of month names is tried
    rf"(?:(?=[^\s\d]{{1,6}} +\d{{1,2}} \d\d:|\d{{1,2}}[月월] )(?P<mon>(?i:{_MONTH_ALT}))\.? +(?P<day>\d{{1,2}}) (?P<hms>\d{{2}}:\d{{2}}:\d{{2}})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?))"
    r" (?P<host>\S+) (?P<prog>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<rest>.*)",
    re.DOTALL,
)


def month_number(name: str) -> int | None:
    """`Dez`, `déc.`, `2月`, `мар` -> 12, 12, 2, 3; None for a name no listed locale uses."""
    return MONTHS.get(name.rstrip(".").casefold())


def syslog_ts(m: re.Match[str], year: int, ref_month: int | None, tz: tzinfo | None) -> datetime | None:
    """Timestamp of a syslog prefix; classic form gets `year`, minus one when its month lies after `ref_month`."""
    if m.group("iso"):
        text = m.group("iso")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]
        try:
            ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ts.replace(tzinfo=tz) if ts.tzinfo is None and tz is not None else ts
    month = month_number(m.group("mon"))
    if month is None:
        return None
    if ref_month is not None and month > ref_month:
        year -= 1
    h, mi, s = (int(x) for x in m.group("hms").split(":"))
    try:
        return datetime(year, month, int(m.group("day")), h, mi, s, tzinfo=tz)
    except ValueError:  # Feb 29 in an inferred non-leap year
        return None
