"""`lscpu` (util-linux 2.23 flat layout to 2.38+ indented layout) -> a CpuTopology fact.

    >>> topo = parse_lscpu('''CPU(s):              56
    ... Thread(s) per core:  2
    ... Core(s) per socket:  14
    ... Socket(s):           2''')
    >>> (topo.cpus, topo.sockets, topo.cores_per_socket, topo.threads_per_core)
    (56, 2, 14, 2)

Newer util-linux indents `Model name:` under `Vendor ID:` and drops `CPU MHz:` for `CPU(s) scaling MHz:`;
keys are matched after stripping, so both layouts read the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.host.keyvalue import Pair, as_float, as_int, parse_pairs
from diagnostics.model.host_facts import CpuTopology


@dataclass(slots=True)
class Lscpu:
    pairs: dict[str, Pair]
    architecture: str | None
    vendor: str | None
    model: str | None
    cpus: int | None
    online_cpus: str | None
    sockets: int | None
    cores_per_socket: int | None
    threads_per_core: int | None
    mhz: float | None
    max_mhz: float | None
    numa_nodes: int | None
    hypervisor_vendor: str | None
    virtualization: str | None
    flags: frozenset[str]


def parse_lscpu(text: str) -> Lscpu:
    p = parse_pairs(text)

    def value(key: str) -> str | None:
        return p[key].value if key in p and p[key].value else None

    flags = frozenset((value("Flags") or "").split())
    return Lscpu(
        pairs=p,
        architecture=value("Architecture"),
        vendor=value("Vendor ID"),
        model=value("Model name"),
        cpus=as_int(p.get("CPU(s)")),
        online_cpus=value("On-line CPU(s) list"),
        sockets=as_int(p.get("Socket(s)")),
        cores_per_socket=as_int(p.get("Core(s) per socket")) or as_int(p.get("Core(s) per cluster")),
        threads_per_core=as_int(p.get("Thread(s) per core")),
        mhz=as_float(p.get("CPU MHz")),
        max_mhz=as_float(p.get("CPU max MHz")),
        numa_nodes=as_int(p.get("NUMA node(s)")),
        hypervisor_vendor=value("Hypervisor vendor"),
        virtualization=value("Virtualization") or value("Virtualization type"),
        flags=flags,
    )


def lscpu_facts(cpu: Lscpu, *, path: str = "<text>", host: str | None = None) -> list[CpuTopology]:
    anchor = cpu.pairs.get("CPU(s)") or cpu.pairs.get("Architecture")
    if anchor is None:
        return []
    return [
        CpuTopology(
            path=path,
            line=anchor.line,
            text=anchor.text,
            host_name=host,
            architecture=cpu.architecture,
            vendor=cpu.vendor,
            model=cpu.model,
            cpus=cpu.cpus,
            online_cpus=cpu.online_cpus,
            sockets=cpu.sockets,
            cores_per_socket=cpu.cores_per_socket,
            threads_per_core=cpu.threads_per_core,
            mhz=cpu.mhz,
            max_mhz=cpu.max_mhz,
            numa_nodes=cpu.numa_nodes,
            hypervisor_vendor=cpu.hypervisor_vendor,
            virtualization=cpu.virtualization,
            hw_virtualization=bool(cpu.flags & {"vmx", "svm"}) if cpu.flags else None,
        )
    ]
