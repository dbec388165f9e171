"""Host evidence (a file or pasted text) -> facts: detect the command, parse it, stamp path and host.

Bad input never raises: binary junk, non-UTF-8 bytes, empty or huge files give one line naming the file,
and whatever could still be read is returned. dmesg-like files are streamed line by line; the other
commands print a few KiB, so only their first MAX_TABLE_BYTES are read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import IO

from diagnostics.host.detect import KINDS, detect_kind
from diagnostics.host.dmesg import dmesg_facts, parse_console, parse_dmesg, scan_dmesg
from diagnostics.host.free import free_facts, parse_free, unit_from_command
from diagnostics.host.hostname import host_from_path
from diagnostics.host.ksm import ksm_facts, parse_ksm
from diagnostics.host.lscpu import lscpu_facts, parse_lscpu
from diagnostics.host.meminfo import meminfo_facts, parse_meminfo
from diagnostics.host.numactl import numactl_facts, parse_numactl
from diagnostics.host.sensors import parse_sensors, sensors_facts
from diagnostics.host.uptime import parse_uptime, uptime_facts
from diagnostics.host.virsh_dominfo import dominfo_facts, parse_dominfo
from diagnostics.host.virsh_list import parse_virsh_list, virsh_list_facts
from diagnostics.host.virsh_nodeinfo import nodeinfo_facts, parse_nodeinfo
from diagnostics.model import Fact

HEAD_BYTES = 64 * 1024
MAX_TABLE_BYTES = 4 * 1024 * 1024
MAX_LINE_CHARS = 64 * 1024
MAX_KERNEL_EVENTS = 200_000
COMPRESSED_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"), (b"\x28\xb5\x2f\xfd", "zstd"))

_PARSERS: dict[str, Callable[[str, str, str | None], list[Fact]]] = {
    "meminfo": lambda t, p, h: list(meminfo_facts(parse_meminfo(t), path=p, host=h)),
    "ksm": lambda t, p, h: list(ksm_facts(parse_ksm(t), path=p, host=h)),
    "dmesg": lambda t, p, h: list(dmesg_facts(parse_dmesg(t), path=p, host=h)),
    "sensors": lambda t, p, h: list(sensors_facts(parse_sensors(t), path=p, host=h)),
    "lscpu": lambda t, p, h: list(lscpu_facts(parse_lscpu(t), path=p, host=h)),
    "numactl": lambda t, p, h: list(numactl_facts(parse_numactl(t), path=p, host=h)),
    "virsh_nodeinfo": lambda t, p, h: list(nodeinfo_facts(parse_nodeinfo(t), path=p, host=h)),
    "virsh_dominfo": lambda t, p, h: list(dominfo_facts(parse_dominfo(t), path=p, host=h)),
    "virsh_list": lambda t, p, h: list(virsh_list_facts(parse_virsh_list(t), path=p, host=h)),
    "uptime": lambda t, p, h: list(uptime_facts(parse_uptime(t), path=p, host=h)),
}


def free_unit_from_name(path: str) -> tuple[str | None, bool]:
    """`free_-m`, `free -g.txt`, `free-h_--si.out` -> the flag; sos's plain `free` is the default KiB."""
    name = os.path.basename(path).lower()
    name = re.sub(r"\.(?:txt|out|log)$", "", name)
    if not name.startswith("free"):
        return None, False
    if name == "free":
        return "k", False
    rest = re.sub(r"[_.]+", " ", name[4:])
    unit, decimal = unit_from_command("free " + rest)
    if unit is None:
        bare = [t for t in rest.split() if t in ("b", "k", "m", "g", "h")]
        unit = bare[0] if bare else None
    return unit, decimal


