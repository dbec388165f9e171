"""Facts -> operations: an offering change is an API call, its async job, the work jobs it spawned and the agent
commands they sent, tied together by logid (API call <-> job submission), job id (job <-> work jobs) and logid or
Seq (management <-> agent.log). Operations on one VM close in time form one incident (stop, change, start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diagnostics.model import Fact
from diagnostics.model.identity import Identities

CHANGE_COMMANDS = {"scalevirtualmachine": "scale", "changeserviceforvirtualmachine": "change_offering",
                   "upgradevirtualmachine": "change_offering", "scalesystemvm": "scale", "upgradesystemvm": "change_offering"}
LIFECYCLE_COMMANDS = {"startvirtualmachine": "start", "stopvirtualmachine": "stop", "rebootvirtualmachine": "start",
                      "startsystemvm": "start", "stopsystemvm": "stop"}
JOB_COMMANDS = {"ScaleVMCmd": "scale", "ScaleVMCmdByAdmin": "scale", "UpgradeVMCmd": "change_offering",
                "UpgradeVMCmdByAdmin": "change_offering", "ScaleSystemVMCmd": "scale", "UpgradeSystemVMCmd": "change_offering",
                "StartVMCmd": "start", "StartVMCmdByAdmin": "start", "StopVMCmd": "stop", "StopVMCmdByAdmin": "stop",
                "RebootVMCmd": "start", "RebootVMCmdByAdmin": "start", "StartSystemVMCmd": "start", "StopSystemVMCmd": "stop"}
SESSION = timedelta(hours=2)  # a stop, a change and a start of one VM within this span are one incident


_SCAN_LIMIT = 8  # values (facts, jobs, logids) checked one by one before a set of them is kept


class Keys:
    """A set of job ids, logids or Seq numbers: a short list while it holds a few (most operations have one job and
    one logid; an empty set costs 216 bytes, and a busy log opens an operation per routine start), a set beyond."""

    __slots__ = ("items",)

    def __init__(self, items=()) -> None:
        self.items: list | set = []
        for item in items:
            self.add(item)

    def add(self, item) -> None:
        items = self.items
        if item in items:
            return
        if type(items) is list and len(items) >= _SCAN_LIMIT:
            items = self.items = set(items)
        items.add(item) if type(items) is set else items.append(item)

    def __ior__(self, other) -> "Keys":
        for item in other:
            self.add(item)
        return self

    def __contains__(self, item) -> bool:
        return item in self.items

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other) -> bool:
        return set(self.items) == set(other) if isinstance(other, (Keys, set, frozenset)) else NotImplemented

    def __repr__(self) -> str:
        return f"Keys({sorted(self.items, key=repr)!r})"


@dataclass(slots=True)
class Operation:
    """One API operation on one VM and everything it caused. A busy log opens one per routine start or stop, so an
    operation holds no per-instance dict, and no sets until it has more than a few facts, jobs or logids."""

    kind: str  # scale | change_offering | start | stop
    vm: str | None = None
    vm_uuid: str | None = None
    jobs: Keys = field(default_factory=Keys)
    logids: Keys = field(default_factory=Keys)
    seqs: Keys = field(default_factory=Keys)
    facts: list[Fact] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    _ids: set[int] | None = field(default=None, repr=False)

    def has(self, fact: Fact) -> bool:
        return id(fact) in self._ids if self._ids is not None else any(f is fact for f in self.facts)

    def add(self, fact: Fact) -> None:
        if self.has(fact):
            return
        self.facts.append(fact)
        if self._ids is not None:
            self._ids.add(id(fact))
        elif len(self.facts) > _SCAN_LIMIT:
            self._ids = {id(f) for f in self.facts}
        if fact.ts is not None:
            if self.first is None or fact.ts < self.first:
                self.first = fact.ts
            if self.last is None or fact.ts > self.last:
                self.last = fact.ts


def find_operations(facts: list[Fact], ids: Identities | None = None) -> list[Operation]:
    """Operations keyed by their API job (or API call when no job was logged), with their facts attached; `ids`
    (learnt from `facts` when not given) names each operation's VM however its lines named it."""
    if ids is None:
        ids = Identities.learn(facts)
    by_job: dict[int, Operation] = {}
    by_logid: dict[str, Operation] = {}
    ops: list[Operation] = []
    # 1. API calls and jobs that start an operation
    for f in facts:
        if f.kind == "api_call" and f.phase in ("start", "access"):
            kind = CHANGE_COMMANDS.get(f.command.lower()) or LIFECYCLE_COMMANDS.get(f.command.lower())
            if kind and f.logid not in by_logid:
                op = Operation(kind, vm=f.vm, vm_uuid=f.vm_uuid)
                if f.logid:
                    op.logids.add(f.logid)
                    by_logid[f.logid] = op
                op.add(f)
                ops.append(op)
        elif f.kind == "async_job" and f.phase in ("submit", "execute") and f.command in JOB_COMMANDS:
            job = f.job_id if f.job_id is not None else f.job
            if job is None or job in by_job:
                continue
            op = by_logid.get(f.logid) if f.logid else None
            if op is None or (op.jobs and job not in op.jobs):
                op = Operation(JOB_COMMANDS[f.command])
                ops.append(op)
            op.jobs.add(job)
            by_job[job] = op
    _adopt_unannounced_jobs(facts, ops, by_job)
    # 2. every fact of those jobs (work jobs carry the API job first in their NDC), and of the call's logid
    for f in facts:
        op = by_job.get(f.job) if f.job is not None else None
        if op is None and f.logid and f.logid in by_logid:
            op = by_logid[f.logid]
        if op is None:
            continue
        op.add(f)
        if f.logid:
            op.logids.add(f.logid)
            by_logid.setdefault(f.logid, op)
        if f.kind == "agent_command" and f.seq:
            op.seqs.add(f.seq)
    # 3. the agent side: the same logid (propagated with the command) or the same Seq
    by_seq = {s: op for op in ops for s in op.seqs}
    for f in facts:
        if f.job is not None:
            continue
        op = by_logid.get(f.logid) if f.logid else None
        if op is None and f.kind == "agent_command" and f.seq in by_seq:
            op = by_seq[f.seq]
        if op is not None:
            op.add(f)
    # 4. the VM of each operation
    for op in ops:
        for f in op.facts:
            if op.vm is None and f.vm:
                op.vm = f.vm
            if op.vm_uuid is None and f.vm_uuid:
                op.vm_uuid = f.vm_uuid
    for op in ops:
        if op.vm is None and op.vm_uuid:
            vm = ids.vm_named(op.vm_uuid)
            op.vm = vm.name if vm is not None else None
    ops = _join_calls_to_jobs(ops, ids)
    # 5. a scale refusal with no API line (a pasted excerpt) is still an operation
    if not ops:
        orphans = [f for f in facts if f.kind == "scale_error"]
        if orphans:
            op = Operation("scale")
            for f in orphans:
                op.add(f)
                if f.job is not None:
                    op.jobs.add(f.job)
                if f.vm and not op.vm:
                    op.vm = f.vm
            ops.append(op)
    return ops


