"""Benchmark: the whole rule catalogue over a large synthetic fact list (run by hand, not by pytest).

    python tests/perf/bench_engine.py [--facts 200000] [--target-seconds 15]

Facts mimic a busy cloud: capacity checks, planner decisions, capacity exceptions, agent events and libvirt
errors spread over 200 hosts, thousands of VMs and jobs, one day of timestamps. Exits 1 if evaluation takes
longer than the target, so CI can run it as a smoke benchmark.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import resource
from datetime import datetime, timedelta, timezone

from diagnostics.engine import evaluate, load_rules
from diagnostics.model.log_facts import AgentEvent, CapacityCheck, InsufficientCapacity, LibvirtError, PlannerDecision

T0 = datetime(2025, 3, 10, tzinfo=timezone.utc)


def synthetic_facts(count: int, seed: int = 7) -> list:
    rng = random.Random(seed)
    facts = []
    for i in range(count):
        ts = T0 + timedelta(seconds=rng.uniform(0, 86400))
        host = rng.randrange(200)
        job = 10_000 + i // 8
        common = dict(ts=ts, path="management-server.log", line=i + 1, text="...", host_id=host, host_name=f"kvm{host:03d}",
                      job=job, work_job=job + 1, logid=f"{job:08x}")
        roll = rng.random()
        if roll < 0.55:
            outcome = rng.choice(["ok", "ok", "ok", "insufficient_ram", "insufficient_cpu"])
            facts.append(CapacityCheck(**common, requested_ram=8 << 30, free_ram=rng.randrange(0, 64) << 30, requested_cpu=4000,
                                       free_cpu=rng.randrange(0, 90000), used_ram=rng.randrange(0, 120) << 30, reserved_ram=0,
                                       total_ram=125 << 30, used_cpu=rng.randrange(0, 190000), reserved_cpu=0, total_cpu=192000,
                                       outcome=outcome))
        elif roll < 0.75:
            facts.append(PlannerDecision(**common, event=rng.choice(["avoid_set", "no_capacity", "destination", "host_avoided"])))
        elif roll < 0.85:
            common.update(host_id=None, host_name=None, vm=f"i-2-{rng.randrange(20000)}-VM")
            facts.append(InsufficientCapacity(**common, exception="InsufficientServerCapacityException", resource="compute",
                                              scope="zone", scope_id=1, message="Unable to create a deployment for ..."))
        elif roll < 0.95:
            facts.append(AgentEvent(**common, event=rng.choice(["disconnecting", "ping_timeout", "connected"]), side="management"))
        else:
            facts.append(LibvirtError(**common, operation="start", message="Couldn't retrieve free memory, returning -1.",
                                      signature="balloon_free_memory"))
    return facts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=200_000)
    parser.add_argument("--target-seconds", type=float, default=15.0)
    args = parser.parse_args()
    ruleset = load_rules()
    if ruleset.errors:
        print("\n".join(ruleset.errors), file=sys.stderr)
    facts = synthetic_facts(args.facts)
    started = time.perf_counter()
    findings = evaluate(ruleset, facts)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the facts themselves included
    matched = sum(f.count for f in findings)
    print(f"{len(ruleset.rules)} rules x {len(facts)} facts: {elapsed:.2f} s ({len(facts) / elapsed:,.0f} facts/s), "
          f"{len(findings)} findings grouping {matched} matches, peak RSS {peak / 2**20:.0f} MiB (facts included)")
    return 0 if elapsed <= args.target_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
