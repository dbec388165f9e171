"""Kernel ring buffer (`dmesg`, `dmesg -T`, `dmesg --time-format iso`, syslog/journal `kernel:` lines) -> KernelEvent facts.

This is the one host input that can be large (a sosreport's var/log/messages, months of journal), so it is
scanned line by line (`scan_dmesg` is a generator, memory stays constant) with compiled regular expressions
behind cheap substring tests, as insights-core and hotsos do for log lines; the small tabular commands use
pyparsing grammars instead.

    >>> log = parse_dmesg('''[ 8123.456789] Out of memory: Killed process 23456 (qemu-kvm) total-vm:17345672kB, anon-rss:16712340kB, file-rss:2048kB, shmem-rss:0kB, UID:107 pgtables:33500kB oom_score_adj:0''')
    >>> (log.events[0].event, log.events[0].process, log.events[0].pid)
    ('oom_kill', 'qemu-kvm', 23456)

Boots: a monotonic stamp that goes backwards, or a `Linux version` banner after other lines, starts a new boot;
`boot` is its index in the file so rules do not compare uptimes across reboots. Message wording follows
cloudstack-log-formats.md section 8 (kernel sources, both generations where they differ).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from diagnostics.model.host_facts import KernelEvent

# --- line prefixes -------------------------------------------------------------------------------------------
_RAW = re.compile(r"^\[\s*(?P<up>\d+\.\d+)\]\s?")
_CTIME = re.compile(r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d) (?P<year>\d{4})\]\s?")
_ISO = re.compile(r"^(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[,.](?P<frac>\d{1,9}))?(?P<tz>[+-]\d\d:?\d\d|Z)?\s")
_SYSLOG = re.compile(r"^(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|(?P<iso>\d{4}-\d\d-\d\dT\S+)) (?P<host>\S+) kernel: ")
_FACILITY = re.compile(r"^(?:kern|user|daemon|syslog)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*: ")
# every message _match can turn into an event contains one of these (plus the boot banner); a line without
# any of them is only followed for its stamp, which keeps large logs fast
_INTERESTING = re.compile(
    r"oom|Kill|Task in |temperature|INFO: task |virtio_balloon|Built |mce: |NETDEV|ink|eset|imeout|Hang|Linux version "
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}

# --- messages ------------------------------------------------------------------------------------------------
_OOM_INVOKED = re.compile(r"^(?P<comm>.{1,20}?) invoked oom-killer: ")
_OOM_KILL_INFO = re.compile(r"^oom-kill:(?P<kv>.*)$")
_OOM_TASK_IN = re.compile(r"^Task in (?P<memcg>\S+) killed as a result of limit of (?P<limit>\S+)")
_OOM_KILL_OLD = re.compile(
    r"^(?P<scope>Out of memory|Memory cgroup out of memory): Kill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>\d+) or sacrifice child"
)
_OOM_KILLED = re.compile(
    r"^(?:(?P<scope>Out of memory|Memory cgroup out of memory)(?: \([^)]*\))?: )?Killed process (?P<pid>\d+),? (?:UID \d+, )?"
    r"\((?P<comm>.*?)\)(?: total-vm:(?P<tvm>\d+)kB, anon-rss:(?P<anon>\d+)kB)?"
)
_THROTTLE = re.compile(
    r"CPU(?P<cpu>\d+): (?P<zone>Core|Package) temperature (?:is )?above threshold, cpu clock (?:is )?throttled \(total events = (?P<count>\d+)\)"
)
_THERMAL_NORMAL = re.compile(r"CPU(?P<cpu>\d+): (?P<zone>Core|Package) temperature/speed normal(?: \(total events = (?P<count>\d+)\))?")
_NETDEV = re.compile(r"^(?P<driver>[\w-]+) (?P<bus>[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (?P<dev>[^\s:]+): (?P<msg>.*)$")
_WATCHDOG_OLD = re.compile(r"NETDEV WATCHDOG: (?P<dev>\S+) \((?P<driver>[^)]*)\): transmit queue (?P<queue>\d+) timed out")
_WATCHDOG_NEW = re.compile(r"NETDEV WATCHDOG: CPU: \d+: transmit queue (?P<queue>\d+) timed out")
_BOND_DOWN = re.compile(r"^(?P<bond>[\w.-]+): \((?:slave|member) (?P<dev>[^)]+)\): link status definitely down")
_LINK_DOWN = re.compile(r"NIC Link is Down|\bLink is [Dd]own\b|\bLink down\b")
_LINK_UP = re.compile(r"NIC Link is Up|\bLink is [Uu]p\b|\bLink up\b")
_RESET = re.compile(r"Reset adapter|initiating reset|Detected Hardware Unit Hang|reset adapter|starting reset task|resetting", re.I)
_TX_TIMEOUT = re.compile(r"tx[ _]timeout|TX timeout", re.I)
_HUNG = re.compile(r"^INFO: task (?P<comm>.+):(?P<pid>\d+) blocked for more than (?P<secs>\d+) seconds")
_ZONELISTS = re.compile(r"^Built (?P<n>\d+) zonelists.*Total pages: (?P<pages>\d+)")
_BALLOON = re.compile(r"^virtio_balloon (?P<dev>\S+?):? (?P<msg>.*)$")
_MCE = re.compile(r"^mce: \[Hardware Error\]: (?P<msg>.*)$")

_VM_SCOPE = re.compile(r"machine-qemu-\d+-(?P<name>.+?)\.scope")
_VM_LIBVIRT = re.compile(r"/(?:libvirt/qemu|machine)/(?P<name>[^/.]+)(?:\.libvirt-qemu)?(?:/|$)")
_VM_NAME = re.compile(r"\b(?P<name>[isrv]-\d+(?:-\d+)?-[\w]+)")


def vm_from_cgroup(path: str | None) -> str | None:
    """`/machine.slice/machine-qemu\\x2d5\\x2di\\x2d2\\x2d42\\x2dVM.scope` -> `i-2-42-VM` (systemd escapes '-' as \\x2d)."""
    if not path:
        return None
    decoded = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), path)
    for pattern in (_VM_SCOPE, _VM_LIBVIRT, _VM_NAME):
        found = pattern.search(decoded)
        if found:
            return found.group("name")
    return None


@dataclass(slots=True)
class KernelLine:
    """One kernel message with its prefix decoded."""

    line: int
    text: str
    message: str
    uptime_s: float | None
    ts: datetime | None
    host: str | None
    clock: str  # monotonic | ctime | iso | syslog | none


def split_prefix(lineno: int, text: str) -> KernelLine:
    """Strip the syslog/journal, facility and timestamp prefixes of one line."""
    rest = text.rstrip("\r\n")
    host = None
    clock = "none"
    uptime = None
    ts = None
    m = _SYSLOG.match(rest)
    if m:
        host, rest, clock = m.group("host"), rest[m.end():], "syslog"
        if m.group("iso"):  # journalctl -o short-iso; classic syslog stamps have no year, so no ts
            try:
                ts = datetime.fromisoformat(m.group("iso"))
            except ValueError:
                ts = None
    m = _FACILITY.match(rest)
    if m:
        rest = rest[m.end():]
    if rest.startswith("["):
        m = _RAW.match(rest)
        if m:
            uptime, rest, clock = float(m.group("up")), rest[m.end():], "monotonic"
        else:
            m = _CTIME.match(rest)
            if m:
                h, mi, s = (int(x) for x in m.group("hms").split(":"))
                try:
                    ts = datetime(int(m.group("year")), _MONTHS[m.group("mon")], int(m.group("day")), h, mi, s)
                except ValueError:
                    ts = None
                rest, clock = rest[m.end():], "ctime"
    elif rest[:1].isdigit():
        m = _ISO.match(rest)
        if m:
            stamp = m.group("iso") + "." + (m.group("frac") or "0")[:6].ljust(6, "0") + (m.group("tz") or "")
            try:
                ts = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                ts = None
            rest, clock = rest[m.end():], "iso"
    return KernelLine(line=lineno, text=text.rstrip("\r\n"), message=rest.strip(), uptime_s=uptime, ts=ts, host=host, clock=clock)


@dataclass(slots=True)
class _OomBlock:
    """What the lines before a kill told us: who invoked the killer, the memcg, the old-style victim."""

    invoker: str | None = None
    memcg: str | None = None
    constraint: str | None = None
    victim: KernelEvent | None = None


@dataclass(slots=True)
class DmesgLog:
    events: list[KernelEvent]
    boots: int
    lines: int
    clock: str  # the timestamp style of the first stamped line
    hosts: set[str] = field(default_factory=set)


class _Scanner:
    """State across lines: boot index, last monotonic stamp, the open OOM block, zonelist page counts."""

    def __init__(self, path: str, host: str | None) -> None:
        self.path = path
        self.host = host
        self.boot = 0
        self.seen_any = False
        self.in_boot = 0  # messages seen in the current boot
        self.last_uptime: float | None = None
        self.oom = _OomBlock()
        self.zone_pages: int | None = None
        self.lines = 0
        self.clock = "none"
        self.hosts: set[str] = set()

    def event(self, kl: KernelLine, event: str, **fields: object) -> KernelEvent:
        return KernelEvent(
            path=self.path,
            line=kl.line,
            text=kl.text[:500],
            ts=kl.ts,
            host_name=self.host or kl.host,
            event=event,
            boot=self.boot,
            uptime_s=kl.uptime_s,
            **fields,  # type: ignore[arg-type]
        )

    def _new_boot(self) -> Iterator[KernelEvent]:
        yield from self._flush_oom()
        self.boot += 1
        self.in_boot = 0
        self.zone_pages = None

    def _flush_oom(self) -> Iterator[KernelEvent]:
        if self.oom.victim is not None:
            yield self.oom.victim
        self.oom = _OomBlock()

    def feed(self, lineno: int, text: str) -> Iterator[KernelEvent]:
        self.lines += 1
        if self.clock != "none" and not _INTERESTING.search(text):
            yield from self._track_quiet(text)  # most lines: only the monotonic stamp matters (boot detection)
            return
        kl = split_prefix(lineno, text)
        msg = kl.message
        if not msg:
            return
        if kl.host:
            self.hosts.add(kl.host)
        if self.clock == "none" and kl.clock != "none":
            self.clock = kl.clock
        starts_boot = msg.startswith("Linux version ") and self.in_boot > 0
        if kl.uptime_s is not None:
            if self.last_uptime is not None and kl.uptime_s + 1.0 < self.last_uptime:
                starts_boot = True
            self.last_uptime = kl.uptime_s
        if starts_boot:
            yield from self._new_boot()
        self.seen_any = True
        self.in_boot += 1
        yield from self._match(kl, msg)

    def _track_quiet(self, text: str) -> Iterator[KernelEvent]:
        """A line no event can come from: count it and follow its monotonic stamp, without decoding the rest."""
        start = 0
        if not text.startswith("["):
            start = text.find(" kernel: [")
            if start < 0:
                if text.strip():
                    self.in_boot += 1
                    self.seen_any = True
                return
            start += 9
        m = _RAW.match(text, start)
        if m:
            uptime = float(m.group("up"))
            if self.last_uptime is not None and uptime + 1.0 < self.last_uptime:
                yield from self._new_boot()
            self.last_uptime = uptime
        self.in_boot += 1
        self.seen_any = True

    def _match(self, kl: KernelLine, msg: str) -> Iterator[KernelEvent]:
        if "oom" in msg or "Killed process" in msg or "Kill process" in msg or msg.startswith("Task in "):
            yield from self._oom(kl, msg)
            return
        if "temperature" in msg:
            m = _THROTTLE.search(msg)
            if m:
                yield self.event(kl, "thermal_throttle", cpu=int(m.group("cpu")), device=f"CPU{m.group('cpu')}",
                                 zone=m.group("zone").lower(), count=int(m.group("count")), detail=msg)
                return
            m = _THERMAL_NORMAL.search(msg)
            if m:
                yield self.event(kl, "thermal_normal", cpu=int(m.group("cpu")), device=f"CPU{m.group('cpu')}",
                                 zone=m.group("zone").lower(),
                                 count=int(m.group("count")) if m.group("count") else None, detail=msg)
                return
        if msg.startswith("INFO: task "):
            m = _HUNG.match(msg)
            if m:
                yield self.event(kl, "hung_task", process=m.group("comm"), pid=int(m.group("pid")),
                                 blocked_s=int(m.group("secs")), detail=msg)
            return
        if msg.startswith("virtio_balloon"):
            m = _BALLOON.match(msg)
            if m:
                yield self.event(kl, "balloon", driver="virtio_balloon", device=m.group("dev"), detail=m.group("msg"))
            return
        if msg.startswith("Built "):
            m = _ZONELISTS.match(msg)
            if m:
                pages = int(m.group("pages"))
                if self.zone_pages is not None:  # a rebuild after boot: memory was onlined (or offlined)
                    event = "memory_online" if pages > self.zone_pages else "memory_offline"
                    yield self.event(kl, event, count=pages, detail=f"total pages {self.zone_pages} -> {pages}")
                self.zone_pages = pages
            return
        if msg.startswith("mce: [Hardware Error]"):
            m = _MCE.match(msg)
            if m:
                yield self.event(kl, "mce", detail=m.group("msg"))
            return
        if "NETDEV WATCHDOG" in msg:
            yield from self._watchdog(kl, msg)
            return
        if "ink" in msg or "eset" in msg or "imeout" in msg or "Hang" in msg:
            yield from self._nic(kl, msg)

    def _watchdog(self, kl: KernelLine, msg: str) -> Iterator[KernelEvent]:
        m = _WATCHDOG_OLD.search(msg)
        if m:
            yield self.event(kl, "nic_tx_timeout", device=m.group("dev"), driver=m.group("driver"), detail=msg)
            return
        prefix = _NETDEV.match(msg)
        if _WATCHDOG_NEW.search(msg):
            yield self.event(kl, "nic_tx_timeout", device=prefix.group("dev") if prefix else None,
                             driver=prefix.group("driver") if prefix else None, detail=msg)

    def _nic(self, kl: KernelLine, msg: str) -> Iterator[KernelEvent]:
        m = _BOND_DOWN.match(msg)
        if m:
            yield self.event(kl, "nic_link_down", device=m.group("dev"), driver="bonding", detail=msg)
            return
        m = _NETDEV.match(msg)
        if not m:
            return
        body = m.group("msg")
        dev, driver = m.group("dev"), m.group("driver")
        for event, pattern in (("nic_link_down", _LINK_DOWN), ("nic_link_up", _LINK_UP),
                               ("nic_tx_timeout", _TX_TIMEOUT), ("nic_reset", _RESET)):
            if pattern.search(body):
                yield self.event(kl, event, device=dev, driver=driver, detail=body)
                return

    def _oom(self, kl: KernelLine, msg: str) -> Iterator[KernelEvent]:
        m = _OOM_INVOKED.match(msg)
        if m:
            yield from self._flush_oom()
            self.oom.invoker = m.group("comm")
            return
        m = _OOM_KILL_INFO.match(msg)
        if m:
            kv = m.group("kv")
            self.oom.constraint = _kv(kv, "constraint")
            self.oom.memcg = _kv(kv, "task_memcg") or _kv(kv, "oom_memcg") or self.oom.memcg
            return
        m = _OOM_TASK_IN.match(msg)
        if m:
            self.oom.memcg = m.group("memcg")
            return
        m = _OOM_KILL_OLD.match(msg)
        if m:
            if self.oom.victim is not None:
                yield self.oom.victim
            self.oom.victim = self._kill_event(kl, m.group("scope"), int(m.group("pid")), m.group("comm"), None, None)
            self.oom.victim.oom_score = int(m.group("score"))
            return
        m = _OOM_KILLED.search(msg)
        if m and (m.start() == 0 or msg[: m.start()].rstrip().endswith(":")):
            pid = int(m.group("pid"))
            tvm = int(m.group("tvm")) * 1024 if m.group("tvm") else None
            anon = int(m.group("anon")) * 1024 if m.group("anon") else None
            pending = self.oom.victim
            if pending is not None and pending.pid == pid:
                # old kernels: "Kill process ... score" then "Killed process ... total-vm"; one event, cited at the kill
                yield replace(pending, total_vm=tvm, anon_rss=anon)
                self.oom = _OomBlock(invoker=self.oom.invoker, memcg=self.oom.memcg, constraint=self.oom.constraint)
                return
            if pending is not None:
                yield pending
                self.oom.victim = None
            yield self._kill_event(kl, m.group("scope"), pid, m.group("comm"), tvm, anon)
            self.oom = _OomBlock()

    def _kill_event(self, kl: KernelLine, scope_text: str | None, pid: int, comm: str,
                    tvm: int | None, anon: int | None) -> KernelEvent:
        memcg_scope = (scope_text or "").startswith("Memory cgroup") or self.oom.constraint == "CONSTRAINT_MEMCG"
        return self.event(
            kl, "oom_kill", process=comm, pid=pid, invoker=self.oom.invoker, memcg=self.oom.memcg,
            vm=vm_from_cgroup(self.oom.memcg), scope="memcg" if memcg_scope else "global",
            total_vm=tvm, anon_rss=anon, detail=kl.message[:300],
        )

    def finish(self) -> Iterator[KernelEvent]:
        yield from self._flush_oom()


def _kv(text: str, key: str) -> str | None:
    m = re.search(r"(?:^|,)" + re.escape(key) + r"=([^,]*)", text)
    return m.group(1) if m else None


def scan_dmesg(lines: Iterable[str], *, path: str = "<text>", host: str | None = None) -> Iterator[KernelEvent]:
    """Stream KernelEvents from kernel log lines (any iterable, e.g. an open file)."""
    scanner = _Scanner(path, host)
    for lineno, text in enumerate(lines, 1):
        yield from scanner.feed(lineno, text)
    yield from scanner.finish()


def parse_dmesg(text: str) -> DmesgLog:
    scanner = _Scanner("<text>", None)
    events: list[KernelEvent] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        events.extend(scanner.feed(lineno, line))
    events.extend(scanner.finish())
    return DmesgLog(events=events, boots=scanner.boot + 1 if scanner.seen_any else 0, lines=scanner.lines,
                    clock=scanner.clock, hosts=scanner.hosts)


def dmesg_facts(log: DmesgLog, *, path: str = "<text>", host: str | None = None) -> list[KernelEvent]:
    return [replace(e, path=path, host_name=host or e.host_name) for e in log.events]


# --- a guest's serial console ----------------------------------------------------------------------------------
_LOGIN = re.compile(r"^(?P<name>[\w.-]+) login:(?: |$)")
_STAGES = ("firmware", "boot loader", "kernel", "init", "login prompt")


@dataclass(slots=True)
class GuestConsole:
    """What a guest's serial console shows: how often it booted, how far the last boot got, the guest's name.

    Attributed to the guest: its kernel lines are the guest kernel's, so they are summarised here, never turned
    into host KernelEvent facts.
    """

    boots: int
    stage: str  # the furthest stage the last boot reached: firmware | boot loader | kernel | init | login prompt
    guest: str | None  # the name in the login prompt, if the console reached it
    kernel_events: list[KernelEvent] = field(default_factory=list)

    def describe(self) -> str:
        who = f"guest {self.guest}" if self.guest else "a guest"
        events = f", {len(self.kernel_events)} guest kernel events" if self.kernel_events else ""
        return (f"serial console of {who}: {self.boots} boot{'s' if self.boots != 1 else ''}, the last one reached "
                f"the {self.stage}{events}; attributed to the guest, not counted as host evidence")


def parse_console(text: str) -> GuestConsole:
    """Summarise a guest serial console (see `diagnostics.host.detect.is_guest_console` for how it is recognised)."""
    from diagnostics.host.detect import console_markers

    groups = {name: (section, pattern) for section, entries in console_markers().items() for name, pattern, _ in entries}
    stage_of_group = {"firmware": "firmware", "boot loader": "boot loader", "login prompt and issue banner": "login prompt",
                      "init and cloud-init on the console": "init"}
    boots = 0
    stage_rank = -1
    guest = None
    last_uptime: float | None = None
    kernel_in_boot = False  # the current boot already printed kernel lines
    kernel_lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        m = _RAW.match(line)
        if m:
            uptime = float(m.group("up"))
            restarted = last_uptime is not None and uptime + 1.0 < last_uptime
            if restarted or not kernel_in_boot:
                if restarted or boots == 0 or kernel_in_boot:
                    boots += 1  # a kernel that starts again without a firmware banner before it
                kernel_in_boot = True
                stage_rank = _STAGES.index("kernel")
            last_uptime = uptime
            kernel_lines.append(line)
            continue
        banners = line.count("SeaBIOS (version") + line.count("BdsDxe: loading")
        if banners:  # every power-on prints the firmware banner once
            boots += banners
            stage_rank, last_uptime, kernel_in_boot = 0, None, False
        login = _LOGIN.match(line)
        if login:
            guest = login.group("name")
        for name, (_section, pattern) in groups.items():
            stage = stage_of_group.get(name)
            if stage and pattern.match(line):
                stage_rank = max(stage_rank, _STAGES.index(stage))
                break
    boots = max(boots, 1 if stage_rank >= 0 else 0)
    events = list(scan_dmesg(kernel_lines, path="<console>")) if kernel_lines else []
    return GuestConsole(boots=boots, stage=_STAGES[max(stage_rank, 0)], guest=guest, kernel_events=events)
