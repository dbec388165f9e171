"""The InsufficientCapacityException family (§2) -> insufficient_capacity facts.

Canonical rendering: `com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for
VM instance {...}Scope=interface com.cloud.dc.DataCenter; id=1` (no separator before `Scope=`). It appears in header
messages (StartVMCmd logs `ex.toString()`) and on the first line of stack traces.
"""

from __future__ import annotations

import re

from diagnostics.facts.entities import find_host, find_vm
from diagnostics.catalogue import vocabulary
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import InsufficientCapacity

ICE_RE = re.compile(
    r"(?:com\.cloud\.exception\.)?(?P<cls>Insufficient\w*CapacityException): (?P<msg>.*?)"
    r"(?:Scope=(?:interface |class )?(?P<scope>[\w.$]+); id=(?P<id>-?\d+|null)|$)"
)
# exception class -> resource, scope class -> scope: catalogue/vocabulary.toml
_RESOURCE = {p.text: p.event for p in vocabulary("capacity_resource")}
_SCOPE = {p.text: p.event for p in vocabulary("capacity_scope")}


@extractor("CapacityException", in_trace=True)
def insufficient_capacity(rec: Record, ctx: ExtractContext):
    out = []
    seen = set()
    for text in (rec.message, *rec.extra[:60]):
        if "CapacityException" not in text:
            continue
        m = ICE_RE.search(text)
        if m is None:
            continue
        cls = m.group("cls")
        message = m.group("msg").strip()
        key = (cls, message[:120])
        if key in seen:
            continue
        seen.add(key)
        scope_cls = (m.group("scope") or "").rsplit(".", 1)[-1]
        scope_id = m.group("id")
        vm = find_vm(message) or find_vm(rec.message)
        host = find_host(message)
        out.append(InsufficientCapacity(
            **base(rec, vm=vm and vm.name, vm_uuid=vm and vm.uuid, host_id=host and host.id, host_name=host and host.name),
            exception=cls,
            resource=_RESOURCE.get(cls, "compute"),
            scope=_SCOPE.get(scope_cls, "unknown" if not scope_cls else scope_cls.lower()),
            scope_id=int(scope_id) if scope_id and scope_id not in ("null",) else None,
            message=message[:500],
        ))
    return out
