"""`/proc/meminfo` -> a HostMemory fact, computed the way procps-ng 4 `free` does.

    >>> info = parse_meminfo('''MemTotal:       24684084 kB
    ... MemFree:        24457992 kB
    ... MemAvailable:   24400404 kB''')
    >>> info.values["MemAvailable"] == 24400404 * 1024
    True

Values are in kB (really KiB); the HugePages_* counters are page counts. MemAvailable exists since
Linux 3.14; on older kernels `available` is estimated as MemFree + Buffers + Cached + SReclaimable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyparsing as pp

from diagnostics.host.sizes import to_bytes
from diagnostics.model.host_facts import HostMemory

_LINE = (
    pp.Regex(r"(?P<key>[A-Za-z][\w()]*):")
    + pp.Regex(r"(?P<num>\d+)")
    + pp.Optional(pp.Regex(r"(?P<unit>kB|KiB|B)"))
    + pp.StringEnd()
)


@dataclass(slots=True)
class Meminfo:
    values: dict[str, int]  # bytes, or a count for HugePages_*
    lines: dict[str, int]  # key -> 1-based line
    texts: dict[str, str]  # key -> the line as printed


def parse_meminfo(text: str) -> Meminfo:
    values: dict[str, int] = {}
    lines: dict[str, int] = {}
    texts: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            parsed = _LINE.parse_string(line.strip(), parse_all=True)
        except pp.ParseException:
            continue
        key = parsed["key"]
        unit = parsed.get("unit") or ""
        values[key] = to_bytes(parsed["num"], unit) if unit else int(parsed["num"])
        lines[key] = lineno
        texts[key] = line
    return Meminfo(values=values, lines=lines, texts=texts)


def meminfo_facts(info: Meminfo, *, path: str = "<text>", host: str | None = None) -> list[HostMemory]:
    v = info.values
    total = v.get("MemTotal")
    if total is None:
        return []
    free = v.get("MemFree")
    buffers = v.get("Buffers")
    cached = v.get("Cached")
    reclaimable = v.get("SReclaimable", 0)
    buff_cache = buffers + cached + reclaimable if buffers is not None and cached is not None else None
    available = v.get("MemAvailable")
    estimated = False
    if available is None and free is not None and buff_cache is not None:
        available, estimated = free + buff_cache, True
    used = total - available if available is not None else None
    swap_total, swap_free = v.get("SwapTotal"), v.get("SwapFree")
    return [
        HostMemory(
            path=path,
            line=info.lines["MemTotal"],
            text=info.texts["MemTotal"],
            host_name=host,
            total=total,
            used=used,
            free=free,
            shared=v.get("Shmem"),
            buff_cache=buff_cache,
            buffers=buffers,
            cached=cached,
            available=available,
            available_estimated=estimated,
            swap_total=swap_total,
            swap_free=swap_free,
            swap_used=swap_total - swap_free if swap_total is not None and swap_free is not None else None,
            hugepages_total=v.get("HugePages_Total"),
            hugepages_free=v.get("HugePages_Free"),
            hugepage_size=v.get("Hugepagesize"),
            commit_limit=v.get("CommitLimit"),
            committed=v.get("Committed_AS"),
            source_cmd="/proc/meminfo",
        )
    ]
