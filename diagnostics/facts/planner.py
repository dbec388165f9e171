"""DeploymentPlanningManagerImpl / FirstFitPlanner / FirstFitAllocator lines -> planner facts (§4)."""

from __future__ import annotations

import re

from diagnostics.catalogue import vocabulary
from diagnostics.facts.entities import find_host, find_vm, parse_id_list
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import PlannerDecision

_AVOIDS_RE = re.compile(r"Deploy avoids pods: \[?([^\]]*)\]?, clusters: \[?([^\]]*)\]?, hosts: \[?([^\]]*)\]?")
_ADD_HOST_AVOID_RE = re.compile(r"Adding host \[(.+?)\] to (?:the )?avoid set")

# The planner's "ran out of candidates" texts (catalogue/vocabulary.toml), each with its event
_NO_CAPACITY_EVENTS = {p.text: p.event for p in vocabulary("planner_no_capacity")}
_NO_CAPACITY = tuple(_NO_CAPACITY_EVENTS)


def _fact(rec: Record, event: str, **kw) -> PlannerDecision:
    vm = find_vm(rec.message)
    host = find_host(rec.message)
    fields = base(rec, vm=vm and vm.name, vm_uuid=vm and vm.uuid)
    if host is not None and "host_id" not in kw:
        fields.update(host_id=host.id, host_name=host.name)
    fields.update(kw)
    return PlannerDecision(**fields, event=event)


@extractor("Deploy avoids pods:")
def avoid_sets(rec: Record, ctx: ExtractContext):
    m = _AVOIDS_RE.search(rec.message)
    if m is None:
        return None
    return [_fact(rec, "avoid_set", avoid_pods=parse_id_list(m.group(1)), avoid_clusters=parse_id_list(m.group(2)),
                  avoid_hosts=parse_id_list(m.group(3)))]


@extractor(*_NO_CAPACITY)
def planner_ran_out(rec: Record, ctx: ExtractContext):
    msg = rec.message
    event = next((e for text, e in _NO_CAPACITY_EVENTS.items() if text in msg), "no_capacity")
    return [_fact(rec, event, detail=msg[:300])]


@extractor("does not have enough capacity to deploy this VM", "Cannot choose the last host to deploy this VM",
           "to the last host [", "is in the avoid set. Skipping this")
def last_host(rec: Record, ctx: ExtractContext):
    msg = rec.message
    if "enough capacity" in msg:
        reason = "capacity"
    elif "avoid set" in msg:
        reason = "avoid_set"
    elif "not in UP state" in msg:
        reason = "host_state"
    elif "Cannot choose the last host" in msg:
        reason = "not_chosen"
    else:
        return None
    return [_fact(rec, "last_host_refused", detail=reason)]


@extractor("Returning Deployment Destination")
def destination(rec: Record, ctx: ExtractContext):
    return [_fact(rec, "destination", detail=rec.message[:300])]


@extractor("No suitable host found for the following compute offering tags", "No suitable host found for VM [",
           "due to tag mismatch", "Hosts with tag '")
def host_tags(rec: Record, ctx: ExtractContext):
    msg = rec.message
    if msg.startswith("Hosts with tag '"):
        if not msg.rstrip().endswith(":[]"):
            return None
    m = re.search(r"tags? \[([^\]]*)\]|tag '([^']*)'|with tags (\S+)", msg)
    tags = (m.group(1) or m.group(2) or m.group(3)) if m else None
    return [_fact(rec, "host_tag_mismatch", scope=tags, detail=msg[:300])]


@extractor("crosses the disable capacity threshold", "crosses disable threshold")
def threshold(rec: Record, ctx: ExtractContext):
    m = re.search(r"(cpu|memory) consumption ([\d.]+) crosses disable threshold ([\d.]+)", rec.message)
    detail = f"{m.group(1)} {m.group(2)} >= {m.group(3)}" if m else rec.message[:300]
    return [_fact(rec, "threshold", detail=detail)]


@extractor("to the avoid set because", "to avoid set, because", "Not using host ")
def host_rejected(rec: Record, ctx: ExtractContext):
    msg = rec.message
    m = _ADD_HOST_AVOID_RE.search(msg)
    if m is not None:
        host = find_host(m.group(1))
        reason = msg.split("because", 1)[-1].strip(" :.")[:200]
        return [_fact(rec, "host_avoided", host_id=host and host.id, host_name=host and host.name,
                      avoid_hosts=(host.id,) if host and host.id is not None else (), detail=reason)]
    if msg.startswith("Not using host "):
        return [_fact(rec, "host_rejected", detail=msg[:300])]
    return None


@extractor("Cannot deploy the VM to specified host", "affinity rules associated to the", "is not compatible for the VM")
def pinned_host(rec: Record, ctx: ExtractContext):
    """A VM pinned to a host (start with hostid, affinity rules, strict host tags) that the host cannot take."""
    msg = rec.text if "Exception" in rec.message else rec.message
    if "affinity rules associated to the" in msg:
        return [_fact(rec, "affinity_conflict", detail=msg[:300])]
    m = re.search(r"specified host (.+?), (requested CPU and speed is more than the host capability|host does not have enough free CPU or RAM)", msg)
    if m is None:
        m2 = re.search(r"destination host: (\S+) is not compatible", msg)
        return [_fact(rec, "pinned_host_refused", host_name=m2.group(1) if m2 else None, detail="host tags")] if m2 else None
    host = find_host(m.group(1))
    reason = "capability" if "capability" in m.group(2) else "capacity"
    return [_fact(rec, "pinned_host_refused", host_id=host and host.id, host_name=(host and host.name) or m.group(1).strip(),
                  detail=reason)]
