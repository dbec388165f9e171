"""`virsh dominfo <domain>` -> a DomainInfo fact (the libvirt view of one CloudStack VM).

    >>> dom = parse_dominfo('''Id:             5
    ... Name:           i-2-42-VM
    ... State:          running
    ... Max memory:     8388608 KiB
    ... Used memory:    8388608 KiB''')
    >>> (dom.domain_id, dom.name, dom.state, dom.max_memory == 8 * 1024**3)
    (5, 'i-2-42-VM', 'running', True)

A shut-off domain has `Id: -`. Memory is KiB; `Persistent`/`Autostart`/`Managed save` are yes/no/enable/disable.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.host.keyvalue import Pair, as_float, as_int, parse_pairs
from diagnostics.host.virsh_nodeinfo import memory_value
from diagnostics.model.host_facts import DomainInfo


@dataclass(slots=True)
class DomInfo:
    pairs: dict[str, Pair]
    domain_id: int | None
    name: str
    uuid: str | None
    os_type: str | None
    state: str
    cpus: int | None
    cpu_time_s: float | None
    max_memory: int | None
    used_memory: int | None
    persistent: bool | None
    autostart: bool | None
    managed_save: bool | None


def _flag(pair: Pair | None) -> bool | None:
    if pair is None:
        return None
    return {"yes": True, "enable": True, "no": False, "disable": False}.get(pair.value.lower())


def parse_dominfo(text: str) -> DomInfo:
    p = parse_pairs(text)

    def value(key: str) -> str | None:
        return p[key].value if key in p and p[key].value else None

    return DomInfo(
        pairs=p,
        domain_id=as_int(p.get("Id")),
        name=value("Name") or "",
        uuid=value("UUID"),
        os_type=value("OS Type"),
        state=value("State") or "",
        cpus=as_int(p.get("CPU(s)")),
        cpu_time_s=as_float(p.get("CPU time")),
        max_memory=memory_value(p.get("Max memory")),
        used_memory=memory_value(p.get("Used memory")),
        persistent=_flag(p.get("Persistent")),
        autostart=_flag(p.get("Autostart")),
        managed_save=_flag(p.get("Managed save")),
    )


def dominfo_facts(dom: DomInfo, *, path: str = "<text>", host: str | None = None) -> list[DomainInfo]:
    anchor = dom.pairs.get("Name")
    if anchor is None or not dom.name:
        return []
    return [
        DomainInfo(
            path=path, line=anchor.line, text=anchor.text, host_name=host, vm=dom.name, vm_uuid=dom.uuid,
            domain_id=dom.domain_id, name=dom.name, state=dom.state, os_type=dom.os_type, cpus=dom.cpus,
            cpu_time_s=dom.cpu_time_s, max_memory=dom.max_memory, used_memory=dom.used_memory,
            persistent=dom.persistent, autostart=dom.autostart, managed_save=dom.managed_save,
        )
    ]
