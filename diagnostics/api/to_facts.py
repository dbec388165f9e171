"""API answers -> facts. Pure functions: one CloudStack item (a dict as the API sent it) in, one fact out.

Field names on the left are CloudStack's (API reference / *Response.java @SerializedName); conversions
make units match the host and log facts (MiB -> bytes, "37.5%" -> 0.375).

>>> vm = vm_fact({"id": "5b0c9f1e-0000-4000-8000-000000000042", "name": "web01", "instancename": "i-2-42-VM",
...               "state": "Running", "hostname": "kvm01", "memory": 4096, "cpunumber": 2, "cpuspeed": 2000,
...               "isdynamicallyscalable": False}, Where("listVirtualMachines.json", 2, "...", None))
>>> vm.vm, vm.host_name, vm.memory, vm.is_dynamically_scalable
('i-2-42-VM', 'kvm01', 4294967296, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from diagnostics.model.api_facts import (
    ApiCapacity, ApiHost, ApiJob, ApiOffering, ApiResourceLimit, ApiSetting, ApiVm,
)

MIB = 1024 * 1024
CAPACITY_NAMES = {0: "MEMORY", 1: "CPU", 2: "STORAGE", 3: "STORAGE_ALLOCATED", 4: "VIRTUAL_NETWORK_PUBLIC_IP",
                  5: "PRIVATE_IP", 6: "SECONDARY_STORAGE", 7: "VLAN", 8: "DIRECT_ATTACHED_PUBLIC_IP",
                  9: "LOCAL_STORAGE"}
# Resource.ResourceType ordinals, for servers that send only `resourcetype`
RESOURCE_TYPES = ("user_vm", "public_ip", "volume", "snapshot", "template", "project", "network", "vpc", "cpu",
                  "memory", "primary_storage", "secondary_storage")
# resource type -> listAccounts field prefix and the unit CloudStack counts it in
ACCOUNT_FIELDS = {"user_vm": ("vm", "count"), "public_ip": ("ip", "count"), "volume": ("volume", "count"),
                  "snapshot": ("snapshot", "count"), "template": ("template", "count"),
                  "project": ("project", "count"), "network": ("network", "count"), "vpc": ("vpc", "count"),
                  "cpu": ("cpu", "cores"), "memory": ("memory", "MiB"),
                  "primary_storage": ("primarystorage", "GiB"), "secondary_storage": ("secondarystorage", "GiB")}
JOB_STATUS = {0: "pending", 1: "succeeded", 2: "failed"}


@dataclass(frozen=True, slots=True)
class Where:
    """Where an item sits in the snapshot and when the server answered."""

    path: str
    line: int
    text: str
    ts: datetime | None


def _base(where: Where) -> dict[str, Any]:
    return {"path": where.path, "line": where.line, "text": where.text[:500], "ts": where.ts}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def percent(value: Any) -> float | None:
    """ "37.5%" or "37.5" -> 0.375."""
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    number = as_float(value)
    return None if number is None else number / 100.0


def mib_to_bytes(value: Any) -> int | None:
    number = as_int(value)
    return None if number is None else number * MIB


def present(value: Any) -> Any:
    """None for what CloudStack sends in place of nothing: null, "", and the string "null" (String.valueOf(null)
    reaches JSON that way in some answers: `"hosttags": "null"` on 4.14, `"podid": "null"` in 3.0 listCapacity)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "null")):
        return None
    return value


def tags(value: Any) -> tuple[str, ...]:
    value = present(value)
    if not isinstance(value, str):
        return ()
    return tuple(t.strip() for t in value.split(",") if t.strip() and t.strip() != "null")


