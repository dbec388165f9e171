"""Benchmark (not a unit test): stream a large kernel log through facts_from_file.

    python tests/host/benchmark_dmesg.py [megabytes]

Writes a synthetic log built from the recorded fixtures (mostly quiet boot lines, with OOM/NIC/thermal blocks
mixed in) to a temporary file, then reports throughput and peak RSS. Target on the CI machine (2 cores):
at least 10 MB/s (measured 12-24 MB/s on a shared 2-core VM) and a peak RSS that does not grow with the file size.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from diagnostics.host import facts_from_file

DATA = Path(__file__).parent / "data"


def build(path: Path, megabytes: int) -> int:
    quiet = [line.split("]", 1)[1] for line in (DATA / "real" / "dmesg.txt").read_text().splitlines() if "]" in line]
    loud = [line.split("]", 1)[1] if line.startswith("[") else line
            for name in ("dmesg_nic_and_hung.txt", "dmesg_el8_oom_qemu_then_reboot.txt")
            for line in (DATA / "formats" / name).read_text().splitlines() if "Linux version" not in line]
    target = megabytes * 1024 * 1024
    written, stamp, lines = 0, 1.0, 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            for body in quiet * 10 + loud:
                stamp += 0.001
                line = f"[{stamp:12.6f}]{body}\n"
                out.write(line)
                written += len(line)
                lines += 1
    return lines


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dmesg"
        lines = build(path, megabytes)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        facts, errors = facts_from_file(str(path))
        elapsed = time.perf_counter() - start
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{megabytes} MB, {lines} lines -> {len(facts)} kernel events in {elapsed:.2f} s "
          f"({megabytes / elapsed:.1f} MB/s, {lines / elapsed:,.0f} lines/s); "
          f"peak RSS {rss_after / 1024:.0f} MiB (+{(rss_after - rss_before) / 1024:.0f} MiB while parsing); errors: {errors}")


if __name__ == "__main__":
    main()
