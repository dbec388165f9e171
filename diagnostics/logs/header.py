"""A log4j header line -> its fields, for every layout CloudStack has shipped.

Layouts (cloudstack-log-formats.md §1):
    4.20+ log4j2   2025-01-02 03:04:05,678 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-3:[ctx-5e6f7a8b, job-1201/job-1202, ctx-77aa01bc]) (logid:9c0e4a11) msg
    4.7-4.19       2019-05-06 07:08:09,410 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-3:ctx-5e6f7a8b job-1201/job-1202 ctx-77aa01bc) (logid:9c0e4a11) msg
    <= 4.14 style  2015-01-02 03:04:05,678 DEBUG [cloud.capacity.CapacityManagerImpl] (Job-Executor-11:job-1076) msg
    early 4.20 / system VMs: the same with an ISO `T` between date and time.
Header-less generations, read in pastes and prose only (message records): the CONSOLE layout without a timestamp
(`BARE_HEADER_RE`), headers whose time the writer elided (`ELIDED_HEADER_RE`), and the Python logging layout of the
setup scripts' logs (`PYTHON_LOGGING_RE`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

from diagnostics.bounded import MAX_INT_DIGITS

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

# Anchored at line start; `thread` is lazy up to the first ':' because the NDC itself may contain ':' in old builds.
HEADER_RE = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{1,9})?)"
    r"\s+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+"
    r"\[(?P<logger>[^\]]*)\]\s?"
    r"(?:\((?P<thread>[^():]*(?:\([^()]*\)[^():]*)*):(?P<ndc>\[[^\]]*\]|[^)]*)\)\s?)?"
    r"(?:\(logid:(?P<logid>[0-9a-fA-F]*)\)\s?)?"
    r"(?P<msg>.*)",
    re.DOTALL,
)

# The same without the timestamp: CONSOLE layout as journald captures it (`WARN  [c.c.a.m.AgentManagerImpl] (...) ...`).
BARE_HEADER_RE = re.compile(
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+"
    r"\[(?P<logger>[^\]]*)\]\s?"
    r"(?:\((?P<thread>[^():]*(?:\([^()]*\)[^():]*)*):(?P<ndc>\[[^\]]*\]|[^)]*)\)\s?)?"
    r"(?:\(logid:(?P<logid>[0-9a-fA-F]*)\)\s?)?"
    r"(?P<msg>.*)",
    re.DOTALL,
)

# Records pasted with their timestamp (and thread) elided by the writer: `... DEBUG c.c.u.s.SSHCmdHelper Executing cmd`,
# `… WARN  [c.c.h.k.d.KvmServerDiscoverer] (...) can't setup agent`. The logger is a dotted class name, bracketed or not.
ELIDED_HEADER_RE = re.compile(
    r"(?:\.{3}|…|\[\.{3}\])[ \t]+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)[ \t]+"
    r"(?:\[(?P<blogger>[^\]\s]+)\]|(?P<logger>(?:[\w$-]+\.)+[\w$]+))[ \t]+"
    r"(?:\((?P<thread>[^():]*):(?P<ndc>[^)]*)\)[ \t]*)?(?:\(logid:(?P<logid>[0-9a-fA-F]*)\)[ \t]*)?"
    r"(?P<msg>\S.*)",
    re.DOTALL,
)

# Python's logging.basicConfig layout `%(levelname)s:%(name)s:%(message)s`, which cloudstack-setup-agent and
# cloudstack-setup-management write to setup.log / setupManagement.log: `DEBUG:root:execute:awk ...`.
PYTHON_LOGGING_RE = re.compile(r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[A-Za-z_][\w.]*):(?P<msg>.*)", re.DOTALL)
PYTHON_LEVELS = {"WARNING": "WARN", "CRITICAL": "FATAL"}

# A short token a log collector writes before the timestamp: `mgmt01 2024-...`, `kvm03: 2024-...`, `[kvm03] 2024-...`.
ORIGIN_RE = re.compile(r"\[?(?P<origin>[A-Za-z][\w.-]{0,62})\]?:?[ \t]+(?=\d{4}-\d{2}-\d{2}[ T]\d{2}:)")

_JOB_RE = re.compile(r"job-(\d+)(?:/job-(\d+))?")


def parse_ts(text: str, tz: tzinfo | None) -> datetime | None:
    """`2025-01-02 03:04:05,678` or `2025-01-02T03:04:05.678` -> aware datetime in `tz`."""
    suffix = offset_suffix(tz)
    try:
        ts = datetime.fromisoformat(text + suffix if suffix else text)  # takes ',' and 3 or 6 fraction digits
    except ValueError:
        try:
            ts = datetime.fromisoformat(text.replace(",", ".", 1))
        except ValueError:
            return None
    if ts.tzinfo is None and tz is not None:
        ts = ts.replace(tzinfo=tz)
    return ts


_SUFFIXES: dict[tzinfo | None, str] = {None: ""}


def offset_suffix(tz: tzinfo | None) -> str:
    """`+02:00` for a fixed-offset zone: parsing it with the stamp is several times cheaper than `replace(tzinfo=)`.
    Empty for zones with rules (DST): those are attached afterwards."""
    suffix = _SUFFIXES.get(tz)
    if suffix is None:
        suffix = ""
        if isinstance(tz, timezone):
            offset = tz.utcoffset(None)
            sign = "-" if offset < timedelta(0) else "+"
            seconds = abs(int(offset.total_seconds()))
            candidate = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
            probe = datetime.fromisoformat("2025-01-02 03:04:05" + candidate)
            if probe.tzinfo == tz and probe.tzname() == tz.tzname(None) and not offset.microseconds and seconds % 60 == 0:
                suffix = candidate
        _SUFFIXES[tz] = suffix
    return suffix


def ndc_jobs(ndc: str | None) -> tuple[int, ...]:
    """NDC stack -> job ids (API job, work job). `[ctx-a, job-1/job-2, ctx-b]`, `ctx-a job-1/job-2 ctx-b`, `job-1076`."""
    m = _JOB_RE.search(ndc) if ndc and "job-" in ndc else None
    if m is None:
        return ()
    api, work = m.groups()
    # a hostile 5000-digit id is no job id: it is dropped (as bounded.int_or_none would) instead of failing the file.
    # `\d+` holds digits only, so the length test is the whole bound and int() cannot fail; inline, as this runs
    # for every record read (a generator and two calls per id were 2 us of the ~10 us of a header)
    if work is None:
        return (int(api),) if len(api) <= MAX_INT_DIGITS else ()
    if len(api) <= MAX_INT_DIGITS and len(work) <= MAX_INT_DIGITS:
        return int(api), int(work)
    return tuple(int(j) for j in (api, work) if len(j) <= MAX_INT_DIGITS)


def layout_name(ts: str | None, ndc: str | None, logid: str | None) -> str:
    """Name the layout generation of a header (shown in `inputs` so operators see what was assumed)."""
    gen = "log4j2" if ndc is not None and ndc.startswith("[") else ("log4j1-logid" if logid is not None else "log4j1")
    return f"{gen}-iso" if ts is not None and "T" in ts[:11] else gen


def layout_of(m: re.Match[str]) -> str:
    """The layout generation of a matched header (`layout_name` of its fields)."""
    return layout_name(m.group("ts") if m.re is HEADER_RE else None, m.group("ndc"), m.group("logid"))
