"""Fact kinds extracted from management-server.log and agent.log records.

Sizes are bytes, CPU is MHz as CloudStack logs it (cores x speed x overcommit), times are aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.model import Fact


@dataclass(slots=True, kw_only=True)
class CapacityCheck(Fact):
    """One `Checking if host: ... has enough capacity` block of CapacityManagerImpl, with its outcome."""

    kind = "capacity_check"
    requested_cpu: int | None = None
    requested_ram: int | None = None
    cpu_overprovisioning: float | None = None
    from_reserved: bool = False
    free_cpu: int | None = None
    free_ram: int | None = None
    used_cpu: int | None = None
    used_ram: int | None = None
    reserved_cpu: int | None = None
    reserved_ram: int | None = None
    total_cpu: int | None = None
    total_ram: int | None = None
    actual_total_cpu: int | None = None
    actual_total_ram: int | None = None
    outcome: str = "unknown"  # ok | insufficient_ram | insufficient_cpu | insufficient_reserved_ram | insufficient_reserved_cpu | no_capacity_entry | unknown
    reason: str | None = None


@dataclass(slots=True, kw_only=True)
class CapacityChange(Fact):
    """`release mem from host`, `RAM STATS after allocation`, `Calibrate used memory` and their CPU twins."""

    kind = "capacity_change"
    op: str = ""  # allocate | release | calibrate
    resource: str = ""  # cpu | memory
    old_used: int | None = None
    new_used: int | None = None
    old_reserved: int | None = None
    new_reserved: int | None = None
    total: int | None = None
    requested: int | None = None


@dataclass(slots=True, kw_only=True)
class PlannerDecision(Fact):
    """Deployment planner outcomes: avoid sets, "no suitable host", last-host refusals, destination found."""

    kind = "planner"
    event: str = ""  # avoid_set | no_capacity | no_suitable_host | last_host_refused | destination | host_tag_mismatch | threshold
    avoid_pods: tuple[int, ...] = ()
    avoid_clusters: tuple[int, ...] = ()
    avoid_hosts: tuple[int, ...] = ()
    scope: str | None = None
    detail: str | None = None


@dataclass(slots=True, kw_only=True)
class InsufficientCapacity(Fact):
    """The InsufficientCapacityException family: subclass, scope and the VM it was about."""

    kind = "insufficient_capacity"
    exception: str = ""  # InsufficientServerCapacityException, ...
    resource: str = ""  # compute | storage | network | address
    scope: str = ""  # zone | pod | cluster | host | storage_pool | network | unknown
    scope_id: int | None = None
    message: str = ""


@dataclass(slots=True, kw_only=True)
class VmStateTransition(Fact):
    kind = "vm_state"
    from_state: str = ""
    to_state: str = ""
    event: str = ""
    last_host_id: int | None = None
    new_host_id: int | None = None
    old_host_id: int | None = None


@dataclass(slots=True, kw_only=True)
class AsyncJob(Fact):
    """An async job event: submitted, executing, completed (with status, result code and text)."""

    kind = "async_job"
    phase: str = ""  # submit | execute | complete | work_run | work_done | work_failed
    job_id: int | None = None  # the job this line is about (may be the work job of the NDC)
    command: str | None = None
    status: str | None = None
    result_code: int | None = None
    result: str | None = None
    instance_type: str | None = None
    instance_id: int | None = None


@dataclass(slots=True, kw_only=True)
class ApiCall(Fact):
    """An API request as ApiServlet logs it (`===START===`/`===END===`) or the access log records it."""

    kind = "api_call"
    command: str = ""
    params: str = ""
    client: str | None = None
    phase: str = ""  # start | end | access
    http_status: int | None = None
    offering: str | None = None


@dataclass(slots=True, kw_only=True)
class AgentCommand(Fact):
    """A `Seq <host>-<n>:` command trace, on either side of the link."""

    kind = "agent_command"
    seq: str = ""
    action: str = ""  # sending | received | processing | executing | request | response | timed_out | cancelled | unable_to_send
    commands: tuple[str, ...] = ()
    result: bool | None = None
    details: str | None = None


@dataclass(slots=True, kw_only=True)
class AgentEvent(Fact):
    """Agent link life: ping timeouts, disconnects, reconnects, TLS handshakes, connect failures."""

    kind = "agent_event"
    event: str = ""  # behind_on_ping | ping_timeout | disconnecting | investigating | disconnected_host_up | alert | lost_connection | connecting | connect_failed | connected | reconnecting | tls_handshake_done | tls_error | ready | startup_cancelled | host_lock | ping
    side: str = ""  # management | agent
    host_ids: tuple[int, ...] = ()
    peer: str | None = None
    reason: str | None = None


@dataclass(slots=True, kw_only=True)
class LibvirtError(Fact):
    """A libvirt/qemu failure as the agent (or the management server relaying it) reports it."""

    kind = "libvirt_error"
    operation: str = ""  # start | scale | stop | migrate | other
    message: str = ""
    error_class: str = ""  # internal_error | invalid_argument | unsupported_configuration | operation_invalid | operation_failed | xml_error | system | other
    signature: str = ""  # what the text means: memory_above_max | max_memory_exceeded | hugepages | guest_memory_alloc | memlock | cgroup_memory_limit | cpu_shares_range | max_vcpus | numa | memory_slots | not_prepared | monitor_exit | balloon_free_memory | other
    domain: str | None = None
    reported_by: str = ""  # agent | management


@dataclass(slots=True, kw_only=True)
class ResourceLimit(Fact):
    """`Maximum amount of resources of Type = ...` (account) or domain limits exceeded, or the checking line."""

    kind = "resource_limit"
    resource_type: str = ""
    owner_kind: str = ""  # account | project | domain
    owner: str = ""
    domain_id: str | None = None
    limit: int | None = None
    current: int | None = None
    reservation: int | None = None
    requested: int | None = None
    exceeded: bool = False


@dataclass(slots=True, kw_only=True)
class ScaleError(Fact):
    """Why a scale/upgrade was refused or failed, as a short reason code plus the original text."""

    kind = "scale_error"
    reason: str = ""  # dynamic_scaling_disabled | not_dynamically_scalable | scale_down_running | same_offering | fixed_offering | not_stopped | host_tags | insufficient_resources | hypervisor_unsupported | no_server | scale_failed | offering_limit | vgpu | other
    message: str = ""
    new_memory: int | None = None
    new_cpu: int | None = None
    new_speed: int | None = None
    current_memory: int | None = None
    current_cpu: int | None = None
    current_speed: int | None = None


@dataclass(slots=True, kw_only=True)
class HostIdentity(Fact):
    """A log line naming both a CloudStack host id and its name (`Ping from Routing host 3(kvm03)`)."""

    kind = "host_identity"
    host_uuid: str | None = None


@dataclass(slots=True, kw_only=True)
class Alert(Fact):
    """`alertType=[...] ... message=[...]` and CapacityChecker low-capacity alerts."""

    kind = "alert"
    alert_type: str = ""
    message: str = ""
    percent: float | None = None


@dataclass(slots=True, kw_only=True)
class StartFailure(Fact):
    """Placement worked but the host failed to start the VM (`Unable to start VM on <host> due to <details>`)."""

    kind = "start_failure"
    event: str = ""  # host_failed | gave_up | finalize_failed
    details: str = ""


@dataclass(slots=True, kw_only=True)
class NicChange(Fact):
    """A VM's NIC (same device id) came back with another MAC address on a later start command."""

    kind = "nic_change"
    mac: str = ""
    previous_mac: str = ""
    device_id: int | None = None
    ip: str | None = None
    network_id: int | None = None


