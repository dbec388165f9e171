"""/proc/meminfo: bytes, the procps-ng 4 `used`, and an estimate of available on kernels before 3.14."""

from __future__ import annotations

from diagnostics.host.meminfo import meminfo_facts, parse_meminfo
from diagnostics.host.free import free_facts, parse_free


def test_real_meminfo(real):
    text = (real / "proc_meminfo.txt").read_text()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()}
    (fact,) = meminfo_facts(parse_meminfo(text), path="kvm01/meminfo")
    assert fact.total == kb["MemTotal"] * 1024
    assert fact.available == kb["MemAvailable"] * 1024 and not fact.available_estimated
    assert fact.used == (kb["MemTotal"] - kb["MemAvailable"]) * 1024
    assert fact.buff_cache == (kb["Buffers"] + kb["Cached"] + kb["SReclaimable"]) * 1024
    assert fact.hugepages_total == kb["HugePages_Total"]  # a count, not bytes
    assert fact.hugepage_size == kb["Hugepagesize"] * 1024
    assert fact.source_cmd == "/proc/meminfo" and fact.line == 1 and fact.text.startswith("MemTotal:")


def test_meminfo_matches_free_k_recorded_alongside(real):
    # free computes its columns from /proc/meminfo: the two recordings, seconds apart, agree on total
    mem = meminfo_facts(parse_meminfo((real / "proc_meminfo.txt").read_text()))[0]
    free = free_facts(parse_free((real / "free_-k.txt").read_text(), unit="k"))[0]
    assert mem.total == free.total


def test_old_kernel_without_memavailable():
    text = "MemTotal:  263857820 kB\nMemFree:  1048576 kB\nBuffers:  1024 kB\nCached:  2097152 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"
    (fact,) = meminfo_facts(parse_meminfo(text))
    assert fact.available_estimated
    assert fact.available == (1048576 + 1024 + 2097152) * 1024


def test_not_meminfo():
    assert meminfo_facts(parse_meminfo("hello: world\n")) == []
