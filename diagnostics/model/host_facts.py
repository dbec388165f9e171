"""Fact kinds read from hypervisor host evidence: free, /proc/meminfo, dmesg, sensors, lscpu, numactl, virsh, uptime.

Sizes are bytes, temperatures degrees Celsius, frequencies MHz, durations seconds, so that a rule can say
`host_memory.available < 4GiB` or `sensor.temp_c >= 90` without knowing which command printed the number.
`source_cmd` names the command form the numbers came from, because `free -h` values are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.model import Fact


@dataclass(slots=True, kw_only=True)
class HostMemory(Fact):
    """Memory of the whole host from `free` or `/proc/meminfo`. `available` is the real free-memory signal."""

    kind = "host_memory"
    total: int | None = None
    used: int | None = None
    free: int | None = None
    shared: int | None = None
    buff_cache: int | None = None
    buffers: int | None = None
    cached: int | None = None
    available: int | None = None
    available_estimated: bool = False  # old procps: taken from the "-/+ buffers/cache" free column
    swap_total: int | None = None
    swap_used: int | None = None
    swap_free: int | None = None
    hugepages_total: int | None = None
    hugepages_free: int | None = None
    hugepage_size: int | None = None
    commit_limit: int | None = None
    committed: int | None = None
    rounded: bool = False  # `free -h`/`-g`: values carry at most 2-3 significant digits
    source_cmd: str = ""  # "free -m", "free -h", "/proc/meminfo", ...


@dataclass(slots=True, kw_only=True)
class KernelEvent(Fact):
    """One meaningful kernel message (or OOM block) from dmesg/journal.

    `boot` counts boots inside the file (0 = first one seen); `uptime_s` is the monotonic dmesg stamp when
    the file has one; `ts` is set for `dmesg -T` (host local time, naive) and `--time-format iso` (aware).
    """

    kind = "kernel_event"
    event: str = ""  # oom_kill | thermal_throttle | thermal_normal | memory_online | memory_offline | balloon | nic_link_down | nic_link_up | nic_reset | nic_tx_timeout | hung_task | mce
    process: str | None = None
    pid: int | None = None
    boot: int = 0
    uptime_s: float | None = None
    count: int | None = None  # thermal "total events", pages onlined
    device: str | None = None  # CPU3, eth2, virtio3, memory block
    driver: str | None = None  # ixgbe, i40e, virtio_balloon, ...
    detail: str | None = None
    # OOM specifics
    scope: str | None = None  # global | memcg
    invoker: str | None = None
    memcg: str | None = None
    total_vm: int | None = None
    anon_rss: int | None = None
    oom_score: int | None = None
    # thermal specifics
    zone: str | None = None  # core | package
    cpu: int | None = None
    # hung task
    blocked_s: int | None = None


@dataclass(slots=True, kw_only=True)
class SensorReading(Fact):
    """One temperature from `sensors`/`sensors -j`. above_high/above_crit are False when the chip gives no limit."""

    kind = "sensor"
    chip: str = ""
    adapter: str | None = None
    label: str = ""
    temp_c: float | None = None
    high_c: float | None = None
    crit_c: float | None = None
    above_high: bool = False
    above_crit: bool = False


@dataclass(slots=True, kw_only=True)
class CpuTopology(Fact):
    """CPU layout from `lscpu`. mhz is the current/nominal clock, max_mhz the turbo ceiling when printed."""

    kind = "cpu_topology"
    architecture: str | None = None
    vendor: str | None = None
    model: str | None = None
    cpus: int | None = None
    online_cpus: str | None = None
    sockets: int | None = None
    cores_per_socket: int | None = None
    threads_per_core: int | None = None
    mhz: float | None = None
    max_mhz: float | None = None
    numa_nodes: int | None = None
    hypervisor_vendor: str | None = None  # set when the "host" is itself a VM (nested)
    virtualization: str | None = None  # VT-x | AMD-V | full (guest)
    hw_virtualization: bool | None = None  # vmx/svm in the flags: KVM can run here


@dataclass(slots=True, kw_only=True)
class NumaNode(Fact):
    """One node of `numactl --hardware`. A VM larger than one node's free memory cannot stay node-local."""

    kind = "numa_node"
    node: int = 0
    cpus: tuple[int, ...] = ()
    size: int | None = None
    free: int | None = None
    distances: tuple[int, ...] = ()


@dataclass(slots=True, kw_only=True)
class HypervisorNode(Fact):
    """`virsh nodeinfo`: what libvirt believes the host has (memory in bytes)."""

    kind = "virsh_nodeinfo"
    cpu_model: str | None = None
    cpus: int | None = None
    mhz: int | None = None
    sockets: int | None = None
    cores_per_socket: int | None = None
    threads_per_core: int | None = None
    numa_cells: int | None = None
    memory: int | None = None


@dataclass(slots=True, kw_only=True)
class DomainInfo(Fact):
    """`virsh dominfo <vm>`: one libvirt domain; `vm` holds its name (i-2-42-VM), `vm_uuid` its UUID."""

    kind = "virsh_domain"
    domain_id: int | None = None
    name: str = ""
    state: str = ""
    os_type: str | None = None
    cpus: int | None = None
    cpu_time_s: float | None = None
    max_memory: int | None = None
    used_memory: int | None = None
    persistent: bool | None = None
    autostart: bool | None = None
    managed_save: bool | None = None


@dataclass(slots=True, kw_only=True)
class DomainListing(Fact):
    """One row of `virsh list --all`: the domain libvirt knows on this host and its state."""

    kind = "virsh_list"
    domain_id: int | None = None
    name: str = ""
    state: str = ""  # running | paused | shut off | crashed | in shutdown | pmsuspended | idle | blocked | ...


@dataclass(slots=True, kw_only=True)
class HostUptime(Fact):
    """`uptime` or `/proc/uptime`: how long the host has run and its load; a short uptime means a recent reboot."""

    kind = "host_uptime"
    uptime_s: float | None = None
    users: int | None = None
    load1: float | None = None
    load5: float | None = None
    load15: float | None = None
    clock: str | None = None  # the wall clock `uptime` printed (HH:MM:SS, host local time)


@dataclass(slots=True, kw_only=True)
class KsmState(Fact):
    """KSM counters: `saved` is the memory KSM currently saves (pages_sharing x 4 KiB), lost if merging stops."""

    kind = "ksm"
    running: bool | None = None
    pages_shared: int | None = None
    pages_sharing: int | None = None
    pages_unshared: int | None = None
    pages_volatile: int | None = None
    full_scans: int | None = None
    pages_to_scan: int | None = None
    sleep_ms: int | None = None
    merge_across_nodes: bool | None = None
    saved: int | None = None
