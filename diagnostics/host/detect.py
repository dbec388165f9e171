"""Which command printed this text? Recognised by content, never by file name.

Evidence arrives as probe-folder files, sosreport `sos_commands/...` files and pastes from tickets (often with
the shell prompt and command line on top), so each kind is recognised by lines only that command prints.
The checks run most specific first; the first match wins.

    >>> detect_kind("               total        used        free      shared  buff/cache   available\\nMem:  1 2 3 4 5 6")
    'free'
    >>> detect_kind("hello") is None
    True
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

import pyparsing as pp

from diagnostics.host.free import HEADER as FREE_HEADER

KINDS = (
    "free", "meminfo", "ksm", "numactl", "virsh_list", "virsh_dominfo", "virsh_nodeinfo", "lscpu", "sensors", "uptime", "dmesg",
)
# Not host evidence: output about a guest, recognised so that it is attributed to the guest and never to the host.
GUEST_KINDS = ("guest_console",)
HEAD_LINES = 200
_KERNEL_STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_STRONG_CONSOLE = ("firmware", "boot loader", "the emulator's own messages on the console")

_DMESG_PREFIX = re.compile(
    r"^(?:\[\s*\d+\.\d{6}\]"  # [   12.345678]
    r"|\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}\]"  # [Mon Mar 10 17:04:10 2025]
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{6}[+-]\d\d:\d\d"  # 2025-03-10T17:04:10,123456+00:00
    r"|(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) \S+ kernel: )"  # syslog / journal
)
_SENSOR_TEMP = re.compile(r"^[^:]+:\s+[+-]?\d+(?:\.\d+)? ?(?:°|\ufffd)?C\b")
_UPTIME = re.compile(r"^\d\d:\d\d(?::\d\d)? +up .*load averages?: ")
_UPTIME_PRETTY = re.compile(r"^up \d+ (?:year|week|day|hour|minute)s?\b")
_PROC_UPTIME = re.compile(r"^\d+\.\d\d \d+\.\d\d$")
_VIRSH_LIST_HEADER = re.compile(r"^\s*Id\s+Name\s+State\s*$")


def _starts(lines: list[str], *prefixes: str) -> bool:
    return all(any(line.lstrip().startswith(p) for line in lines) for p in prefixes)


def _is_free(lines: list[str]) -> bool:
    if not any(line.lstrip().startswith("Mem:") for line in lines):
        return False
    for line in lines:
        try:
            FREE_HEADER.parse_string(line.strip(), parse_all=True)
            return True
        except pp.ParseException:
            continue
    return False


@lru_cache(maxsize=1)
def console_markers() -> dict[str, list[tuple[str, re.Pattern[str], list[str]]]]:
    """The guest-console markers of data/guest_console.toml: section -> [(name, compiled pattern, examples)]."""
    text = resources.files("diagnostics.host").joinpath("data/guest_console.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {
        section: [(entry["name"], re.compile(entry["pattern"]), list(entry.get("examples", []))) for entry in entries]
        for section, entries in data.items()
    }


def console_signals(lines: list[str]) -> dict[str, set[str]]:
    """Which marker groups of each section the lines show (kernel stamps removed first)."""
    markers = console_markers()
    found: dict[str, set[str]] = {section: set() for section in markers}
    for line in lines:
        text = _KERNEL_STAMP.sub("", line.strip(), count=1)
        if not text:
            continue
        for section, entries in markers.items():
            for name, pattern, _examples in entries:
                if name not in found[section] and pattern.match(text):
                    found[section].add(name)
    return found


def is_guest_console(lines: list[str]) -> bool:
    """A guest's serial console: firmware, boot loader or emulator lines; or two kinds of console-only lines (a
    login prompt and init status, say) or one with kernel lines; or a kernel that writes to a serial port and runs
    in a VM. A guest's own `dmesg` has none of these and stays `dmesg`."""
    signals = console_signals(lines)
    console = signals.get("console_only", set())
    if console & set(_STRONG_CONSOLE):
        return True
    kernel_lines = any(_KERNEL_STAMP.match(line.strip()) for line in lines)
    if len(console) >= 2 or (console and kernel_lines):
        return True
    return bool(signals.get("serial_kernel")) and bool(signals.get("guest_kernel"))


def detect_kind(text_head: str) -> str | None:
    """One of KINDS or GUEST_KINDS, or None when the text is none of them (an agent.log, a random paste)."""
    lines = text_head.splitlines()[:HEAD_LINES]
    stripped = [line.strip() for line in lines if line.strip()]
    if not stripped:
        return None
    if stripped[0].startswith("{"):
        joined = "".join(stripped)
        # `sensors -j` on a machine without sensors prints an empty object
        return "sensors" if '"Adapter"' in joined or '_input"' in joined or joined.replace(" ", "") == "{}" else None
    if _is_free(lines):
        return "free"
    if _starts(stripped, "MemTotal:", "MemFree:"):
        return "meminfo"
    if sum(1 for s in stripped if s.startswith("/sys/kernel/mm/ksm/")) * 2 >= len(stripped):
        return "ksm"
    if any(s.startswith("No NUMA available on this system") for s in stripped):
        return "numactl"
    if any(s.startswith("available:") and " node" in s for s in stripped) and any(
        re.match(r"^node \d+ (?:cpus|size):", s) for s in stripped
    ):
        return "numactl"
    if any(_VIRSH_LIST_HEADER.match(line) for line in lines):
        return "virsh_list"
    if _starts(stripped, "Name:", "State:") and (_starts(stripped, "Max memory:") or _starts(stripped, "UUID:")):
        return "virsh_dominfo"
    if _starts(stripped, "CPU model:", "Memory size:"):
        return "virsh_nodeinfo"
    if _starts(stripped, "Architecture:") and (_starts(stripped, "CPU(s):") or _starts(stripped, "Model name:")):
        return "lscpu"
    if any(s.startswith("No sensors found!") for s in stripped) or (
        _starts(stripped, "Adapter:") and any(_SENSOR_TEMP.match(s) for s in stripped)
    ):
        return "sensors"
    if any(_UPTIME.match(s) or _UPTIME_PRETTY.match(s) for s in stripped) or (
        len(stripped) == 1 and _PROC_UPTIME.match(stripped[0])
    ):
        return "uptime"
    if is_guest_console(stripped):
        return "guest_console"
    if any(s.startswith("dmesg: read kernel buffer failed") for s in stripped):
        return "dmesg"  # dmesg_restrict: recorded by the probe, reported by facts_from_file
    stamped = sum(1 for s in stripped if _DMESG_PREFIX.match(s))
    if stamped and (stamped * 2 >= len(stripped) or any(" kernel: " in s for s in stripped)):
        return "dmesg"
    return None
