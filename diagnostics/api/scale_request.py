"""Pre-join the facts of one snapshot into the offering change it was taken for (`api_scale_request`).

The checks mirror the order UserVmManagerImpl applies to a running VM: scale-up only, dynamic-scaling flags,
account limits on the difference, zone `enable.dynamic.scale.vm`, the VM's own flag, and host tags of the
new offering. Computing them here keeps each rule one readable condition.
"""

from __future__ import annotations

from typing import Iterable

from diagnostics.model import Fact
from diagnostics.model.api_facts import ApiHost, ApiOffering, ApiResourceLimit, ApiScaleRequest, ApiSetting, ApiVm

MIB = 1024 * 1024


def _delta(new: int | None, old: int | None) -> int | None:
    return None if new is None or old is None else new - old


def is_downgrade(current: ApiOffering, requested: ApiOffering) -> bool | None:
    """CloudStack refuses a live change unless something grows and nothing shrinks (sic "scalling up")."""
    pairs = [(requested.cpu_number, current.cpu_number), (requested.cpu_speed, current.cpu_speed),
             (requested.memory, current.memory)]
    if any(new is None or old is None for new, old in pairs):
        return None
    return any(new < old for new, old in pairs) or all(new == old for new, old in pairs)


def _setting(settings: list[ApiSetting], name: str, zone_id: str | None) -> bool | None:
    # a zone value read without knowing its zone (answers pasted as text) still counts for the VM's zone
    scoped = [s for s in settings if s.name == name and s.scope == "zone" and s.scope_id in (zone_id, None)]
    chosen = scoped or [s for s in settings if s.name == name and s.scope == "global"]
    return chosen[0].flag if chosen else None


def _matching_hosts(hosts: list[ApiHost], wanted: tuple[str, ...], vm: ApiVm) -> int | None:
    """Usable hosts carrying every wanted tag; None when there is nothing to count (no hosts, or no tags wanted:
    an offering without host tags fits any host, so a count of 0 could only come from unreadable host states)."""
    if not hosts or not wanted:
        return None
    count = 0
    for host in hosts:
        if host.state != "Up" or host.resource_state not in ("Enabled", ""):
            continue
        if vm.zone_id and host.zone_id and host.zone_id != vm.zone_id:
            continue
        if vm.hypervisor and host.hypervisor and host.hypervisor != vm.hypervisor:
            continue
        if set(wanted) <= set(host.host_tags):
            count += 1
    return count


def _headroom(limits: list[ApiResourceLimit], rtype: str, vm: ApiVm) -> int | None:
    for limit in limits:
        if limit.resource_type == rtype and limit.owner == (vm.account or "") and limit.limit is not None:
            if limit.limit < 0:
                return None
            if limit.available is not None:
                return limit.available
            if limit.used is not None:
                return limit.limit - limit.used
    return None


def derive_scale_request(facts: Iterable[Fact]) -> ApiScaleRequest | None:
    """The scale request of the snapshot's VM, or None when the snapshot names no VM or no offering."""
    facts = list(facts)
    vms = [f for f in facts if isinstance(f, ApiVm)]
    if len(vms) != 1:
        return None
    vm = vms[0]
    offerings = [f for f in facts if isinstance(f, ApiOffering)]
    current = next((o for o in offerings if o.role == "current"), None)
    requested = next((o for o in offerings if o.role == "requested"), None)
    settings = [f for f in facts if isinstance(f, ApiSetting)]
    hosts = [f for f in facts if isinstance(f, ApiHost)]
    limits = [f for f in facts if isinstance(f, ApiResourceLimit)]

    cpu_delta = speed_delta = memory_delta = None
    downgrade = None
    if current and requested:
        cpu_delta = _delta(requested.cpu_number, current.cpu_number)
        speed_delta = _delta(requested.cpu_speed, current.cpu_speed)
        memory_delta = _delta(requested.memory, current.memory)
        downgrade = is_downgrade(current, requested)
    memory_room = _headroom(limits, "memory", vm)
    cpu_room = _headroom(limits, "cpu", vm)
    wanted = requested.host_tags if requested else ()
    return ApiScaleRequest(
        ts=vm.ts, path=(requested or vm).path, line=(requested or vm).line, text=(requested or vm).text,
        host_name=vm.host_name, vm=vm.vm, vm_uuid=vm.vm_uuid, vm_state=vm.state,
        current_offering=current.name if current else vm.offering_name,
        requested_offering=requested.name if requested else None,
        is_dynamically_scalable=vm.is_dynamically_scalable,
        dynamic_scale_setting=_setting(settings, "enable.dynamic.scale.vm", vm.zone_id),
        current_dynamic_scaling=current.dynamic_scaling_enabled if current else None,
        requested_dynamic_scaling=requested.dynamic_scaling_enabled if requested else None,
        cpu_delta=cpu_delta, speed_delta=speed_delta, memory_delta=memory_delta, is_downgrade=downgrade,
        requested_host_tags=wanted, hosts_matching_tags=_matching_hosts(hosts, wanted, vm) if requested else None,
        memory_headroom=memory_room, cpu_headroom=cpu_room,
        exceeds_memory_limit=bool(memory_delta and memory_delta > 0 and memory_room is not None
                                  and memory_delta // MIB > memory_room),
        exceeds_cpu_limit=bool(cpu_delta and cpu_delta > 0 and cpu_room is not None and cpu_delta > cpu_room),
    )
