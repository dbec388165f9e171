"""`uptime` (procps 3.x/4.x), `uptime -p` and `/proc/uptime` -> a HostUptime fact.

    >>> up = parse_uptime(" 17:04:10 up 12 days,  3:04,  2 users,  load average: 0.52, 0.58, 0.59")
    >>> (up.uptime_s, up.users, up.load1)
    (1047840.0, 2, 0.52)

The uptime field takes the forms `12 days,  3:04`, `3:04`, `40 min`, `1 day, 40 min`; some locales print
load averages with decimal commas (`0,52, 0,58, 0,59`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyparsing as pp

from diagnostics.model.host_facts import HostUptime

_INT = pp.Word(pp.nums).set_parse_action(lambda t: int(t[0]))
_DAYS = _INT("days") + pp.Suppress(pp.one_of("days day")) + pp.Suppress(",")
_HHMM = pp.Regex(r"(?P<h>\d{1,2}):(?P<m>\d\d)")("hhmm")
_MIN = _INT("minutes") + pp.Suppress(pp.one_of("min mins"))
_LOAD = pp.Regex(r"\d+[.,]\d+")
_UPTIME = (
    pp.Regex(r"\d\d:\d\d(?::\d\d)?")("clock")
    + pp.Suppress("up")
    + pp.Optional(_DAYS)
    + (_HHMM | _MIN)
    + pp.Suppress(",")
    + pp.Optional(_INT("users") + pp.Suppress(pp.one_of("users user")) + pp.Suppress(","))
    + pp.Suppress(pp.one_of(["load averages:", "load average:"]))
    + _LOAD("l1") + pp.Suppress(pp.Optional(",")) + _LOAD("l5") + pp.Suppress(pp.Optional(",")) + _LOAD("l15")
    + pp.StringEnd()
)
_PRETTY_UNIT = {"year": 31536000, "week": 604800, "day": 86400, "hour": 3600, "minute": 60}
_PRETTY = pp.Suppress("up") + pp.DelimitedList(
    pp.Group(_INT("n") + pp.Regex(r"(year|week|day|hour|minute)s?")("unit"))
)("parts") + pp.StringEnd()
_PROC = pp.Regex(r"\d+\.\d+")("up") + pp.Regex(r"\d+\.\d+")("idle") + pp.StringEnd()


@dataclass(slots=True)
class Uptime:
    uptime_s: float | None = None
    users: int | None = None
    load1: float | None = None
    load5: float | None = None
    load15: float | None = None
    clock: str | None = None
    line: int = 0
    text: str = ""


def _load(value: str) -> float:
    return float(value.replace(",", "."))


def parse_uptime(text: str) -> Uptime:
    """The first line in any of the three forms; other lines are skipped."""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            p = _UPTIME.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            pass
        else:
            minutes = p.get("minutes", 0)
            if "hhmm" in p:
                h, m = p["hhmm"].split(":")
                minutes = int(h) * 60 + int(m)
            seconds = float(p.get("days", 0) * 86400 + minutes * 60)
            return Uptime(seconds, p.get("users"), _load(p["l1"]), _load(p["l5"]), _load(p["l15"]), p["clock"],
                          lineno, line)
        try:
            p = _PRETTY.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            pass
        else:
            seconds = float(sum(g["n"] * _PRETTY_UNIT[g["unit"].rstrip("s")] for g in p["parts"]))
            return Uptime(uptime_s=seconds, line=lineno, text=line)
        try:
            p = _PROC.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            continue
        return Uptime(uptime_s=float(p["up"]), line=lineno, text=line)
    return Uptime()


def uptime_facts(up: Uptime, *, path: str = "<text>", host: str | None = None) -> list[HostUptime]:
    if up.uptime_s is None:
        return []
    return [
        HostUptime(path=path, line=up.line, text=up.text, host_name=host, uptime_s=up.uptime_s, users=up.users,
                   load1=up.load1, load5=up.load5, load15=up.load15, clock=up.clock)
    ]
