"""`free` (procps 3.2 to procps-ng 4.x) -> HostMemory facts.

Columns are found by the header words, never by position: procps-ng 3.3.10 replaced
`buffers cached` with `buff/cache available`, `-w` splits them again, and 4.x right-aligns the header.

    >>> out = parse_free('''              total        used        free      shared  buff/cache   available
    ... Mem:          257676       98012        4311        1120      155352      156900
    ... Swap:           4095           0        4095''', unit="m")
    >>> out.snapshots[0].values["available"] == 156900 * 1024**2
    True

The unit of bare numbers is not in the output. The caller passes it (`unit="m"` for `free -m`), a pasted
prompt line (`$ free -g`) gives it, or it is inferred: first as the unit that agrees with the host's total memory
as CloudStack reports it (`reported_total`, bytes), else as the only unit that puts Mem total in the range of real
hypervisors (1 GiB to 16 TiB). When more than one unit stays possible the output is `unit_ambiguous` and its facts
say so in `source_cmd`: ratios (available/total) still hold, absolute sizes must not be compared.

    >>> parse_free("Mem: 7900 7000 900 0 0 800").unit_ambiguous   # 7.7 GiB (free -m) or 7.7 TiB (free -g)?
    True
    >>> parse_free("Mem: 7900 7000 900 0 0 800", reported_total=7 * 1024**3).unit
    'm'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyparsing as pp

from diagnostics.host.sizes import to_bytes
from diagnostics.model.host_facts import HostMemory

MODERN_COLUMNS = ("total", "used", "free", "shared", "buff/cache", "available")
COLUMNS = ("total", "used", "free", "shared", "buff/cache", "buffers", "cached", "cache", "available")
UNIT_SCALE = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
LONG_UNITS = {
    "bytes": "b", "kibi": "k", "mebi": "m", "gibi": "g", "tebi": "t", "pebi": "p",
    "kilo": "k", "mega": "m", "giga": "g", "tera": "t", "peta": "p", "human": "h",
}
DECIMAL_LONG = {"kilo", "mega", "giga", "tera", "peta"}

HEADER = pp.OneOrMore(pp.one_of(COLUMNS, as_keyword=True)) + pp.StringEnd()
_LABEL = pp.Regex(r"(?P<label>Mem|Swap|Total|Low|High|-/\+ buffers/cache):")
_VALUE = pp.Regex(r"(?P<num>\d+(?:[.,]\d+)?)(?P<suffix>[KMGTP]i|[BKMGTP])?(?!\S)")
_ROW = _LABEL + pp.Group(pp.OneOrMore(pp.Group(_VALUE)))("values") + pp.StringEnd()
# "$ free -m", "[root@kvm03 ~]# free -g -w", "# free --mebi": the command line of a pasted terminal
_PROMPT = re.compile(r"(?:^|[\s$#>])free((?:\s+-{1,2}[A-Za-z-]+)*)\s*$")


@dataclass(slots=True)
class FreeSnapshot:
    """One Mem row with the Swap (and old `-/+ buffers/cache`) rows that follow it, all in bytes."""

    line: int
    text: str
    values: dict[str, int]
    swap: dict[str, int] = field(default_factory=dict)
    swap_line: int | None = None
    buffers_cache: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class FreeOutput:
    unit: str  # b k m g t p h
    decimal: bool
    unit_inferred: bool
    snapshots: list[FreeSnapshot]
    layout: str  # available (3.3.10+) | wide | legacy (buffers/cached, no available)
    unit_ambiguous: bool = False  # inferred, and more than one unit was possible: absolute sizes are unreliable
    unit_basis: str = ""  # "", "cloudstack" (agrees with CloudStack's host total), "range" (plausible size)

    @property
    def source_cmd(self) -> str:
        flag = f"free -{self.unit}"
        return f"{flag} --si" if self.decimal else flag

    @property
    def unit_note(self) -> str:
        """What the facts' `source_cmd` adds about an unstated unit; rules test it for "ambiguous"."""
        if not self.unit_inferred:
            return ""
        if self.unit_ambiguous:
            return " (unit ambiguous: " + "/".join(f"free -{u}" for u in self.candidates) + "; sizes not compared)"
        if self.unit_basis == "cloudstack":
            return " (unit inferred from CloudStack's host total)"
        return " (unit inferred)"

    candidates: tuple[str, ...] = ()


def unit_from_command(command: str) -> tuple[str | None, bool]:
    """`free -m -w` / `free --giga` / `free -h --si` -> ("m", False) / ("g", True) / ("h", True)."""
    unit: str | None = None
    decimal = "--si" in command.split()
    for token in command.split():
        if token.startswith("--") and token[2:] in LONG_UNITS:
            unit = LONG_UNITS[token[2:]]
            decimal = decimal or token[2:] in DECIMAL_LONG
        elif re.fullmatch(r"-[a-zA-Z]+", token):
            for letter in token[1:]:
                if letter in "bkmgh":
                    unit = letter
    return unit, decimal


PLAUSIBLE_MIN, PLAUSIBLE_MAX = 1024**3, 16 * 1024**4  # a hypervisor's RAM: 1 GiB .. 16 TiB
AGREEMENT = 0.35  # CloudStack's host total is the RAM less the host's reservation (dom0, host.reserved.mem.mb)


def plausible_units(total: float) -> tuple[str, ...]:
    """Units that put a bare Mem total in the range of a real hypervisor's RAM."""
    return tuple(u for u in ("g", "m", "k", "b") if PLAUSIBLE_MIN <= total * UNIT_SCALE[u] < PLAUSIBLE_MAX)


