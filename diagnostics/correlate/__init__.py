"""Facts + findings -> incidents: per VM and operation, what happened, where it failed, why, how sure, what next.

    operations.py  API call, job, work jobs and agent commands tied together (logid, job id, Seq)
    workflow.py    the steps of the change-offering workflow with their status and evidence
    causes.py      which findings belong to an incident and which one is the cause
    skew.py        clock offset between management server and agents
"""

from __future__ import annotations

from diagnostics.correlate.causes import as_list, loud_log_records, not_recognised, rank, related, unexplained_records
from diagnostics.correlate.operations import find_operations, group_sessions
from diagnostics.correlate.skew import estimate_skew
from diagnostics.correlate.workflow import build_steps
from diagnostics.model import Finding
from diagnostics.model.identity import Identities

_OPERATION_NAMES = {"scale": "scaleVirtualMachine (live scale)", "change_offering": "change offering",
                    "start": "start", "stop": "stop"}


def build_incidents(collected, findings: list[Finding]) -> list[dict]:
    """The `incidents` array of the csdiag/v1 document (finding ids are F1.. in `findings` order)."""
    ids = {id(f): f"F{i}" for i, f in enumerate(findings, start=1)}
    who = getattr(collected, "identities", None) or Identities.learn(collected.facts)
    ops = find_operations(collected.facts, who)
    skew = estimate_skew(collected)
    agent_hosts = _hosts_with_agent_logs(collected)
    hosts_with_memory = {f.host_name for f in collected.facts if f.kind == "host_memory" and f.host_name}
    index = _FindingIndex(findings)
    records_read = any(f.kind == "log_record" for f in collected.facts)
    loud_records = loud_log_records(collected.facts)  # once: each failed incident searches only these, in file order
    incidents: list[dict] = []
    for session in group_sessions(ops, who):
        kinds = [op.kind for op in session]
        steps = build_steps(session)
        failed = [s for s in steps if s.status == "failed"]
        if not any(k in ("scale", "change_offering") for k in kinds) and not failed:
            continue  # routine starts and stops that went fine are not incidents
        vm = next((op.vm for op in session if op.vm), None) or next((op.vm_uuid for op in session if op.vm_uuid), None)
        jobs = set().union(*(op.jobs for op in session))
        logids = set().union(*(op.logids for op in session))
        facts = [f for op in session for f in op.facts]
        hosts = _host_aliases(who, facts)
        first = min((op.first for op in session if op.first), default=None)
        last = max((op.last for op in session if op.last), default=None)
        vm_keys = _vm_aliases(who, session)
        mine = rank([f for f in index.candidates(vm_keys, jobs, logids, hosts) if related(f, vm_keys, jobs, logids, hosts, first, last)])
        causes = [f for f in mine if not f.benign and not f.symptom_of and not f.fallback]
        root = causes[0] if causes and (failed or causes[0].severity != "info") else None
        vm_uuid = next((op.vm_uuid for op in session if op.vm_uuid), None)
        done = {s.step: s.status for s in steps}
        main_step = {"scale": "live_scale", "change_offering": "change_offering", "start": "start", "stop": "stop"}[kinds[-1]]
        if failed or (root is not None and root.severity == "critical"):
            outcome = "failed"
        elif done.get(main_step) == "ok" or (kinds[-1] == "change_offering" and done.get("start") == "ok"):
            outcome = "succeeded"
        else:
            outcome = "unknown"  # e.g. the job's completion is not in the inputs
        host_names = sorted({f.host_name for f in facts if f.host_name})
        failed_step = failed[0].step if failed else (None if root is None else _step_for(root, kinds))
        if root is not None:
            root_cause = {"rule": root.rule_id, "category": root.category, "summary": root.message,
                          "confidence": round(float(root.confidence), 2), "finding": ids.get(id(root)),
                          "severity": root.severity}
        elif failed:
            root_cause = not_recognised(failed[0], unexplained_records(loud_records, jobs, logids, hosts, first, last))
        else:
            root_cause = None
        shown = {root_cause["summary"]} if root_cause else set()
        contributing, symptoms = [], []
        root_lines = {(e.path, e.line) for e in root.evidence} if root is not None else set()
        for f in mine:
            if f is root or f.benign or f.message in shown:
                continue  # the root cause is said once; a finding that repeats its words adds nothing
            if root_lines and f.evidence and {(e.path, e.line) for e in f.evidence} <= root_lines:
                continue  # the same lines read by a more generic rule: the root cause again, in other words
            shown.add(f.message)
            entry = {"rule": f.rule_id, "category": f.category, "summary": f.message, "finding": ids.get(id(f)),
                     "severity": f.severity, "symptom_of": list(f.symptom_of)}
            (symptoms if f.symptom_of else contributing).append((f.fallback, entry))
        # a rule that knows the failure says more than the catch-all for a message it only recognises: first
        contributing = [e for _generic, e in sorted(contributing, key=lambda pair: pair[0])]
        symptoms = [e for _generic, e in sorted(symptoms, key=lambda pair: pair[0])]
        if outcome == "failed":
            for f in mine:  # an unexplained error inside a failed operation is no longer a mere warning
                if f.fallback and f.severity == "warning":
                    f.severity = "critical"
            status = "CRITICAL" if (root is not None and root.severity == "critical") or any(
                f.severity == "critical" and not f.benign for f in mine) else "WARNING"
        else:
            status = {"critical": "CRITICAL", "warning": "WARNING"}.get(root.severity if root else "",
                                                                        "OK" if outcome == "succeeded" else "UNKNOWN")
        missing = _missing(root, mine, host_names, agent_hosts, hosts_with_memory) if outcome != "succeeded" else []
        if root is None and failed:
            missing += _missing_for_unrecognised(root_cause, host_names, jobs, records_read)
        incidents.append({
            "id": f"I{len(incidents) + 1}",
            "status": status,
            "vm": vm,
            "vm_uuid": vm_uuid if vm_uuid != vm else None,
            "operation": " -> ".join(dict.fromkeys(_OPERATION_NAMES[k] for k in kinds)),
            "outcome": outcome,
            "jobs": sorted(jobs),
            "hosts": host_names,
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "steps": [s.to_dict() for s in steps],
            "failed_step": failed_step,
            "root_cause": root_cause,
            "contributing": contributing[:8],
            "symptoms": symptoms[:8],
            "findings": [ids[id(f)] for f in mine if id(f) in ids],
            "missing_evidence": missing,
            "clock_skew": skew,
        })
    return incidents


