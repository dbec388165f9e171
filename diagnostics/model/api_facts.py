"""Fact kinds read from a CloudStack API snapshot (`csdiag api-snapshot`): what the management server believes.

Units follow the rest of the model so one rule can compare API and host facts: sizes in bytes, CPU in MHz,
percentages as fractions (CloudStack's "37.5%" becomes 0.375, which the rule language writes `37.5%`).
Resource limits keep CloudStack's own units (memory MiB, cpu cores), as the log fact `resource_limit` does.

Entity keys: `vm` is the instance name (`i-2-42-VM`, as in logs and `virsh list`), `vm_uuid` the VM's API id,
`host_name` the host's name. The API never shows numeric database ids, so `host_id` stays None; joins with
log facts go through `host_name`/`vm`/`vm_uuid`. `ts` is the moment the call was answered, except for jobs
(their creation or completion time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from diagnostics.model import Fact


@dataclass(slots=True, kw_only=True)
class ApiVm(Fact):
    """One listVirtualMachines entry: state, placement, current offering and whether it can be scaled live."""

    kind = "api_vm"
    name: str = ""
    display_name: str | None = None
    instance_name: str | None = None
    state: str = ""  # Running | Stopped | Starting | Migrating | Error | ...
    host_uuid: str | None = None
    zone_id: str | None = None
    zone_name: str | None = None
    account: str | None = None
    domain_id: str | None = None
    domain: str | None = None
    hypervisor: str | None = None
    offering_id: str | None = None
    offering_name: str | None = None
    cpu_number: int | None = None
    cpu_speed: int | None = None  # MHz per core
    memory: int | None = None  # bytes
    is_dynamically_scalable: bool | None = None


@dataclass(slots=True, kw_only=True)
class ApiOffering(Fact):
    """One listServiceOfferings entry. `role` marks the VM's `current` offering and the `requested` one."""

    kind = "api_offering"
    offering_id: str = ""
    name: str = ""
    role: str = ""  # current | requested | "" (any other offering)
    cpu_number: int | None = None  # None for custom (customized) offerings
    cpu_speed: int | None = None
    memory: int | None = None  # bytes
    dynamic_scaling_enabled: bool | None = None  # 4.16+; None when the server does not say
    is_customized: bool | None = None
    limit_cpu_use: bool | None = None
    is_system: bool | None = None
    host_tags: tuple[str, ...] = ()
    storage_tags: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class ApiHost(Fact):
    """One listHosts (type Routing) entry: CloudStack's capacity view of a hypervisor host."""

    kind = "api_host"
    host_uuid: str = ""
    state: str = ""  # Up | Down | Disconnected | Alert | Connecting | ...
    resource_state: str = ""  # Enabled | Disabled | Maintenance | PrepareForMaintenance | ErrorInMaintenance
    hypervisor: str | None = None
    hypervisor_version: str | None = None
    version: str | None = None  # CloudStack agent version
    ip_address: str | None = None
    zone_id: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    cpu_number: int | None = None
    cpu_speed: int | None = None
    cpu_allocated: float | None = None  # fraction of cpu_with_overprovisioning
    cpu_used: float | None = None  # fraction
    cpu_with_overprovisioning: float | None = None  # MHz
    memory_total: int | None = None  # bytes (deprecated field, still sent)
    memory_allocated: int | None = None  # bytes CloudStack counts as taken by VMs
    memory_used: int | None = None  # bytes the agent last reported in use
    memory_with_overprovisioning: int | None = None  # bytes
    host_tags: tuple[str, ...] = ()
    last_pinged: datetime | None = None
    # what CloudStack places on the host (listVirtualMachines, all accounts); None when not collected
    running_vms: int | None = None  # VMs in state Running or Starting/Migrating/Stopping with this hostid
    running_vm_memory: int | None = None  # bytes: their offering memory summed
    running_vm_names: tuple[str, ...] = ()  # instance names, to compare with `virsh list` on the host


@dataclass(slots=True, kw_only=True)
class ApiCapacity(Fact):
    """One listCapacity record (zone, pod or cluster level): CloudStack's op_host_capacity roll-up."""

    kind = "api_capacity"
    capacity_type: int | None = None  # 0 memory, 1 cpu, 2 storage, ... (Capacity.CAPACITY_TYPE_*)
    capacity_name: str = ""  # MEMORY | CPU | STORAGE | ... (from the type when the server omits it)
    scope: str = ""  # zone | pod | cluster
    zone_id: str | None = None
    pod_id: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    used: int | None = None
    allocated: int | None = None
    total: int | None = None
    percent_used: float | None = None  # fraction


@dataclass(slots=True, kw_only=True)
class ApiSetting(Fact):
    """One listConfigurations value at the scope it was asked for (global, zone, cluster, account)."""

    kind = "api_setting"
    name: str = ""
    value: str | None = None
    scope: str = "global"
    scope_id: str | None = None
    flag: bool | None = None  # value read as a boolean ("true"/"false"), else None
    number: float | None = None  # value read as a number, else None


@dataclass(slots=True, kw_only=True)
class ApiResourceLimit(Fact):
    """An account's limit for one resource type with its current use (listResourceLimits + listAccounts).

    `limit` is -1 when unlimited. Units as CloudStack keeps them: memory MiB, cpu cores, others counts.
    """

    kind = "api_limit"
    resource_type: str = ""  # memory | cpu | user_vm | volume | primary_storage | ...
    owner_kind: str = "account"  # account | domain | project
    owner: str = ""
    domain_id: str | None = None
    domain: str | None = None
    limit: int | None = None
    used: int | None = None
    available: int | None = None  # None when unlimited or unknown
    unit: str = ""  # MiB | cores | count | GiB


@dataclass(slots=True, kw_only=True)
class ApiJob(Fact):
    """An async job of the VM (listAsyncJobs / queryAsyncJobResult) with its outcome."""

    kind = "api_job"
    job_uuid: str = ""
    command: str | None = None  # org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin
    status: str = ""  # pending | succeeded | failed
    result_code: int | None = None
    error_text: str | None = None
    instance_type: str | None = None
    created: datetime | None = None
    completed: datetime | None = None


@dataclass(slots=True, kw_only=True)
class ApiScaleRequest(Fact):
    """The offering change the snapshot was taken for, pre-joined so a rule reads one fact.

    Built from api_vm, its current and requested api_offering, api_setting `enable.dynamic.scale.vm`
    (zone value first), api_host and api_limit. Deltas are requested minus current; None when unknown
    (custom offerings). `hosts_matching_tags` counts Up+Enabled routing hosts carrying every host tag of
    the requested offering (None when no host was listed).
    """

    kind = "api_scale_request"
    vm_state: str = ""
    current_offering: str | None = None
    requested_offering: str | None = None
    is_dynamically_scalable: bool | None = None
    dynamic_scale_setting: bool | None = None
    current_dynamic_scaling: bool | None = None
    requested_dynamic_scaling: bool | None = None
    cpu_delta: int | None = None
    speed_delta: int | None = None
    memory_delta: int | None = None  # bytes
    is_downgrade: bool | None = None  # some value lower, or none higher (CloudStack refuses that live)
    requested_host_tags: tuple[str, ...] = ()
    hosts_matching_tags: int | None = None
    memory_headroom: int | None = None  # MiB left under the account limit (None when unlimited)
    cpu_headroom: int | None = None  # cores left under the account limit (None when unlimited)
    exceeds_memory_limit: bool = False
    exceeds_cpu_limit: bool = False
