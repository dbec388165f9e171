"""CapacityManagerImpl lines -> capacity_check and capacity_change facts.

A capacity check is a block of lines in one thread (cloudstack-log-formats.md §3):
    Checking if host: <host> has enough capacity for requested CPU: 16000 and requested RAM: (32.00 GB) 34359738368 , cpuOverprovisioningFactor: 2.0
    Hosts's actual total CPU: 96000 and CPU after applying overprovisioning: 192000
    Free CPU: 88000 , Requested CPU: 16000            (or Reserved CPU/RAM when re-allocating to the last host)
    Free RAM: (13.50 GB) 14495514624 , Requested RAM: (32.00 GB) 34359738368
    STATS: Failed to alloc resource from host: ...
    Host does not have enough RAM available, cannot allocate to this host.     (or: Host has enough CPU and RAM available)
The block is opened by its first line and emitted as one fact by its outcome line.
"""

from __future__ import annotations

import re

from diagnostics.catalogue import load_catalogue
from diagnostics.facts.entities import find_host, host_named, parse_size
from diagnostics.facts.registry import ExtractContext, base, extractor, flusher
from diagnostics.model import Record
from diagnostics.model.log_facts import CapacityChange, CapacityCheck

_SIZE = r"((?:\([^)]*\) )?-?\d+)"
_CHECK_RE = re.compile(
    r"Checking if host: (?P<host>.+?) has enough capacity for requested CPU: (?P<cpu>-?\d+) and requested RAM: "
    + _SIZE.replace("(", "(?P<ram>", 1)
    + r" ?, cpuOverprovisioningFactor: (?P<factor>[\d.]+)"
)
_TOTAL_CPU_RE = re.compile(r"Hosts's actual total CPU: (-?\d+) and CPU after applying overprovisioning: (-?\d+)")
_TOTAL_RAM_RE = re.compile(r"Hosts's actual total RAM: " + _SIZE + r" and RAM after applying overprovisioning: " + _SIZE)
_FREE_RE = re.compile(r"^(Free|Reserved) (CPU|RAM): " + _SIZE + r" ?, Requested (?:CPU|RAM): " + _SIZE)
_FAILED_STATS_RE = re.compile(
    r"STATS: Failed to alloc resource from host: .*?,? reservedCpu: (?P<rcpu>-?\d+), (?:used cpu: (?P<ucpu>-?\d+), )?"
    r"requested cpu: (?P<cpu>-?\d+), (?:actual total cpu: (?P<atcpu>-?\d+), total cpu with overprovisioning: (?P<tcpu>-?\d+), )?"
    r"reservedMem: " + _SIZE.replace("(", "(?P<rmem>", 1) + r", (?:used Mem: " + _SIZE.replace("(", "(?P<umem>", 1) + r", )?"
    r"requested mem: " + _SIZE.replace("(", "(?P<mem>", 1) + r"(?:, total Mem: " + _SIZE.replace("(", "(?P<tmem>", 1) + r")?"
)
_CAN_CPU_RE = re.compile(
    r"STATS: Can alloc CPU from host: .*?, used: (-?\d+), reserved: (-?\d+), actual total: (-?\d+), total with overprovisioning: (-?\d+); requested cpu: (-?\d+)"
)
_CAN_MEM_RE = re.compile(
    r"STATS: Can alloc MEM from host: .*?, used: " + _SIZE + r", reserved: " + _SIZE + r", total: " + _SIZE + r"; requested mem: " + _SIZE
)
# The outcome lines of a check are catalogue entries (fact_kind "capacity_check", event = the outcome; the opening
# `Checking if host:` line is event "check").
_CATALOGUE = load_catalogue()
_OUTCOME_ANCHORS = sorted({t.literals()[0] for t in _CATALOGUE.by_fact_kind("capacity_check") if t.event != "check"})


def _thread_key(rec: Record) -> str:
    return f"{rec.path}|{rec.thread}"


def _size(text: str | None) -> int | None:
    return parse_size(text) if text is not None else None


