"""Benchmark: fact extraction, `analyze` and `timeline --format json` on a >= 1 GiB management-server.log.

    python tests/perf/bench_logs.py [--size-mib 1024] [--profile production|busy] [--steps scan,analyze] [--repeat 3]
                                    [--tree /tmp/old]      (measure another tree instead of this one)
                                    [--baseline /tmp/old]  (measure this tree and another, side by side)

The last release as a baseline:
    mkdir /tmp/old && git archive <rev> diagnostics rules | tar -x -C /tmp/old

Builds the log under tests/perf/data/ (git-ignored) with make_log.py, then reports MB/s, lines/s and peak RSS of
each step in its own process, next to `grep -cE` of seven keywords csdiag looks for and ripgrep (if installed) on the
same file. MB/s is given for wall time and for the CPU time of that one process (on a shared machine the second is
the steadier figure); with --repeat, each step runs that many times and the fastest run counts (by CPU time).
Not a test: nothing here fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

# What a `grep -E` user would search the log for: the failure, the operation's jobs, the capacity checks, the
# state machine and the loud levels (csdiag reads these and the catalogue's literals in one pass).
GREP_KEYWORDS = ("InsufficientServerCapacityException", "Executing AsyncJob", "Complete async job-", "Checking if host:",
                 "state transited from", " WARN ", " ERROR ")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # the tree being measured comes first on sys.path, not an installed copy
CHILD_STEPS = {
    "facts (record stream)": "scan",
    "facts (stream, the rules' interest)": "scan-rules",
    "facts (exact reader)": "exact",
    "analyze --format json": "analyze",
}


def child(mode: str, path: str) -> None:
    """Run one step in this process and print its figures as JSON."""
    from datetime import timezone

    from diagnostics.facts import facts_from_records
    from diagnostics.logs.reader import LogStats, ReadOptions, read_records
    from diagnostics.logs.stream import stream_facts

    start, cpu_start = time.perf_counter(), time.process_time()
    stats = LogStats(path)
    opts = ReadOptions(tz=timezone.utc, tz_name="UTC")
    if mode == "scan":
        n = sum(1 for _ in stream_facts(path, opts, stats))  # the stream picks the fast filter for plain log4j
    elif mode == "scan-rules":  # what `analyze` reads: only records the built-in rules or the correlator can use
        from diagnostics.engine import load_rules
        from diagnostics.logs.interest import interest_for

        n = sum(1 for _ in stream_facts(path, opts, stats, interest=interest_for(load_rules([]).rules)))
    elif mode == "exact":
        n = sum(1 for _ in facts_from_records(read_records(path, opts, stats)))
    else:
        from diagnostics.analysis import analyze_paths

        doc = analyze_paths([path], tz=timezone.utc).document
        n = doc["summary"]["facts"]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "facts": n, "rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak RSS. Linux keeps ru_maxrss across fork+exec (the bench parent's high-water mark would
    show), so VmHWM of the new address space is read where there is one."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, path: str, tree: str | None = None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, path], capture_output=True, text=True, check=True,
                         env=_env(tree))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env(tree: str | None = None) -> dict:
    env = dict(os.environ)
    tree = tree or env.get("CSDIAG_BENCH_TREE") or ROOT
    env["PYTHONPATH"] = tree + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def timed_command(argv: list[str], to_devnull: bool = True) -> tuple[float, float, float]:
    """Wall time, CPU time and peak RSS of a command. GNU grep stops at the first match when its output is
    /dev/null, so grep writes to a pipe instead. Linux counts the forking parent's RSS into a child's ru_maxrss, so
    a small figure here is an upper bound (this process stays small)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        subprocess.run(argv, stdout=devnull if to_devnull else subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
                       env=_env())
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, max(after.ru_maxrss, before.ru_maxrss) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=float, default=1024)
    ap.add_argument("--profile", default="production", choices=["production", "busy"])
    ap.add_argument("--skip-exact", action="store_true", help="skip the slow exact reader on the big file")
    ap.add_argument("--steps", default="grep,timeline,scan,scan-rules,exact,analyze", help="which steps to run (comma-separated)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per step; the fastest counts")
    ap.add_argument("--tree", help="the source tree to measure (default: the one holding this script)")
    ap.add_argument("--baseline", help="another tree (e.g. the last release) measured the same way, shown beside")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = ap.parse_args()
    if args.tree:
        os.environ["CSDIAG_BENCH_TREE"] = os.path.abspath(args.tree)
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, HERE)
    from make_log import build

    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(data, f"management-server-{args.profile}-{int(args.size_mib)}MiB.log")
    if not os.path.exists(path):
        print(f"building {path} ...", flush=True)
        build(path, int(args.size_mib * (1 << 20)), profile=args.profile)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    print(f"file: {size / (1 << 20):.0f} MiB, {lines} lines, profile {args.profile}, tree {_env()['PYTHONPATH'].split(os.pathsep)[0]}")
    steps = set(args.steps.split(","))
    if args.skip_exact:
        steps.discard("exact")
    rows = []

    def best_of(run):
        return min((run() for _ in range(max(1, args.repeat))), key=lambda r: r[0])

    if "grep" in steps:
        pattern = "|".join(GREP_KEYWORDS)
        s, cpu, rss = best_of(lambda: timed_command(["grep", "-cE", pattern, path], to_devnull=False))
        rows.append((f"grep -cE ({len(GREP_KEYWORDS)} keywords)", s, cpu, rss, None))
        rg = shutil.which("rg")
        if rg:
            s, cpu, rss = best_of(lambda: timed_command([rg, "-c", pattern, path], to_devnull=False))
            rows.append((f"rg -c ({len(GREP_KEYWORDS)} keywords)", s, cpu, rss, None))
        else:
            print("ripgrep (rg) is not installed: no rg row")
    # before the Python children: RUSAGE_CHILDREN keeps the largest child so far
    if "timeline" in steps:
        s, cpu, rss = best_of(lambda: timed_command([sys.executable, "-m", "diagnostics", "timeline", path, "--format", "json", "--tz", "UTC"]))
        rows.append(("timeline --format json > /dev/null", s, cpu, rss, None))
    trees = [("", None)] + ([(" [baseline]", os.path.abspath(args.baseline))] if args.baseline else [])
    for label, mode in CHILD_STEPS.items():
        if mode in steps:
            for suffix, tree in trees:
                r = min((run_child(mode, path, tree) for _ in range(max(1, args.repeat))), key=lambda r: r["cpu"])
                rows.append((label + suffix, r["seconds"], r["cpu"], r["rss_mib"], r["facts"]))
    if args.baseline:
        print(f"baseline: {os.path.abspath(args.baseline)}")
    print(f"{'step':50} {'MB/s wall':>10} {'MB/s CPU':>9} {'lines/s':>12} {'peak RSS MiB':>13} {'facts':>8}")
    for label, seconds, cpu, rss, facts in rows:
        print(f"{label:50} {size / seconds / 1e6:10.1f} {size / cpu / 1e6:9.1f} {lines / cpu:12.0f} {rss:13.0f} "
              f"{facts if facts is not None else '':>8}")

if __name__ == "__main__":
    main()
