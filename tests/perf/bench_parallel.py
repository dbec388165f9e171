"""Benchmark: `analyze --jobs 1` against `--jobs N` on a 4-file archive of busy management-server logs.

    python tests/perf/bench_parallel.py [--size-mib 128] [--files 4] [--jobs 2] [--repeat 3]

Builds the archive under tests/perf/data/ (git-ignored) with make_log.py (the generator of bench_logs.py: one busy
4.20 server at DEBUG per file, different seeds), then runs `python -m diagnostics analyze --format json` on it, serial
and with workers, alternating, `--repeat` times each. Reported per setting: wall time (fastest and slowest run), CPU
time of the analyze process and of its workers, peak RSS of the parent and of the largest worker, and the speed-up
(serial wall / parallel wall, fastest against fastest and the range over all pairs). The machine is shared: the CPU
that other processes used during each run is shown too ("others"), since a busy neighbour takes the cores the
workers need. Then the CPU of each phase of a serial run, and the speed-up Amdahl allows when only the reading is
spread. The findings of every run must equal the serial ones (else the benchmark stops). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TICK = os.sysconf("SC_CLK_TCK")


def build_archive(size_mib: float, files: int) -> str:
    sys.path.insert(0, HERE)
    from make_log import build

    folder = os.path.join(HERE, "data", f"archive-{files}x{int(size_mib)}MiB")
    os.makedirs(folder, exist_ok=True)
    for i in range(files):
        path = os.path.join(folder, f"ms{i + 1}", "management-server.log")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            print(f"building {path} ...", flush=True)
            build(path + ".tmp", int(size_mib * (1 << 20)), seed=7 + i)
            os.replace(path + ".tmp", path)
    return folder


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _hwm_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _busy_jiffies() -> int:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


class Descendants(threading.Thread):
    """Samples the process tree under `root` every 20 ms: CPU and peak RSS of each descendant (the workers run under a
    fork server, so they are grandchildren nobody here waits for)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.cpu: dict[int, float] = {}
        self.hwm: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            parents: dict[int, int] = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    st = _stat(int(entry))
                    if st is not None:
                        parents[int(entry)] = st[0]
            for pid in parents:
                up, hops = parents.get(pid), 0
                while up is not None and up != self.root and hops < 5:
                    up, hops = parents.get(up), hops + 1
                if up == self.root and pid != self.root:
                    st = _stat(pid)
                    if st is not None:
                        self.cpu[pid] = max(self.cpu.get(pid, 0.0), st[1])
                        self.hwm[pid] = max(self.hwm.get(pid, 0.0), _hwm_mib(pid))
            self.stop.wait(0.02)


def run(folder: str, jobs: int) -> dict:
    argv = [sys.executable, "-m", "diagnostics", "analyze", "--format", "json", "--tz", "UTC", "--jobs", str(jobs), folder]
    busy0 = _busy_jiffies()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    watch = Descendants(proc.pid)
    watch.start()
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    watch.stop.set()
    watch.join()
    busy = (_busy_jiffies() - busy0) / TICK
    proc.returncode = os.waitstatus_to_exitcode(status)
    doc = json.loads(out)
    doc.pop("generated")
    parent_cpu = usage.ru_utime + usage.ru_stime
    workers_cpu = sum(watch.cpu.values())
    workers = {pid: hwm for pid, hwm in watch.hwm.items() if watch.cpu.get(pid, 0) > 0.2}  # not the idle fork server
    return {"jobs": jobs, "wall": wall, "parent_cpu": parent_cpu, "workers_cpu": workers_cpu,
            "parent_rss": usage.ru_maxrss / 1024, "worker_rss": max(workers.values(), default=0.0), "workers": len(workers),
            "others": max(0.0, busy - parent_cpu - workers_cpu), "rc": proc.returncode, "doc": doc,
            "busiest_worker_cpu": max((cpu for cpu in watch.cpu.values() if cpu > 0.2), default=0.0)}


