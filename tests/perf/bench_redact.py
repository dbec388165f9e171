"""Benchmark: bundle redaction (`Redactor.line`, the table in bundle/redaction.toml) on a >= 100 MiB log.

    python tests/perf/bench_redact.py [--size-mib 128] [--repeat 3] [--secret-every 200] [--log PATH]

Builds a production-mix management-server.log with make_log.py (under tests/perf/data/, git-ignored) and plants one
secret-bearing line (the forms of tests/security/planted.py, in turn) every N lines, as a real log carries API calls
with sessionkey/apiKey/signature, command traces with passwords and userdata. Each run redacts the whole file line by
line in a fresh process, as `bundle create` does, and reports MB/s of wall and CPU time (best of --repeat), lines
redacted, and whether any planted secret survived (it must not). Not a test: nothing here fails but a leak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# this checkout's diagnostics first (not an installed copy), then make_log and the planted forms
sys.path[:0] = [os.path.dirname(os.path.dirname(HERE)), HERE, os.path.join(HERE, "..", "security")]


def build(path: str, size_mib: int, every: int) -> int:
    """The log with planted lines; returns how many secrets were planted (their values go to PATH.secrets.json)."""
    from make_log import build as make_log
    from planted import FORMS

    plain = path + ".plain"
    make_log(plain, size_mib << 20)
    secrets = []
    with open(plain, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        for n, line in enumerate(src):
            out.write(line)
            if n % every == every - 1:
                form = FORMS[len(secrets) % len(FORMS)]
                secret = "".join(c for c in f"Bn{len(secrets):06d}x!Qz{form.name[:5]}" if c in form.alphabet)
                secrets.append((form.name, secret))
                out.write(form.line(secret) + "\n")
    os.unlink(plain)
    with open(path + ".secrets.json", "w") as f:
        json.dump(secrets, f)
    return len(secrets)


def child(path: str) -> None:
    """Redact `path` in this process, as bundle/stage.py does, and print the figures as JSON."""
    from diagnostics.bundle.redact import Redactor

    start, cpu_start = time.perf_counter(), time.process_time()
    redactor = Redactor()
    out_path = path + ".redacted"
    lines = 0
    with open(path, "rb") as src, open(out_path, "wb") as out:
        for raw in src:
            out.write(redactor.line(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"))
            lines += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "lines": lines, "redactions": redactor.count}))


def leaked(path: str) -> list[str]:
    """Planted secrets found in any encoding in the redacted file (grep -F: one pass for all ~20k encodings)."""
    from planted import encodings

    with open(path + ".secrets.json") as f:
        secrets = json.load(f)
    owner = {}
    for name, secret in secrets:
        for encoded in encodings(secret):
            owner[encoded] = f"{name}:{secret}"
    patterns = path + ".patterns"
    with open(patterns, "w") as f:
        f.write("\n".join(owner) + "\n")
    found = subprocess.run(["grep", "-F", "-o", "-f", patterns, path + ".redacted"], capture_output=True, text=True)
    os.unlink(patterns)
    if found.returncode > 1:
        sys.exit(f"grep failed: {found.stderr.strip()}")
    return sorted({owner[hit] for hit in found.stdout.split("\n") if hit in owner})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--secret-every", type=int, default=200, help="one planted secret line per N log lines")
    parser.add_argument("--log", help="use (or build) this log instead of tests/perf/data/redact-SIZE.log")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    path = args.log or os.path.join(HERE, "data", f"redact-{args.size_mib}.log")
    if not os.path.exists(path) or not os.path.exists(path + ".secrets.json"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"building {path} ({args.size_mib} MiB, a planted secret every {args.secret_every} lines) ...", flush=True)
        build(path, args.size_mib, args.secret_every)
    size = os.path.getsize(path) / 1e6
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"redaction run failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout))
    best = min(runs, key=lambda r: r["cpu"])
    wall = ", ".join(f"{size / r['seconds']:.1f}" for r in runs)
    cpu = ", ".join(f"{size / r['cpu']:.1f}" for r in runs)
    print(f"{path}: {size:.0f} MB, {best['lines']} lines, {best['redactions']} values redacted")
    print(f"redaction MB/s wall: {wall}   CPU: {cpu}   (best CPU {size / best['cpu']:.1f} MB/s)")
    survivors = leaked(path)
    print(f"planted secrets surviving: {len(survivors)}" + (f" e.g. {survivors[:3]}" if survivors else ""))
    os.unlink(path + ".redacted")
    if survivors:
        sys.exit(1)


if __name__ == "__main__":
    main()