def api_time(value: Any) -> datetime | None:
    """CloudStack renders dates as 2025-03-10T14:02:11+0000."""
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def vm_fact(item: dict[str, Any], where: Where) -> ApiVm:
    instance = _text(item.get("instancename"))
    name = str(item.get("name") or "")
    return ApiVm(
        **_base(where), vm=instance or name or None, vm_uuid=_text(item.get("id")),
        host_name=_text(item.get("hostname")), name=name, display_name=_text(item.get("displayname")),
        instance_name=instance, state=str(item.get("state") or ""), host_uuid=_text(item.get("hostid")),
        zone_id=_text(item.get("zoneid")), zone_name=_text(item.get("zonename")),
        account=_text(item.get("account")), domain_id=_text(item.get("domainid")), domain=_text(item.get("domain")),
        hypervisor=_text(item.get("hypervisor")), offering_id=_text(item.get("serviceofferingid")),
        offering_name=_text(item.get("serviceofferingname")), cpu_number=as_int(item.get("cpunumber")),
        cpu_speed=as_int(item.get("cpuspeed")), memory=mib_to_bytes(item.get("memory")),
        is_dynamically_scalable=as_bool(item.get("isdynamicallyscalable")),
    )


def offering_fact(item: dict[str, Any], where: Where, role: str = "", vm: ApiVm | None = None) -> ApiOffering:
    return ApiOffering(
        **_base(where), vm=vm.vm if vm and role else None, vm_uuid=vm.vm_uuid if vm and role else None,
        offering_id=str(item.get("id") or ""), name=str(item.get("name") or ""), role=role,
        cpu_number=as_int(item.get("cpunumber")), cpu_speed=as_int(item.get("cpuspeed")),
        memory=mib_to_bytes(item.get("memory")), dynamic_scaling_enabled=as_bool(item.get("dynamicscalingenabled")),
        is_customized=as_bool(item.get("iscustomized")), limit_cpu_use=as_bool(item.get("limitcpuuse")),
        is_system=as_bool(item.get("issystem")), host_tags=tags(item.get("hosttags")),
        storage_tags=tags(item.get("storagetags") or item.get("tags")),
    )


# listHosts `type` values of hosts that are not hypervisors (Host.Type): storage and system-VM agents
NOT_HYPERVISOR_TYPES = {"SecondaryStorage", "SecondaryStorageVM", "SecondaryStorageCmdExecutor", "ConsoleProxy",
                        "Storage", "LocalSecondaryStorage", "ExternalDhcp", "ExternalFirewall",
                        "ExternalLoadBalancer", "TrafficMonitor", "PxeServer", "BaremetalPxe", "BaremetalDhcp",
                        "L2Networking", "NetScalerControlCenter"}


def is_hypervisor(item: dict[str, Any]) -> bool:
    """A listing without `type=Routing` (cmk pastes, 2.2 answers) also holds storage and system-VM hosts."""
    kind = present(item.get("type"))
    return kind is None or kind not in NOT_HYPERVISOR_TYPES


def memory_allocated_bytes(item: dict[str, Any]) -> int | None:
    """Bytes CloudStack counts as allocated, whatever the version's field says.

    4.15 and 4.16 send `memoryallocated` as a percentage string ("18.75%") and the bytes in
    `memoryallocatedbytes`; other versions send bytes in `memoryallocated` (and 4.14+ also the bytes field).
    """
    exact = as_int(present(item.get("memoryallocatedbytes")))
    if exact is not None:
        return exact
    value = present(item.get("memoryallocated"))
    if isinstance(value, str) and value.strip().endswith("%"):
        share = percent(value)
        total = as_int(present(item.get("memorywithoverprovisioning"))) or as_int(present(item.get("memorytotal")))
        return None if share is None or total is None else round(share * total)
    return as_int(value)