JOIN_WINDOW = timedelta(seconds=30)


def _adopt_unannounced_jobs(facts: list[Fact], ops: list[Operation], by_job: dict[int, Operation]) -> None:
    """A job whose submission was not logged (a paste, INFO level) but whose end or refusal was, belongs to the API
    call just before it that has no job of its own: the call of a change and the job's failure are one operation,
    not an "OK, outcome not logged" incident beside a loose finding."""
    waiting = sorted((op for op in ops if not op.jobs and op.first is not None and op.kind in ("scale", "change_offering")),
                     key=lambda o: o.first.timestamp())
    if not waiting:
        return
    first_seen: dict[int, Fact] = {}
    for f in facts:
        if f.job is None or f.job in by_job or f.ts is None:
            continue
        if f.kind == "scale_error" or (f.kind == "async_job" and f.phase == "complete"):
            first_seen.setdefault(f.job, f)
    for job, f in sorted(first_seen.items(), key=lambda kv: kv[1].ts.timestamp()):
        for op in waiting:
            if op.jobs:
                continue
            try:
                inside = op.first <= f.ts <= op.first + JOIN_WINDOW
            except TypeError:
                inside = False
            if inside:
                op.jobs.add(job)
                by_job[job] = op
                break


def _join_calls_to_jobs(ops: list[Operation], ids: Identities) -> list[Operation]:
    """An API call whose job was not tied to it by logid (the call names the VM by UUID, the job by instance name,
    and no line holds both) is still one operation: a call with no job and the next job of the same kind with no
    call, starting within JOIN_WINDOW after it, are merged. Without this one operation shows as two incidents."""
    calls = [op for op in ops if not op.jobs and any(f.kind == "api_call" for f in op.facts)]
    jobs = [op for op in ops if op.jobs and not any(f.kind == "api_call" for f in op.facts)]
    merged: set[int] = set()
    for call in sorted(calls, key=lambda o: o.first.timestamp() if o.first else 0.0):
        if call.first is None:
            continue
        for job in sorted(jobs, key=lambda o: o.first.timestamp() if o.first else 0.0):
            if id(job) in merged or job.kind != call.kind or job.first is None:
                continue
            if not (call.first <= job.first <= call.first + JOIN_WINDOW):
                continue
            if _different_vms(ids, call, job):
                continue
            for f in call.facts:
                job.add(f)
            job.logids |= call.logids
            job.vm = job.vm or call.vm
            job.vm_uuid = job.vm_uuid or call.vm_uuid
            merged.add(id(job))
            call.jobs.add(-1)  # marked: folded into `job`
            break
    return [op for op in ops if -1 not in op.jobs]


def _different_vms(ids: Identities, a: Operation, b: Operation) -> bool:
    """Whether two operations are known to concern two VMs (by the resolver, else by their raw names)."""
    same = ids.same_vm((a.vm, a.vm_uuid), (b.vm, b.vm_uuid))
    if same is not None:
        return not same
    return bool((a.vm and b.vm and a.vm != b.vm) or (a.vm_uuid and b.vm_uuid and a.vm_uuid != b.vm_uuid))


def group_sessions(ops: list[Operation], ids: Identities | None = None) -> list[list[Operation]]:
    """Operations of one VM within SESSION of each other form one incident, in time order (one VM however each
    operation named it: an API call by UUID, a job by instance name)."""
    ordered = sorted(ops, key=lambda o: (o.first is None, o.first.timestamp() if o.first else 0.0))
    sessions: list[list[Operation]] = []
    open_by_vm: dict[object, list[Operation]] = {}
    for op in ordered:
        key = ids.vm_token(op.vm, op.vm_uuid) if ids is not None else (op.vm or op.vm_uuid)
        current = open_by_vm.get(key) if key else None
        if current is not None and op.first and current[-1].last and op.first - current[-1].last <= SESSION:
            current.append(op)
            continue
        session = [op]
        sessions.append(session)
        if key:
            open_by_vm[key] = session
    # a session made only of plain starts/stops is not an offering change unless something failed in it
    return sessions
