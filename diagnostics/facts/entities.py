"""Entity references and sizes as CloudStack renders them in log messages.

VMs:   `VM instance {"id":42,"instanceName":"i-2-42-VM","uuid":"5b0c...","type":"User","state":"Running"}` (4.18+),
       `VM[User|i-2-42-VM]` (older), `VM {id: "42", name: "i-2-42-VM", uuid: "...", type: "User"}` (agent TO).
Hosts: `Host {"id":4,"uuid":"0b6e...","name":"kvm01","type":"Routing"}` (4.18+), `Host[-4-Routing]` (older),
       `Routing host 4(kvm01)`, `via: 4(kvm01)`, `Host {id: 4, name: kvm01, uuid: ...}`.
Sizes: `(8.00 GB) 8589934592` or a bare byte count -> bytes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_VM_JSON_RE = re.compile(r'VM instance \{"id":(\d+)(?:,"instanceName":"([^"]*)")?(?:,"uuid":"([^"]*)")?')
_VM_OLD_RE = re.compile(r"VM\[(\w+)\|([\w.-]+)\]")
_VM_TO_RE = re.compile(r'VM \{id: "(\d+)", name: "([^"]*)", uuid: "([^"]*)"')
_VM_NAME_RE = re.compile(r"\b([isrv]-\d+(?:-\d+)?-VM)\b")
_VMNAME_JSON_RE = re.compile(r'"vmName":"([^"]+)"')

_HOST_JSON_RE = re.compile(r'Host \{"id":(\d+)(?:,"uuid":"([^"]*)")?(?:,"name":"([^"]*)")?')
_HOST_OLD_RE = re.compile(r"Host\[-(\d+)-\w+\]")
_HOST_BRACE_RE = re.compile(r"Host \{id: (\d+), name: ([^,}]+)(?:, uuid: ([^,}]+))?")
_HOST_BARE_RE = re.compile(r"^(\d+)(?:-([A-Za-z][\w.-]*))?(?:$|[\s,])")
_HOST_IDNAME_RE = re.compile(r"(?:Routing host|via:|host) (\d+)\(([^)]+)\)")

_SIZE_RE = re.compile(r"(?:\(\s*-?[\d.,]+\s*(?:bytes|KB|MB|GB|TB|PB)\)\s*)?(-?\d+)")
_HUMAN_ONLY_RE = re.compile(r"\(?\s*(-?[\d.,]+)\s*(bytes|KB|MB|GB|TB|PB)\)?")
_UNITS = {"bytes": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}


class VmRef(NamedTuple):  # a tuple: built for nearly every fact, and a frozen dataclass costs several times more
    name: str | None = None
    id: int | None = None
    uuid: str | None = None


class HostRef(NamedTuple):
    id: int | None = None
    name: str | None = None
    uuid: str | None = None


def find_vm(text: str) -> VmRef | None:
    """The first VM named in `text`, in whichever rendering it uses."""
    m = _VM_JSON_RE.search(text)
    if m:
        return VmRef(m.group(2) or None, int(m.group(1)), m.group(3) or None)
    m = _VM_OLD_RE.search(text)
    if m:
        return VmRef(m.group(2))
    m = _VM_TO_RE.search(text)
    if m:
        return VmRef(m.group(2), int(m.group(1)), m.group(3))
    m = _VMNAME_JSON_RE.search(text)
    if m:
        return VmRef(m.group(1))
    m = _VM_NAME_RE.search(text)
    if m:
        return VmRef(m.group(1))
    return None


def find_host(text: str) -> HostRef | None:
    """The first host named in `text`."""
    m = _HOST_JSON_RE.search(text)
    if m:
        return HostRef(int(m.group(1)), m.group(3) or None, m.group(2) or None)
    m = _HOST_OLD_RE.search(text)
    if m:
        return HostRef(int(m.group(1)))
    m = _HOST_BRACE_RE.search(text)
    if m:
        return HostRef(int(m.group(1)), m.group(2).strip(), (m.group(3) or "").strip() or None)
    m = _HOST_IDNAME_RE.search(text)
    if m:
        return HostRef(int(m.group(1)), m.group(2))
    m = _HOST_BARE_RE.match(text.strip())
    if m:  # 4.15-era `Checking if host: 4 has ...` / `... still up: 4-kvm01`
        return HostRef(int(m.group(1)), m.group(2))
    return None


@lru_cache(maxsize=4096)
def host_named(text: str) -> HostRef | None:
    """`find_host` of a short text that is nothing but a host rendering (the same few hosts recur all day)."""
    return find_host(text)


def find_hosts(text: str) -> list[HostRef]:
    """Every host named in `text`, in order (a state transition names three)."""
    found: list[tuple[int, HostRef]] = []
    for m in _HOST_JSON_RE.finditer(text):
        found.append((m.start(), HostRef(int(m.group(1)), m.group(3) or None, m.group(2) or None)))
    for m in _HOST_OLD_RE.finditer(text):
        found.append((m.start(), HostRef(int(m.group(1)))))
    return [ref for _, ref in sorted(found, key=lambda p: p[0])]


def parse_size(text: str) -> int | None:
    """`(8.00 GB) 8589934592` -> 8589934592; `8589934592` -> same; `(8.00 GB)` alone -> 8589934592 (approximate)."""
    text = text.strip()
    m = _SIZE_RE.match(text)
    if m and (m.end() == len(text) or not text[m.end()].isdigit()):
        try:
            return int(m.group(1))
        except ValueError:
            pass
    h = _HUMAN_ONLY_RE.match(text)
    if h:
        return int(float(h.group(1).replace(",", ".")) * _UNITS[h.group(2)])
    return None


def parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def parse_id_list(text: str) -> tuple[int, ...]:
    """`[3, 4]` / `3, 4` / `[]` -> (3, 4)."""
    return tuple(int(x) for x in re.findall(r"\d+", text))