PHASES = '''
import json, sys, time
from datetime import timezone
c = time.process_time
t0 = c()
import diagnostics.cli  # what `python -m diagnostics` imports before it reads anything
t1 = c()
from diagnostics.correlate import build_incidents
from diagnostics.engine import evaluate, load_rules
from diagnostics.pipeline import collect
from diagnostics.report.document import build_document
rules = load_rules([])  # as analyze_paths: the rules first, their literals decide which records are read closely
t2 = c()
collected = collect([sys.argv[1]], tz=timezone.utc, tz_name="UTC", rules=rules.rules)
t3 = c()
findings = evaluate(rules, collected.facts, collected.identities)
t4 = c()
incidents = build_incidents(collected, findings)
t5 = c()
doc = build_document(findings, collected.inputs, collected.errors, collected.notes, "UTC", rule_errors=list(rules.errors),
                     incidents=incidents, facts_count=len(collected.facts))
json.dumps(doc, indent=2, default=str)
t6 = c()
print(json.dumps({"imports": t1 - t0, "rules": t2 - t1, "read (collect)": t3 - t2, "evaluate": t4 - t3,
                  "correlate": t5 - t4, "document + JSON": t6 - t5}))
'''


def phases(folder: str) -> dict[str, float]:
    """CPU seconds of each phase of a serial analysis, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PHASES, folder], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=float, default=128, help="size of each of the files")
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = build_archive(args.size_mib, args.files)
    size = sum(os.path.getsize(os.path.join(root, n)) for root, _d, names in os.walk(folder) for n in names)
    print(f"archive: {args.files} files, {size / (1 << 20):.0f} MiB; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    runs: dict[int, list[dict]] = {1: [], args.jobs: []}
    for _ in range(args.repeat):
        for jobs in runs:
            r = run(folder, jobs)
            runs[jobs].append(r)
            reference = runs[1][0]
            if (r["rc"], r["doc"]) != (reference["rc"], reference["doc"]):
                sys.exit(f"--jobs {jobs} gave a different document or exit code than the serial run")
            print(f"  --jobs {jobs}: {r['wall']:.2f} s wall, CPU {r['parent_cpu']:.2f} s parent + {r['workers_cpu']:.2f} s "
                  f"workers, others {r['others']:.2f} s", flush=True)
    print(f"\n{'setting':10} {'wall s (min-max)':>18} {'MB/s':>7} {'CPU s parent':>13} {'CPU s workers':>14} "
          f"{'RSS MiB parent':>15} {'RSS MiB worker':>15} {'others CPU s':>13}")
    for jobs, rs in runs.items():
        best = min(rs, key=lambda r: r["wall"])
        print(f"--jobs {jobs:<3} {best['wall']:8.2f}-{max(r['wall'] for r in rs):<9.2f} {size / best['wall'] / 1e6:7.1f} "
              f"{best['parent_cpu']:13.2f} {best['workers_cpu']:14.2f} {max(r['parent_rss'] for r in rs):15.0f} "
              f"{max(r['worker_rss'] for r in rs):15.0f} {min(r['others'] for r in rs):13.2f}")
    parts = phases(folder)
    spread = parts["read (collect)"]  # only the reading; merging, resolving and sorting the facts are in it too
    print("\nserial CPU by phase: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    print(f"only the reading is spread: with {args.jobs} idle cores the speed-up is at most "
          f"{sum(parts.values()) / (sum(parts.values()) - spread + spread / args.jobs):.2f}x (Amdahl, no overhead)")
    # On a saturated machine wall times say more about the neighbours than about csdiag; CPU times say what idle
    # cores would give: the parent's CPU (it waits while the workers read) plus the busiest worker's.
    serial_cpu = min(r["parent_cpu"] for r in runs[1])
    critical = min(r["parent_cpu"] + r["busiest_worker_cpu"] for r in runs[args.jobs])
    overhead = min(r["parent_cpu"] + r["workers_cpu"] for r in runs[args.jobs]) / serial_cpu - 1
    print(f"from CPU times: serial {serial_cpu:.2f} s; --jobs {args.jobs} critical path {critical:.2f} s -> "
          f"{serial_cpu / critical:.2f}x on idle cores (estimate); CPU spent on top by the workers' start and the "
          f"transfer: {overhead * 100:.0f} %")
    serial, parallel = [r["wall"] for r in runs[1]], [r["wall"] for r in runs[args.jobs]]
    ratios = [s / p for s, p in zip(serial, parallel)]
    print(f"\nspeed-up --jobs {args.jobs}: {min(serial) / min(parallel):.2f}x fastest against fastest; "
          f"{min(ratios):.2f}-{max(ratios):.2f}x over the {len(ratios)} pairs (target >= 1.7x on 2 idle cores); "
          f"findings and exit code identical in every run ({runs[1][0]['doc']['summary']['status']}, "
          f"{runs[1][0]['doc']['summary']['facts']} facts)")


if __name__ == "__main__":
    main()
