"""Benchmark: `Catalogue.match` over a realistic mix of record messages (run by hand, not by pytest).

    python tests/perf/bench_catalogue.py [--messages 200000] [--min-rate 20000] [--repeat 3]

The mix: a third rendered from catalogue templates (every relevance), the rest lines no template knows
(pings, JSON command bodies, API polling): most records of a busy log are those, and they must be cheap.
Reports matches/s (best and worst of the repeats) and load time; exits 1 below --min-rate messages/s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "catalogue")]  # this checkout, not an installed copy

from catalogue_render import render_message  # noqa: E402

from diagnostics.catalogue import load_catalogue  # noqa: E402

UNKNOWN = (
    'Seq 4-7253024737091928065: Processing:  { Ans: , MgmtId: 90520735148373, via: 4, Ver: v1, Flags: 110, [{"com.cloud.agent.api.GetVmStatsAnswer":{"vmStatsMap":{"i-2-42-VM":{"cpuUtilization":3.1}},"result":true,"wait":0}}] }',
    "===START===  10.1.1.5 -- GET  command=listVirtualMachines&listall=true&response=json",
    "Sending Disconnect to listener: com.cloud.network.security.SecurityGroupListener",
    "Routing host 4(kvm01) is up and running; checked 12 VMs, 0 changes",
    "Execution is successful.",
    "Took 3 ms to process request",
)


def messages(count: int, seed: int = 3) -> list[str]:
    cat = load_catalogue()
    rng = random.Random(seed)
    templates = cat.templates
    out = []
    for _ in range(count):
        if rng.random() < 0.33:
            out.append(render_message(rng.choice(templates), rng.choice(["log4j1", "log4j2"]), rng))
        else:
            out.append(rng.choice(UNKNOWN))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--min-rate", type=float, default=20_000.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cat = load_catalogue()
    load = time.perf_counter() - t0
    batch = messages(args.messages)
    rates = []
    matched = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        matched = sum(1 for msg in batch if cat.match(msg) is not None)
        rates.append(len(batch) / (time.perf_counter() - t0))
    print(f"{len(cat.templates)} templates, loaded in {load * 1000:.0f} ms; {len(batch)} messages, {matched} matched; "
          f"{min(rates):,.0f}-{max(rates):,.0f} messages/s over {args.repeat} runs")
    return 0 if max(rates) >= args.min_rate else 1


if __name__ == "__main__":
    raise SystemExit(main())