@extractor("Checking if host:", "Cannot checkIfHostHasCapacity")
def capacity_check_start(rec: Record, ctx: ExtractContext):
    msg = rec.message
    out = []
    key = _thread_key(rec)
    previous = ctx.open_checks.pop(key, None)
    if previous is not None:
        out.append(previous)  # a block that never logged its outcome
    if msg.startswith("Cannot checkIfHostHasCapacity"):
        host = find_host(msg)
        out.append(CapacityCheck(**base(rec, host_id=host and host.id, host_name=host and host.name), outcome="no_capacity_entry", reason=msg))
        return out
    m = _CHECK_RE.search(msg)
    if m is None:
        return out
    host = host_named(m.group("host"))
    ctx.open_checks[key] = CapacityCheck(
        **base(rec, host_id=host and host.id, host_name=host and host.name),
        requested_cpu=int(m.group("cpu")),
        requested_ram=parse_size(m.group("ram")),
        cpu_overprovisioning=float(m.group("factor")),
    )
    return out


@extractor("Hosts's actual total", "We need to allocate to the last host again", "Free CPU: ", "Free RAM: ",
           "Reserved CPU: ", "Reserved RAM: ", "STATS: Failed to alloc", "STATS: Can alloc")
def capacity_check_detail(rec: Record, ctx: ExtractContext):
    check: CapacityCheck | None = ctx.open_checks.get(_thread_key(rec))
    if check is None:
        return None
    msg = rec.message
    if msg.startswith("Hosts's actual total CPU"):
        m = _TOTAL_CPU_RE.search(msg)
        if m:
            check.actual_total_cpu, check.total_cpu = int(m.group(1)), int(m.group(2))
    elif msg.startswith("Hosts's actual total RAM"):
        m = _TOTAL_RAM_RE.search(msg)
        if m:
            check.actual_total_ram, check.total_ram = parse_size(m.group(1)), parse_size(m.group(2))
    elif msg.startswith("We need to allocate to the last host again"):
        check.from_reserved = True
    elif msg.startswith(("Free ", "Reserved ")):
        m = _FREE_RE.search(msg)
        if m:
            value = parse_size(m.group(3))
            target = ("free_" if m.group(1) == "Free" else "reserved_") + ("cpu" if m.group(2) == "CPU" else "ram")
            setattr(check, target, value)
    elif msg.startswith("STATS: Failed"):
        m = _FAILED_STATS_RE.search(msg)
        if m:
            check.reserved_cpu = int(m.group("rcpu"))
            check.used_cpu = int(m.group("ucpu")) if m.group("ucpu") else check.used_cpu
            check.actual_total_cpu = int(m.group("atcpu")) if m.group("atcpu") else check.actual_total_cpu
            check.total_cpu = int(m.group("tcpu")) if m.group("tcpu") else check.total_cpu
            check.reserved_ram = _size(m.group("rmem"))
            check.used_ram = _size(m.group("umem")) if m.group("umem") else check.used_ram
            check.total_ram = _size(m.group("tmem")) if m.group("tmem") else check.total_ram
    elif msg.startswith("STATS: Can alloc CPU"):
        m = _CAN_CPU_RE.search(msg)
        if m:
            check.used_cpu, check.reserved_cpu, check.actual_total_cpu, check.total_cpu = (int(m.group(i)) for i in range(1, 5))
    elif msg.startswith("STATS: Can alloc MEM"):
        m = _CAN_MEM_RE.search(msg)
        if m:
            check.used_ram, check.reserved_ram, check.total_ram = (parse_size(m.group(i)) for i in range(1, 4))
    return None


@extractor(*_OUTCOME_ANCHORS)
def capacity_check_outcome(rec: Record, ctx: ExtractContext):
    check: CapacityCheck | None = ctx.open_checks.pop(_thread_key(rec), None)
    if check is None:
        return None
    msg = rec.message
    check.line, check.ts = rec.line, rec.ts or check.ts  # the outcome line is the evidence; the request stays in the fields
    check.text = msg[:400]
    found = _CATALOGUE.match(msg)
    event = found.template.event if found is not None and found.template.fact_kind == "capacity_check" else None
    if event == "ok":
        check.outcome = "ok"
    else:
        check.outcome = event or "insufficient"
        check.reason = msg.split(", cannot allocate", 1)[0]
    if check.free_ram is None and check.total_ram is not None and check.used_ram is not None and check.reserved_ram is not None and not check.from_reserved:
        check.free_ram = check.total_ram - check.used_ram - check.reserved_ram
    return [check]