@dataclass(slots=True, kw_only=True)
class LogRecord(Fact):
    """Any log record a rule may look at, whatever its message: the generic fact behind "never silent".

    Built lazily by the record stream, only for records that a rule's literal text or a catalogue template can
    match, and for every ERROR/WARN record or record carrying an exception. `text` is the whole record (trace
    included), `message` its first line; `exceptions` lists exception class names outermost first, `Caused by:`
    included; `template` is the catalogue id (diagnostics.catalogue) or None; `origin` is a collector's host or
    server token written before the timestamp, if any.
    """

    kind = "log_record"
    level: str | None = None  # DEBUG | INFO | WARN | ERROR | FATAL
    logger: str | None = None
    thread: str | None = None
    side: str | None = None  # management | agent | systemvm
    message: str = ""
    exceptions: tuple[str, ...] = ()
    template: str | None = None
    category: str | None = None  # the catalogue template's or the exception taxonomy's category
    relevance: str | None = None  # failure | benign | context (catalogue), None when no template matched
    origin: str | None = None
    loud: bool = False  # WARN/ERROR/FATAL, or carries an exception: what "never silent" must account for
    signature: str = ""  # the catalogue id, else the message's masked shape (diagnostics.logs.masking): the grouping key
    area: str | None = None  # the logger's part of CloudStack (diagnostics/logs/areas.toml)
    command: str | None = None  # the agent command the record was written for: VmwareResource's NDC `cmd: MigrateVolumeCommand`