def host_fact(item: dict[str, Any], where: Where) -> ApiHost:
    # 2.2 had no resource states: `allocationstate` (Enabled/Disabled) played that part
    resource_state = present(item.get("resourcestate")) or present(item.get("allocationstate")) or ""
    return ApiHost(
        **_base(where), host_name=_text(item.get("name")), host_uuid=str(item.get("id") or ""),
        state=str(item.get("state") or ""), resource_state=str(resource_state),
        hypervisor=_text(item.get("hypervisor")), hypervisor_version=_text(item.get("hypervisorversion")),
        version=_text(item.get("version")), ip_address=_text(item.get("ipaddress")),
        zone_id=_text(item.get("zoneid")), cluster_id=_text(item.get("clusterid")),
        cluster_name=_text(item.get("clustername")), cpu_number=as_int(item.get("cpunumber")),
        cpu_speed=as_int(item.get("cpuspeed")), cpu_allocated=percent(item.get("cpuallocated")),
        cpu_used=percent(item.get("cpuused")), cpu_with_overprovisioning=as_float(item.get("cpuwithoverprovisioning")),
        memory_total=as_int(item.get("memorytotal")), memory_allocated=memory_allocated_bytes(item),
        memory_used=as_int(item.get("memoryused")),
        memory_with_overprovisioning=as_int(item.get("memorywithoverprovisioning")),
        host_tags=tags(item.get("hosttags")), last_pinged=api_time(item.get("lastpinged")),
    )


def capacity_fact(item: dict[str, Any], where: Where) -> ApiCapacity:
    kind = as_int(item.get("type"))
    pod_id, cluster_id = present(item.get("podid")), present(item.get("clusterid"))
    scope = "cluster" if cluster_id else "pod" if pod_id else "zone"
    return ApiCapacity(
        **_base(where), capacity_type=kind,
        capacity_name=str(item.get("name") or CAPACITY_NAMES.get(kind if kind is not None else -1, "")),
        scope=scope, zone_id=_text(present(item.get("zoneid"))), pod_id=_text(pod_id),
        cluster_id=_text(cluster_id), cluster_name=_text(present(item.get("clustername"))),
        used=as_int(item.get("capacityused")), allocated=as_int(item.get("capacityallocated")),
        total=as_int(item.get("capacitytotal")), percent_used=percent(item.get("percentused")),
    )


def setting_fact(item: dict[str, Any], where: Where, scope: str, scope_id: str | None) -> ApiSetting:
    value = _text(item.get("value"))
    return ApiSetting(**_base(where), name=str(item.get("name") or ""), value=value, scope=scope,
                      scope_id=scope_id, flag=as_bool(value), number=as_float(value))


def limit_fact(item: dict[str, Any], where: Where, account: dict[str, Any] | None) -> ApiResourceLimit:
    rtype = _text(item.get("resourcetypename"))
    if not rtype:
        ordinal = as_int(item.get("resourcetype"))
        rtype = RESOURCE_TYPES[ordinal] if ordinal is not None and 0 <= ordinal < len(RESOURCE_TYPES) else "unknown"
    prefix, unit = ACCOUNT_FIELDS.get(rtype, ("", "count"))
    limit = as_int(item.get("max"))
    used = as_int(account.get(f"{prefix}total")) if account and prefix else None
    available = as_int(account.get(f"{prefix}available")) if account and prefix else None
    if available is None and limit is not None and limit >= 0 and used is not None:
        available = limit - used
    owner_kind = "project" if item.get("project") else "account" if item.get("account") else "domain"
    return ApiResourceLimit(
        **_base(where), resource_type=rtype, owner_kind=owner_kind,
        owner=str(item.get("project") or item.get("account") or item.get("domain") or ""),
        domain_id=_text(item.get("domainid")), domain=_text(item.get("domain")),
        limit=limit, used=used, available=available if (limit is None or limit >= 0) else None, unit=unit,
    )


def job_fact(item: dict[str, Any], where: Where) -> ApiJob:
    result = item.get("jobresult") if isinstance(item.get("jobresult"), dict) else {}
    created, completed = api_time(item.get("created")), api_time(item.get("completed"))
    status_code = as_int(item.get("jobstatus"))
    base = _base(where)
    base["ts"] = completed or created or where.ts
    instance_type = _text(item.get("jobinstancetype"))
    return ApiJob(
        **base, vm_uuid=_text(item.get("jobinstanceid")) if instance_type == "VirtualMachine" else None,
        job_uuid=str(item.get("jobid") or ""), command=_text(item.get("cmd")),
        status=JOB_STATUS.get(status_code if status_code is not None else -1, "unknown"),
        result_code=as_int(item.get("jobresultcode")), error_text=_text(result.get("errortext")),
        instance_type=instance_type, created=created, completed=completed,
    )