@flusher
def capacity_checks_left_open(ctx: ExtractContext):
    left = list(ctx.open_checks.values())
    ctx.open_checks.clear()
    return left


_RELEASE_RE = re.compile(
    r"release (cpu|mem) from host: (?P<host>.+?), old used: " + _SIZE.replace("(", "(?P<old_used>", 1)
    + r", ?reserved: ?" + _SIZE.replace("(", "(?P<old_res>", 1)
    + r", (?:actual total: -?\d+, total with overprovisioning: |total: )" + _SIZE.replace("(", "(?P<total>", 1)
    + r"; new used: " + _SIZE.replace("(", "(?P<new_used>", 1) + r", ?reserved: ?" + _SIZE.replace("(", "(?P<new_res>", 1)
)
_ALLOC_RE = re.compile(
    r"(CPU|RAM) STATS after allocation: for host: (?P<host>.+?), old used: " + _SIZE.replace("(", "(?P<old_used>", 1)
    + r", old reserved: " + _SIZE.replace("(", "(?P<old_res>", 1)
    + r", (?:actual total: -?\d+, total with overprovisioning: |total: )" + _SIZE.replace("(", "(?P<total>", 1)
    + r"; new used: " + _SIZE.replace("(", "(?P<new_used>", 1) + r", reserved: " + _SIZE.replace("(", "(?P<new_res>", 1)
    + r"; requested (?:cpu|mem): " + _SIZE.replace("(", "(?P<req>", 1)
)
_CALIBRATE_RE = re.compile(
    r"Calibrate (used|reserved) (cpu|memory) for host: (?P<host>.+?) old (?:used|reserved)(?:Cpu|Mem|Memory)?: ?"
    + _SIZE.replace("(", "(?P<old>", 1) + r" new (?:used|reserved)(?:Cpu|Mem|Memory)?: ?" + _SIZE.replace("(", "(?P<new>", 1)
)


def _change(rec: Record, m: re.Match[str], op: str) -> list[CapacityChange]:
    """One release/allocate line: both name the host, old and new used/reserved and the total."""
    host = find_host(m.group("host"))
    groups = m.groupdict()
    return [CapacityChange(
        **base(rec, host_id=host and host.id, host_name=host and host.name),
        op=op, resource="cpu" if m.group(1).lower() == "cpu" else "memory",
        old_used=parse_size(m.group("old_used")), new_used=parse_size(m.group("new_used")),
        old_reserved=parse_size(m.group("old_res")), new_reserved=parse_size(m.group("new_res")),
        total=parse_size(m.group("total")), requested=_size(groups.get("req")),
    )]


@extractor("release cpu from host:", "release mem from host:")
def capacity_release(rec: Record, ctx: ExtractContext):
    m = _RELEASE_RE.search(rec.message)
    return _change(rec, m, "release") if m else None


@extractor("STATS after allocation:")
def capacity_allocate(rec: Record, ctx: ExtractContext):
    m = _ALLOC_RE.search(rec.message)
    return _change(rec, m, "allocate") if m else None


@extractor("Calibrate used", "Calibrate reserved")
def capacity_calibrate(rec: Record, ctx: ExtractContext):
    m = _CALIBRATE_RE.search(rec.message)
    if m is None:
        return None
    host = find_host(m.group("host"))
    used = m.group(1) == "used"
    old, new = parse_size(m.group("old")), parse_size(m.group("new"))
    return [CapacityChange(
        **base(rec, host_id=host and host.id, host_name=host and host.name),
        op="calibrate", resource="cpu" if m.group(2) == "cpu" else "memory",
        old_used=old if used else None, new_used=new if used else None,
        old_reserved=None if used else old, new_reserved=None if used else new,
    )]
