"""Benchmark: judging the runbook over a busy cloud's facts (run by hand, not by pytest).

    python tests/runbook/bench_runbook.py [--facts 200000] [--target-seconds 10]

The analysis itself (reading logs, the rule catalogue) has its own benchmarks; this measures what the runbook adds:
growing one VM's scope over jobs/logids/Seq numbers, running the pass conditions as rules, and matching findings to
checks, for one VM (`--vm`) and for the whole evidence. Exits 1 if either takes longer than the target.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import datetime, timedelta, timezone

from diagnostics.engine import evaluate, load_rules
from diagnostics.model.log_facts import AgentCommand, ApiCall, AsyncJob, CapacityCheck, ScaleError, VmStateTransition
from diagnostics.report.document import build_document
from diagnostics.runbook import assess, load_runbook, status

T0 = datetime(2025, 3, 10, tzinfo=timezone.utc)


def synthetic_facts(count: int, seed: int = 11) -> list:
    """Operations on thousands of VMs: API call, job submit/execute/complete, capacity check, state changes, Seq traces."""
    rng = random.Random(seed)
    facts: list = []
    i = 0
    while len(facts) < count:
        i += 1
        vm_id = rng.randrange(1, 20_000)
        vm, uuid = f"i-2-{vm_id}-VM", f"5b0c9f1e-0000-4000-8000-{vm_id:012d}"
        job, host = 10_000 + 2 * i, rng.randrange(200)  # the work job takes the next id of the same sequence
        ts = T0 + timedelta(seconds=i * 0.4)
        req, ctx = f"{rng.getrandbits(32):08x}", f"{rng.getrandbits(32):08x}"  # first 8 hex of a random context uuid
        where = dict(path="management-server.log", text="...")
        line = len(facts) + 1
        facts += [
            ApiCall(**where, line=line, ts=ts, vm_uuid=uuid, logid=req, command="scaleVirtualMachine", phase="start",
                    offering="77e1c0de-0b1e-4c55-8a3d-6f2b9e4d1a20"),
            AsyncJob(**where, line=line + 1, ts=ts, job=job, logid=req, phase="submit", job_id=job,
                     command="ScaleVMCmdByAdmin", instance_type="VirtualMachine", instance_id=vm_id),
            AsyncJob(**where, line=line + 2, ts=ts, job=job, logid=ctx, phase="execute", job_id=job,
                     command="ScaleVMCmdByAdmin", instance_type="VirtualMachine", instance_id=vm_id),
            CapacityCheck(**where, line=line + 3, ts=ts, job=job, logid=ctx, host_id=host, host_name=f"kvm{host:03d}",
                          requested_ram=4 << 30, free_ram=rng.randrange(0, 64) << 30, outcome=rng.choice(["ok", "ok", "insufficient_ram"])),
            AgentCommand(**where, line=line + 4, ts=ts, job=job, work_job=job + 1, logid=ctx, host_id=host, vm=vm,
                         seq=f"{host}-{i}", action="sending", commands=("ScaleVmCommand",)),
            VmStateTransition(**where, line=line + 5, ts=ts, vm=vm, vm_uuid=uuid, job=job, logid=ctx, host_id=host,
                              from_state="Running", to_state="Running", event="OperationSucceeded"),
        ]
        if rng.random() < 0.1:
            facts.append(ScaleError(**where, line=line + 6, ts=ts, job=job, logid=ctx, reason="dynamic_scaling_disabled",
                                    message="Dynamically scaling virtual machines is disabled for this zone, please contact your admin."))
        facts.append(AsyncJob(**where, line=line + 7, ts=ts, job=job, logid=ctx, phase="complete", job_id=job,
                              status=rng.choice(["SUCCEEDED", "FAILED"]), result_code=0))
    return facts[:count]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=200_000)
    parser.add_argument("--target-seconds", type=float, default=10.0)
    args = parser.parse_args()
    facts = synthetic_facts(args.facts)
    findings = evaluate(load_rules(), facts)
    document = build_document(findings, [], [], [], "UTC", facts_count=len(facts))
    runbook = load_runbook("change-offering")
    worst = 0.0
    for vm in ("i-2-4242-VM", None):
        started = time.perf_counter()
        result = assess(runbook, facts, findings, document, vm=vm)
        elapsed = time.perf_counter() - started
        worst = max(worst, elapsed)
        failed = sum(r.status == "failed" for r in result.checks)
        print(f"runbook over {len(facts)} facts, {len(findings)} findings, vm={vm or 'all'}: {elapsed:.2f} s, "
              f"{failed} failed checks, status {status(result)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"peak RSS {peak / 2**20:.0f} MiB (facts included)")
    return 0 if worst <= args.target_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
