"""Log entries and the layouts CloudStack has shipped, rendered byte-exact.

Why a generator at all: a sample incident has to keep hundreds of ids consistent across files (VM and host
ids/uuids, job ids, logids, Seq numbers, agent clock skew). Writing them by hand drifts; this renders them
from one description. The committed logs under samples/ are the artifact; this only reproduces them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GB = 1024**3
MB = 1024**2
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def human(n: int) -> str:
    """NumbersUtil.toHumanReadableSize: `(8.00 GB) 8589934592`, `(0 bytes) 0`."""
    if n < 1024:
        return f"({n} bytes) {n}"
    for unit, power in (("KB", 1), ("MB", 2), ("GB", 3)):
        if n < 1024 ** (power + 1):
            return f"({n / 1024**power:.2f} {unit}) {n}"
    return f"({n / 1024**4:.2f} TB) {n}"


def js(obj: object) -> str:
    """Gson-like compact JSON as CloudStack prints command payloads."""
    return json.dumps(obj, separators=(",", ":"))


def category(fqcn: str, style: str) -> str:
    """`%c{1.}` (every package to its first letter) or `%c{3}` (last three components)."""
    parts = fqcn.split(".")
    if style == "abbrev":
        return ".".join([p[0] for p in parts[:-1]] + [parts[-1]])
    return ".".join(parts[-3:])


@dataclass(frozen=True)
class Style:
    """One log4j layout generation.

    gen: log4j2 (`[a, b]` NDC, `(logid:x)`), log4j1-logid (space NDC / `null`, `(logid:x)`), log4j1 (no logid),
    log4j2-nologid (system VM agent: `[a, b]` NDC, no logid).
    cat: abbrev (`%c{1.}`) or c3 (`%c{3}`). t_sep: ' ' or 'T' between date and time.
    """

    gen: str
    cat: str
    t_sep: str = " "


@dataclass
class Entry:
    ts: datetime
    level: str
    logger: str
    thread: str
    msg: str
    ndc: tuple[str, ...] = ()
    logid: str | None = None
    extra: list[str] = field(default_factory=list)
    seq: int = 0


def stamp(ts: datetime, sep: str = " ") -> str:
    return ts.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + f",{ts.microsecond // 1000:03d}"


def render_body(e: Entry, style: Style) -> str:
    """Everything after the timestamp: `LEVEL [cat] (thread:ndc) (logid:x) msg`."""
    cat = category(e.logger, style.cat)
    if style.gen.startswith("log4j2"):
        ndc = "[" + ", ".join(e.ndc) + "]"
    else:
        ndc = " ".join(e.ndc) if e.ndc else "null"
    head = f"{e.level:<5} [{cat}] ({e.thread}:{ndc})"
    if style.gen in ("log4j2", "log4j1-logid"):
        head += f" (logid:{e.logid or ''})"
    return f"{head} {e.msg}"


class Log:
    """A log file under construction; entries may be added out of order and are sorted on output."""

    def __init__(self, style: Style, skew: float = 0.0) -> None:
        self.style = style
        self.skew = timedelta(seconds=skew)
        self.entries: list[Entry] = []
        self._n = 0

    def add(self, ts: datetime, level: str, logger: str, thread: str, msg: str, ndc: tuple[str, ...] = (),
            logid: str | None = None, extra: list[str] | None = None) -> None:
        assert level in LEVELS, level
        self._n += 1
        self.entries.append(Entry(ts + self.skew, level, logger, thread, msg, tuple(ndc), logid, list(extra or []), self._n))

    def sorted(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (e.ts, e.seq))

    def lines(self) -> list[str]:
        out: list[str] = []
        for e in self.sorted():
            out.append(f"{stamp(e.ts, self.style.t_sep)} {render_body(e, self.style)}")
            out.extend(e.extra)
        return out

    def record_count(self) -> int:
        return len(self.entries)


class Ids:
    """Deterministic random ids: context ids, uuids, session ids."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def hex8(self) -> str:
        return f"{self.rng.getrandbits(32):08x}"

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[self.rng.randrange(4)]}{h[17:20]}-{h[20:32]}"

    def session(self) -> str:
        return "node0" + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(26)) + str(self.rng.randrange(10, 99))

    def jitter(self, lo: float, hi: float) -> timedelta:
        return timedelta(seconds=self.rng.uniform(lo, hi))
