"""`virsh nodeinfo` -> a HypervisorNode fact: what libvirt (and so the CloudStack agent) sees of the host.

    >>> node = parse_nodeinfo('''CPU model:           x86_64
    ... CPU(s):              56
    ... CPU frequency:       2400 MHz
    ... Memory size:         263857820 KiB''')
    >>> (node.cpus, node.mhz, node.memory == 263857820 * 1024)
    (56, 2400, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.host.keyvalue import Pair, as_int, parse_pairs
from diagnostics.host.sizes import to_bytes
from diagnostics.model.host_facts import HypervisorNode


@dataclass(slots=True)
class NodeInfo:
    pairs: dict[str, Pair]
    cpu_model: str | None
    cpus: int | None
    mhz: int | None
    sockets: int | None
    cores_per_socket: int | None
    threads_per_core: int | None
    numa_cells: int | None
    memory: int | None


def memory_value(pair: Pair | None) -> int | None:
    """`"263857820 KiB"` -> bytes (virsh prints KiB)."""
    if pair is None:
        return None
    parts = pair.value.split()
    if not parts or not parts[0].isdigit():
        return None
    try:
        return to_bytes(parts[0], parts[1] if len(parts) > 1 else "KiB")
    except ValueError:
        return None


def parse_nodeinfo(text: str) -> NodeInfo:
    p = parse_pairs(text)
    return NodeInfo(
        pairs=p,
        cpu_model=p["CPU model"].value if "CPU model" in p else None,
        cpus=as_int(p.get("CPU(s)")),
        mhz=as_int(p.get("CPU frequency")),
        sockets=as_int(p.get("CPU socket(s)")),
        cores_per_socket=as_int(p.get("Core(s) per socket")),
        threads_per_core=as_int(p.get("Thread(s) per core")),
        numa_cells=as_int(p.get("NUMA cell(s)")),
        memory=memory_value(p.get("Memory size")),
    )


def nodeinfo_facts(info: NodeInfo, *, path: str = "<text>", host: str | None = None) -> list[HypervisorNode]:
    anchor = info.pairs.get("CPU model") or info.pairs.get("CPU(s)") or info.pairs.get("Memory size")
    if anchor is None:
        return []
    return [
        HypervisorNode(
            path=path, line=anchor.line, text=anchor.text, host_name=host, cpu_model=info.cpu_model, cpus=info.cpus,
            mhz=info.mhz, sockets=info.sockets, cores_per_socket=info.cores_per_socket,
            threads_per_core=info.threads_per_core, numa_cells=info.numa_cells, memory=info.memory,
        )
    ]
