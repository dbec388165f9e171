"""Benchmark: is `analyze --format json`'s peak RSS flat in the size of the log?

    python tests/perf/bench_memory.py [--profiles production,busy] [--sizes 256,1024] [--big] [--keep]
                                      [--tree /tmp/old]   (measure another tree, e.g. `git archive <rev> diagnostics rules`)

Each size and profile is a log built by make_log.py under tests/perf/data/ (git-ignored); `--big` adds 2 and 10 GiB.
Logs above 1 GiB are built on demand and deleted after their run unless `--keep` (the disk is shared). Each analysis
runs in its own process (bench_logs.py's child: peak RSS is that process's VmHWM); the table gives MB/s of CPU time,
peak RSS and the growth of RSS per GiB of log between consecutive sizes: flat means that figure is near zero.
Not a test: nothing here fails.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_logs import run_child  # noqa: E402
from make_log import build  # noqa: E402

KEEP_BELOW_MIB = 1024  # logs up to this size stay for the next run; larger ones are deleted after measuring


def log_path(profile: str, size_mib: int) -> str:
    return os.path.join(HERE, "data", f"management-server-{profile}-{size_mib}MiB.log")


def measure(profile: str, size_mib: int, keep: bool) -> dict:
    path = log_path(profile, size_mib)
    built = not os.path.exists(path)
    if built:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"building {path} ...", flush=True)
        build(path, size_mib << 20, profile=profile)
    try:
        size = os.path.getsize(path)
        r = run_child("analyze", path)
    finally:
        if built and size_mib > KEEP_BELOW_MIB and not keep:
            os.remove(path)
    return {"profile": profile, "mib": size_mib, "bytes": size, **r}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", default="production,busy")
    ap.add_argument("--sizes", default="256,1024", help="log sizes in MiB (comma-separated)")
    ap.add_argument("--big", action="store_true", help="also 2 and 10 GiB (built on demand, deleted afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the logs above 1 GiB")
    ap.add_argument("--tree", help="the source tree to measure (default: the one holding this script)")
    args = ap.parse_args()
    if args.tree:
        os.environ["CSDIAG_BENCH_TREE"] = os.path.abspath(args.tree)
    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({2048, 10240} if args.big else set()))
    print(f"tree {os.environ.get('CSDIAG_BENCH_TREE') or os.path.dirname(os.path.dirname(HERE))}")
    print(f"{'profile':11} {'log MiB':>8} {'MB/s CPU':>9} {'peak RSS MiB':>13} {'MiB per GiB':>12} {'facts':>9}")
    for profile in args.profiles.split(","):
        previous = None
        for size_mib in sizes:
            r = measure(profile, size_mib, args.keep)
            growth = ""
            if previous is not None:
                growth = f"{(r['rss_mib'] - previous['rss_mib']) / ((r['bytes'] - previous['bytes']) / (1 << 30)):.0f}"
            print(f"{profile:11} {size_mib:8} {r['bytes'] / r['cpu'] / 1e6:9.1f} {r['rss_mib']:13.0f} {growth:>12} "
                  f"{r['facts']:9}", flush=True)
            previous = r


if __name__ == "__main__":
    main()