def unit_agreeing(total: float, reported_total: int) -> str | None:
    """The unit in which a bare Mem total is within 35 % of CloudStack's total for the host (units are 1024x apart)."""
    for u in ("g", "m", "k", "b"):
        if reported_total > 0 and abs(total * UNIT_SCALE[u] - reported_total) <= AGREEMENT * reported_total:
            return u
    return None


def _infer_scale(total: int) -> str:
    for unit in ("g", "m", "k"):
        if 8 * 1024**3 <= total * UNIT_SCALE[unit] < 8 * 1024**4:
            return unit
    if total >= 8 * 1024**3:
        return "b"
    # smaller than 8 GiB in every unit: a lab box; MiB is the most common paste (free -m)
    return "m" if total >= 256 else "g"


def parse_free(
    text: str, unit: str | None = None, decimal: bool = False, reported_total: int | None = None
) -> FreeOutput:
    """Parse one or more `free` outputs (`free -s 1 -c 3` repeats them). Lines that are not free output are skipped.

    `reported_total` (bytes): the host's total memory as CloudStack reports it; used only when no unit is stated.
    """
    raw: list[tuple[int, str, str, list[tuple[str, str]], list[str]]] = []  # line, text, label, values, header
    header: list[str] = []
    prompt_unit: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        prompt = _PROMPT.search(stripped)
        if prompt:
            found, dec = unit_from_command("free" + prompt.group(1))
            prompt_unit = found or "k"
            decimal = decimal or dec
            continue
        if stripped[0].islower() and not stripped.startswith("-/+"):
            try:
                header = list(HEADER.parse_string(stripped, parse_all=True))
            except pp.ParseException:
                pass
            continue
        try:
            parsed = _ROW.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            continue
        values = [(v["num"], v.get("suffix") or "") for v in parsed["values"]]
        # a row pasted without its header: assume the modern columns
        raw.append((lineno, line, parsed["label"], values, header or list(MODERN_COLUMNS)))

    chosen = unit or prompt_unit
    inferred = ambiguous = False
    basis = ""
    candidates: tuple[str, ...] = ()
    human = chosen == "h" or any(s for _, _, _, vals, _ in raw for _, s in vals)
    if human:
        chosen = "h"
    if chosen is None:
        totals = [int(float(vals[0][0].replace(",", "."))) for _, _, label, vals, _ in raw if label == "Mem" and vals]
        chosen = _infer_scale(totals[0]) if totals else "k"
        inferred = True
        if totals:
            agreeing = unit_agreeing(totals[0], reported_total) if reported_total else None
            candidates = plausible_units(totals[0])
            if agreeing is not None:
                chosen, basis, candidates = agreeing, "cloudstack", (agreeing,)
            elif len(candidates) == 1:
                chosen, basis = candidates[0], "range"
            else:  # several units possible (or none), and CloudStack's total does not settle it
                ambiguous = True
                candidates = candidates or (chosen,)
    scale = 1024 if chosen == "h" else UNIT_SCALE.get(chosen, 1024)
    if decimal and chosen in "kmgtp":
        scale = 1000 ** ("bkmgtp".index(chosen))

    snapshots: list[FreeSnapshot] = []
    layout = "available"
    for lineno, line, label, vals, columns in raw:
        if "available" not in columns:
            layout = "legacy"
        elif "buffers" in columns:
            layout = "wide"
        try:
            nums = [to_bytes(n, s, scale=scale, decimal=decimal) for n, s in vals]
        except ValueError:
            continue
        if label == "Mem":
            snapshots.append(FreeSnapshot(line=lineno, text=line, values=dict(zip(columns, nums))))
        elif not snapshots:
            continue
        elif label == "Swap":
            snapshots[-1].swap = dict(zip(("total", "used", "free"), nums))
            snapshots[-1].swap_line = lineno
        elif label == "-/+ buffers/cache":
            snapshots[-1].buffers_cache = dict(zip(("used", "free"), nums))
    return FreeOutput(
        unit=chosen, decimal=decimal, unit_inferred=inferred, snapshots=snapshots, layout=layout,
        unit_ambiguous=ambiguous, unit_basis=basis, candidates=candidates,
    )


def free_facts(out: FreeOutput, *, path: str = "<text>", host: str | None = None) -> list[HostMemory]:
    """One HostMemory per snapshot. With the legacy layout `available` is the `-/+ buffers/cache` free value."""
    facts: list[HostMemory] = []
    for snap in out.snapshots:
        v = snap.values
        buffers = v.get("buffers")
        cached = v.get("cached", v.get("cache"))
        buff_cache = v.get("buff/cache")
        if buff_cache is None and buffers is not None and cached is not None:
            buff_cache = buffers + cached
        available = v.get("available")
        estimated = False
        if available is None and "free" in snap.buffers_cache:
            available, estimated = snap.buffers_cache["free"], True
        facts.append(
            HostMemory(
                path=path,
                line=snap.line,
                text=snap.text,
                host_name=host,
                total=v.get("total"),
                used=v.get("used"),
                free=v.get("free"),
                shared=v.get("shared"),
                buff_cache=buff_cache,
                buffers=buffers,
                cached=cached,
                available=available,
                available_estimated=estimated,
                swap_total=snap.swap.get("total"),
                swap_used=snap.swap.get("used"),
                swap_free=snap.swap.get("free"),
                rounded=out.unit in ("h", "g", "t", "p"),
                source_cmd=out.source_cmd + out.unit_note,
            )
        )
    return facts
