"""Lines wrapped by journald/syslog: `Sep 03 01:12:08 mgmt01 java[2720]: WARN  [c.c.a.m.AgentManagerImpl] (...) ...`.

Classic syslog timestamps carry neither year nor zone: the year is inferred (from other inputs or the file's
modification time, rolling back a year for months after the reference month) and the output says so.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}

SYSLOG_RE = re.compile(
    r"(?:(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?))"
    r" (?P<host>\S+) (?P<prog>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<rest>.*)",
    re.DOTALL,
)


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
    month = MONTHS[m.group("mon")]
    if ref_month is not None and month > ref_month:
        year -= 1
    h, mi, s = (int(x) for x in m.group("hms").split(":"))
    try:
        return datetime(year, month, int(m.group("day")), h, mi, s, tzinfo=tz)
    except ValueError:  # Feb 29 in an inferred non-leap year
        return None