class _FindingIndex:
    """Findings by the keys an incident can share with them, so each incident looks only at its own."""

    def __init__(self, findings: list[Finding]) -> None:
        self.order = {id(f): i for i, f in enumerate(findings)}
        self.by_key: dict[tuple[str, object], list[Finding]] = {}
        for f in findings:
            e = f.entities
            keys = {("vm", e.get("vm")), ("vm", e.get("vm_uuid"))}
            keys |= {("job", j) for j in as_list(e.get("job")) + as_list(e.get("jobs"))}
            keys |= {("logid", x) for x in as_list(e.get("logid")) + as_list(e.get("logids"))}
            keys |= {("host", str(h)) for h in as_list(e.get("host")) + as_list(e.get("host_name")) + as_list(e.get("host_id"))}
            for key in keys:
                if key[1] is not None:
                    self.by_key.setdefault(key, []).append(f)

    def candidates(self, vms: set, jobs: set, logids: set, hosts: set) -> list[Finding]:
        seen: dict[int, Finding] = {}
        for key in [("vm", v) for v in vms] + [("job", j) for j in jobs] + [("logid", x) for x in logids] + [("host", str(h)) for h in hosts]:
            for f in self.by_key.get(key, ()):
                seen[id(f)] = f
        return sorted(seen.values(), key=lambda f: self.order[id(f)])


def _host_aliases(who: Identities, facts: list) -> set:
    """Every way the incident's hosts are named (id, name as written and lower-cased, UUID, IP): a finding that
    names one of them by any of these belongs to the incident."""
    out: set = {f.host_name for f in facts if f.host_name} | {f.host_id for f in facts if f.host_id is not None}
    seen: set[int] = set()
    for f in facts:
        if f.host_id is None and not f.host_name:
            continue
        host = who.host(f)
        if host is not None and host.token not in seen:
            seen.add(host.token)
            out |= host.aliases()
    return out


def _vm_aliases(who: Identities, session: list) -> set[str]:
    """The instance name and UUID of the incident's VM, however each operation named it."""
    out = {k for op in session for k in (op.vm, op.vm_uuid) if k}
    for op in session:
        vm = who.vm_named(op.vm_uuid or op.vm) if (op.vm or op.vm_uuid) else None
        if vm is not None:
            out |= {k for k in (vm.instance, vm.uuid) if k}
    return out


def _step_for(root: Finding, kinds: list[str]) -> str:
    if "scale" in kinds:
        return "live_scale"
    if root.category in ("insufficient_capacity", "start_failed", "libvirt_memory", "stale_capacity"):
        return "start"
    return "change_offering" if "change_offering" in kinds else kinds[0]


def _hosts_with_agent_logs(collected) -> set[str]:
    out = set()
    for item in collected.inputs:
        if item.get("kind") == "log" and item.get("side") in ("agent", "mixed"):  # mixed: agent records too
            parts = item["path"].replace("\\", "/").split("/")
            out.update(parts[-3:-1])
        if item.get("kind") == "probe" and item.get("host"):
            out.add(item["host"])
    return out


def _missing(root: Finding | None, mine: list[Finding], hosts: list[str], agent_hosts: set[str], with_memory: set[str]) -> list[str]:
    out = []
    for host in hosts:
        if host not in agent_hosts:
            out.append(f"no agent.log from host {host} among the inputs: run `csdiag probe {host}` (or copy /var/log/cloudstack/agent/agent.log)")
    capacity_claims = [f for f in mine if f.category in ("insufficient_capacity", "stale_capacity")]
    for f in capacity_claims:
        host = f.entities.get("host_name") or f.entities.get("host")
        if host and host not in with_memory:
            out.append(f"no `free` output from host {host}: run `csdiag probe {host}` to settle whether CloudStack's capacity "
                       "accounting is stale or the host is really full")
    return list(dict.fromkeys(out))


def _missing_for_unrecognised(root_cause: dict, hosts: list[str], jobs: set[int], records_read: bool) -> list[str]:
    """What would settle a failure no rule explains: the job's loud lines, and the host side of it."""
    out = []
    loud = any(e.get("ts") for e in root_cause.get("evidence", []))  # log records, not only the step's own lines
    if jobs and not loud and records_read:
        job = min(jobs)
        out.append(f"no ERROR or WARN line and no exception of job {job} among the inputs: the log of the management "
                   "server that ran it may be missing (several management servers?), or the log level hides them")
    if not hosts:
        out.append("the host that ran the command is not named in the inputs: add the agent.log of the host the VM "
                   "was placed on (`csdiag probe HOST`)")
    return out
