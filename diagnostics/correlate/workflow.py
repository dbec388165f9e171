"""An incident's facts -> the steps of the change-offering workflow (the reference document's six steps, as far as
logs can show them): api_call, stop, change_offering, start, live_scale, verify; each ok, failed or unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.correlate.operations import Operation
from diagnostics.model import Evidence, Fact

STEP_ORDER = ("api_call", "stop", "change_offering", "start", "live_scale", "verify")
_REJECTIONS_BEFORE_WORK = {"dynamic_scaling_disabled", "not_dynamically_scalable", "scale_down_running", "same_offering",
                           "fixed_offering", "not_stopped", "host_tags", "offering_limit", "inactive_offering",
                           "hypervisor_unsupported", "dynamic_flag_mismatch", "vgpu", "insufficient_resources"}


@dataclass
class Step:
    step: str
    status: str = "unknown"
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)
    failures: list[Evidence] = field(default_factory=list)
    times: dict[tuple[str, int], datetime] = field(default_factory=dict)  # evidence line -> its record's time

    def see(self, fact: Fact, failed: bool = False) -> None:
        if fact.ts is not None:
            self.times.setdefault((fact.path, fact.line), fact.ts)
        if fact.ts is not None:
            self.first = fact.ts if self.first is None or fact.ts < self.first else self.first
            self.last = fact.ts if self.last is None or fact.ts > self.last else self.last
        if failed:
            self.failures.append(fact.evidence)
        elif len(self.evidence) < 3:
            self.evidence.append(fact.evidence)
        if failed:
            self.status = "failed"
        elif self.status == "unknown":
            self.status = "ok"

    def to_dict(self) -> dict:
        duration = (self.last - self.first).total_seconds() if self.first and self.last else None
        return {
            "step": self.step, "status": self.status,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "duration_s": duration,
            "evidence": [self._evidence(e) for e in self._shown()],
        }


    def _evidence(self, e: Evidence) -> dict:
        ts = self.times.get((e.path, e.line))
        out = {"path": e.path, "line": e.line, "text": e.text[:300]}
        if ts is not None:
            out["ts"] = ts.isoformat()
        return out

    def _shown(self) -> list[Evidence]:
        """Failures first, one from each file before a second from any (the agent's line next to the server's)."""
        picked: list[Evidence] = []
        for pool in (self.failures, self.evidence):
            seen_paths = {e.path for e in picked}
            for e in pool:
                if e.path not in seen_paths and len(picked) < 6:
                    picked.append(e)
                    seen_paths.add(e.path)
            for e in pool:
                if e not in picked and len(picked) < 6:
                    picked.append(e)
        return picked


def _step_of(op: Operation) -> str:
    return {"scale": "live_scale", "change_offering": "change_offering", "start": "start", "stop": "stop"}[op.kind]


def build_steps(ops: list[Operation]) -> list[Step]:
    steps: dict[str, Step] = {}

    def step(name: str) -> Step:
        return steps.setdefault(name, Step(name))

    for op in ops:
        main = _step_of(op)
        for f in sorted(op.facts, key=lambda x: (x.ts is None, x.ts.timestamp() if x.ts else 0.0)):
            k = f.kind
            if k == "api_call" and op.kind in ("scale", "change_offering"):
                step("api_call").see(f)
            elif k == "vm_state":
                if f.to_state in ("Stopping", "Stopped") and f.from_state in ("Running", "Stopping"):
                    step("stop").see(f, failed=f.event == "OperationFailed" and f.to_state != "Stopped")
                elif f.to_state in ("Starting", "Running") or f.from_state == "Starting":
                    step("start").see(f, failed=f.from_state == "Starting" and f.to_state in ("Stopped", "Error"))
            elif k in ("start_failure", "insufficient_capacity"):
                step("start" if op.kind in ("start", "change_offering") or k == "start_failure" else main).see(f, failed=True)
            elif k == "libvirt_error" and f.signature != "balloon_free_memory":
                target = "live_scale" if f.operation == "scale" else ("start" if f.operation == "start" else main)
                step(target).see(f, failed=True)
            elif k == "scale_error":
                target = main
                if f.reason in ("not_stopped", "same_offering", "offering_limit", "inactive_offering") and op.kind == "change_offering":
                    target = "change_offering"
                step(target).see(f, failed=True)
            elif k == "resource_limit" and f.exceeded:
                step(main).see(f, failed=True)
            elif k == "agent_command":
                cmd_step = ("live_scale" if any(c.startswith("ScaleVm") for c in f.commands)
                            else "start" if any(c.startswith("Start") for c in f.commands)
                            else "stop" if any(c.startswith("Stop") for c in f.commands) else None)
                if cmd_step:
                    step(cmd_step).see(f, failed=f.result is False or f.action in ("timed_out", "cancelled", "unable_to_send"))
                elif f.action == "timed_out":
                    step(main).see(f, failed=True)
            elif k == "async_job" and f.phase == "complete":
                s = step(main)
                s.see(f, failed=f.status == "FAILED")
            elif k == "agent_event" and f.event == "unavailable":
                step(main).see(f, failed=True)
    ordered = sorted((steps[name] for name in STEP_ORDER if name in steps),
                     key=lambda st: (st.first is None, st.first.timestamp() if st.first else 0.0, STEP_ORDER.index(st.step)))
    if ordered and all(s.status == "ok" for s in ordered):
        ordered.append(Step("verify"))  # only the guest can show the new CPUs and memory: lscpu, free -m
    return ordered