def facts_from_text(text: str, *, path: str = "<text>", host: str | None = None, kind: str | None = None) -> list[Fact]:
    """Facts from command output held in memory. Unknown content gives an empty list."""
    kind = kind or detect_kind(text[:HEAD_BYTES])
    if kind is None:
        return []
    host = host or (host_from_path(path) if path != "<text>" else None)
    if kind == "free":
        unit, decimal = free_unit_from_name(path)
        return list(free_facts(parse_free(text, unit=unit, decimal=decimal), path=path, host=host))
    parser = _PARSERS.get(kind)
    return parser(text, path, host) if parser else []


def _bounded_lines(stream: IO[str]) -> Iterator[str]:
    """Lines cut at MAX_LINE_CHARS so that a file without newlines cannot fill memory."""
    while True:
        line = stream.readline(MAX_LINE_CHARS)
        if not line:
            return
        yield line
        if not line.endswith("\n") and len(line) >= MAX_LINE_CHARS:
            while True:  # skip the rest of an overlong line
                more = stream.readline(MAX_LINE_CHARS)
                if not more or more.endswith("\n"):
                    break


def facts_from_file(path: str, host: str | None = None) -> tuple[list[Fact], list[str]]:
    """(facts, errors): errors are one-line messages naming the file; never raises on bad input."""
    errors: list[str] = []
    try:
        info = os.stat(path)
    except OSError as exc:
        return [], [f"{path}: cannot read ({exc.strerror or exc})"]
    if stat.S_ISDIR(info.st_mode):
        return [], [f"{path}: is a directory, not a command output file"]
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        return [], [f"{path}: not a regular file; skipped"]
    try:
        with open(path, "rb") as raw:
            head = raw.read(HEAD_BYTES)
            size = os.fstat(raw.fileno()).st_size
    except OSError as exc:
        return [], [f"{path}: cannot read ({exc.strerror or exc})"]
    if not head.strip():
        return [], [f"{path}: empty file, no host evidence"]
    for magic, name in COMPRESSED_MAGIC:
        if head.startswith(magic):
            return [], [f"{path}: {name}-compressed; decompress it first"]
    if b"\x00" in head:
        return [], [f"{path}: binary content (NUL bytes), not command output; skipped"]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            errors.append(f"{path}: not valid UTF-8 (first bad byte at offset {exc.start}); undecodable bytes replaced")
    text_head = head.decode("utf-8", errors="replace")
    kind = detect_kind(text_head)
    if kind is None:
        return [], errors + [f"{path}: not recognised as host command output ({', '.join(KINDS)}); skipped"]
    if kind == "guest_console":  # the guest's boot, not this host's kernel: summarised, never host facts
        return [], errors + [console_note(path)]
    host = host or host_from_path(path)
    refused = re.search(r"^dmesg: read kernel buffer failed: (.*)$", text_head, re.M)
    if kind == "dmesg" and refused:
        errors.append(f"{path}: the host refused to give its kernel log ({refused.group(1).strip()}); "
                      "kernel events unknown (probe with sudo or kernel.dmesg_restrict=0)")
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as stream:
            if kind == "dmesg":
                facts: list[Fact] = []
                for event in scan_dmesg(_bounded_lines(stream), path=path, host=host):
                    facts.append(event)
                    if len(facts) >= MAX_KERNEL_EVENTS:
                        errors.append(f"{path}: stopped after {MAX_KERNEL_EVENTS} kernel events; the rest is not read")
                        break
                return facts, errors
            text = stream.read(MAX_TABLE_BYTES)
    except OSError as exc:
        return [], errors + [f"{path}: cannot read ({exc.strerror or exc})"]
    if size > MAX_TABLE_BYTES:
        errors.append(f"{path}: {size} bytes is too large for {kind} output; only the first "
                      f"{MAX_TABLE_BYTES // (1024 * 1024)} MiB were read")
    return facts_from_text(text, path=path, host=host, kind=kind), errors


def console_note(path: str) -> str:
    """One line naming the file: what a guest serial console shows (boots, how far the last got, the guest)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return f"{path}: {parse_console(stream.read(MAX_TABLE_BYTES)).describe()}"
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc})"
