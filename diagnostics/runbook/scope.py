"""Which facts and findings are about one VM, so `--vm` judges the runbook on that VM's evidence only.

Logs name a VM in many ways: its instance name (i-2-42-VM) on state transitions and agent commands, its uuid on API
calls, its database id on async jobs (`instanceId: 42`), and nothing at all on the lines of its jobs (capacity
checks, job completions) that carry only the job id and logid. Starting from the name or uuid the operator gives,
the scope grows over those links until nothing new joins: VM -> jobs, logids, Seq numbers -> facts that carry them
-> more names, uuids and jobs. Host evidence (free, sensors, dmesg) counts for a VM only on the hosts it ran on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from diagnostics.model import Fact, Finding

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# i-<account>-<id>-VM (user VMs), v-<id>-VM / s-<id>-VM / r-<id>-VM (system VMs); the id is vm_instance.id
INSTANCE_RE = re.compile(r"^(?:i-\d+-(\d+)|[vsr]-(\d+))-VM$")
MAX_ROUNDS = 6


@dataclass(slots=True)
class VmScope:
    names: set[str] = field(default_factory=set)
    uuids: set[str] = field(default_factory=set)
    db_ids: set[int] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)
    logids: set[str] = field(default_factory=set)
    seqs: set[str] = field(default_factory=set)
    host_ids: set[int] = field(default_factory=set)
    host_names: set[str] = field(default_factory=set)
    linked: set[int] = field(default_factory=set)  # id() of the facts about this VM

    @property
    def found(self) -> bool:
        return bool(self.linked)

    def names_vm(self, fact: Fact) -> bool:
        if fact.vm and fact.vm in self.names:
            return True
        if fact.kind == "api_vm" and ({getattr(fact, "name", None), getattr(fact, "display_name", None)} & self.names):
            return True  # the operator gave the VM's name as the API lists it (web-prod-01)
        if fact.vm_uuid and fact.vm_uuid.lower() in self.uuids:
            return True
        return (fact.kind == "async_job" and getattr(fact, "instance_type", None) == "VirtualMachine"
                and getattr(fact, "instance_id", None) in self.db_ids)

    def link_of(self, fact: Fact) -> str | None:
        """How a fact that does not name the VM is still about it: through one of its jobs, Seq numbers or logids."""
        for job in (fact.job, fact.work_job, getattr(fact, "job_id", None)):
            if job is not None and job in self.jobs:
                return "job"
        if fact.kind == "agent_command" and getattr(fact, "seq", "") in self.seqs:
            return "seq"
        if fact.logid and fact.logid in self.logids:
            return "logid"
        return None

    def on_my_host(self, fact: Fact) -> bool:
        """Evidence of a host the VM ran on, or of the guest itself (a folder named after the VM: i-2-42-VM/dmesg.txt)."""
        return (fact.host_id is not None and fact.host_id in self.host_ids) or (
            bool(fact.host_name) and (fact.host_name.lower() in self.host_names or fact.host_name in self.names))


def _start(vm: str) -> VmScope:
    scope = VmScope()
    if UUID_RE.match(vm):
        scope.uuids.add(vm.lower())
    else:
        scope.names.add(vm)
        m = INSTANCE_RE.match(vm)
        if m:
            scope.db_ids.add(int(m.group(1) or m.group(2)))
    return scope


def _learn(scope: VmScope, fact: Fact, via: str | None) -> None:
    if fact.vm and fact.vm_uuid and scope.names_vm(fact):  # not from job-linked facts: a job may touch a router too
        scope.names.add(fact.vm)
        scope.uuids.add(fact.vm_uuid.lower())
    if fact.kind == "api_call" and fact.vm_uuid and not fact.vm and fact.logid in scope.logids:
        scope.uuids.add(fact.vm_uuid.lower())  # the request whose context submitted one of our jobs
    if fact.vm and (m := INSTANCE_RE.match(fact.vm)) and fact.vm in scope.names:
        scope.db_ids.add(int(m.group(1) or m.group(2)))
    scope.jobs.update(j for j in (fact.job, fact.work_job, getattr(fact, "job_id", None)) if j is not None)
    if fact.logid and via != "logid":  # a logid reached through a logid adds nothing; a chain of them could wander
        scope.logids.add(fact.logid)
    if fact.kind == "agent_command" and getattr(fact, "seq", ""):
        scope.seqs.add(fact.seq)  # type: ignore[attr-defined]
    if fact.kind in ("vm_state", "agent_command", "capacity_check", "start_failure", "libvirt_error", "api_vm"):
        if fact.host_id is not None:
            scope.host_ids.add(fact.host_id)
        if fact.host_name:
            scope.host_names.add(fact.host_name.lower())


def vm_scope(facts: Iterable[Fact], vm: str) -> VmScope:
    """Grow the scope of `vm` (instance name or uuid) over the facts until it is stable."""
    facts = list(facts)
    scope = _start(vm.strip())
    for _ in range(MAX_ROUNDS):
        before = (len(scope.linked), len(scope.names), len(scope.uuids), len(scope.jobs), len(scope.logids))
        for fact in facts:
            if id(fact) in scope.linked:
                continue
            if scope.names_vm(fact):
                via = None
            elif not scope.linked or (via := scope.link_of(fact)) is None:
                continue
            scope.linked.add(id(fact))
            _learn(scope, fact, via)
        if (len(scope.linked), len(scope.names), len(scope.uuids), len(scope.jobs), len(scope.logids)) == before:
            break
    _name_hosts(scope, facts)
    return scope


def _name_hosts(scope: VmScope, facts: list[Fact]) -> None:
    """Host ids and names are two spellings of one host: learn both so `free` output (named) joins log facts (ids)."""
    for fact in facts:
        if fact.host_id is not None and fact.host_name:
            if fact.host_id in scope.host_ids:
                scope.host_names.add(fact.host_name.lower())
            elif fact.host_name.lower() in scope.host_names:
                scope.host_ids.add(fact.host_id)


def facts_in_scope(facts: Iterable[Fact], scope: VmScope) -> list[Fact]:
    """The VM's own facts, plus evidence of its hosts, plus facts about no VM, job or host (zone settings, captures)."""
    out = []
    for fact in facts:
        if id(fact) in scope.linked:
            out.append(fact)
        elif fact.vm or fact.vm_uuid or fact.job is not None or fact.work_job is not None:
            continue  # another VM's or another job's
        elif fact.host_id is not None or fact.host_name:
            if scope.on_my_host(fact):
                out.append(fact)
        else:
            out.append(fact)
    return out


def finding_in_scope(finding: Finding, scope: VmScope, locations: set[tuple[str, int]]) -> bool:
    """A finding is the VM's when it names the VM, one of its jobs or logids, cites one of its facts' lines, or is
    about one of its hosts without naming another VM or job."""
    e = finding.entities
    if e.get("vm") in scope.names or (e.get("vm_uuid") or "").lower() in scope.uuids - {""}:
        return True
    jobs = {e.get("job"), e.get("work_job"), *(e.get("jobs") or ())} - {None}
    logids = {e.get("logid"), *(e.get("logids") or ())} - {None, ""}
    if jobs & scope.jobs or logids & scope.logids:
        return True
    if any((ev.path, ev.line) in locations for ev in finding.evidence):
        return True
    if e.get("vm") or e.get("vm_uuid") or e.get("job") is not None:
        return False
    host_id, host_name = e.get("host_id"), e.get("host_name") or e.get("host")
    return (host_id is not None and host_id in scope.host_ids) or (
        isinstance(host_name, str) and host_name.lower() in scope.host_names)
