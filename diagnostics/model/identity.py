"""Which facts speak of the same host or the same VM: the one identity resolver of the pipeline, engine and correlator.

CloudStack names one host by database id (`Host 3`), name (`kvm03`, also the agent.log's folder), UUID (the API's
`hostid`) and IP (the API's `ipaddress`; a host added by IP is named by it), and one VM by instance name
(`i-2-42-VM`, also libvirt's domain name on the host), UUID (the API's `id`), database id (the 42 in `i-2-42-VM`)
and name or display name (the API's `name`/`displayname`). Names a fact carries together are one entity, and
knowing any one of them finds it.

Why two strengths of key: ids, UUIDs and instance names are unique in a cloud, so they join whatever else they
are seen with, and an entity cannot hold two different values of one (evidence that would merge `uuid A` and
`uuid B` is refused and listed in `conflicts`). Names, display names and IPs are only labels: two VMs may share a
display name, a renamed host keeps its id. A label joins while one entity carries it; once two entities with
different ids or UUIDs carry it, it resolves to neither (it never merges them).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from diagnostics.model import Fact

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")  # a host name as a log line can carry it (not `kvm03 (10.0.0.3)`)
_INSTANCE_RE = re.compile(r"^(?:i-\d+-(\d+)|[rsv]-(\d+))-[A-Za-z0-9_.-]+$")  # i-2-42-VM, r-7-VM, s-1-VM, v-2-VM
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_AMBIGUOUS = -1
MAX_CONFLICTS = 20  # conflicting pieces of evidence listed per sort of entity (the first ones; repeats said once)


@dataclass(slots=True)
class HostEntity:
    """One hypervisor host as every fact that named it knows it."""

    token: int
    id: int | None = None
    uuid: str | None = None
    names: list[str] = field(default_factory=list)  # first seen first, as written
    ips: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None

    def aliases(self) -> set[str]:
        """Every way a fact or a finding may name this host, as strings (names also lower-cased)."""
        out = {str(v) for v in (self.id, self.uuid) if v is not None}
        out.update(self.names, (n.lower() for n in self.names), self.ips)
        return out


@dataclass(slots=True)
class VmEntity:
    """One VM (user or system) as every fact that named it knows it."""

    token: int
    id: int | None = None
    instance: str | None = None
    uuid: str | None = None
    names: list[str] = field(default_factory=list)  # names and display names, first seen first

    @property
    def name(self) -> str | None:
        """What the logs call it: the instance name, else the first name seen."""
        return self.instance or (self.names[0] if self.names else None)

    def aliases(self) -> set[str]:
        return {str(v) for v in (self.id, self.instance, self.uuid) if v is not None} | set(self.names)


class _Book:
    """Entities of one sort: union-find over observations, strong keys unique, labels unique until shared."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.parent: list[int] = []
        self.strong: list[dict[str, object]] = []
        self.labels: list[list[str]] = []
        self.by_strong: dict[tuple[str, object], int] = {}
        self.by_label: dict[str, int] = {}
        self.conflicts: list[str] = []
        self._said: set[tuple] = set()

    def find(self, e: int) -> int:
        root = e
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[e] != root:
            self.parent[e], e = root, self.parent[e]
        return root

    def observe(self, strong: dict[str, object], labels: list[str], where: str) -> None:
        """One fact's names of one entity, seen together."""
        owners: list[int] = []
        values = dict(strong)
        for key in strong.items():
            owner = self.by_strong.get(key)
            if owner is None:
                continue
            owner = self.find(owner)
            if owner in owners:
                continue
            clash = _clash(values, self.strong[owner])
            if clash:
                said = (tuple(sorted(strong.items(), key=str)), owner)
                if said not in self._said and len(self._said) < MAX_CONFLICTS:
                    self._said.add(said)
                    self.conflicts.append(f"{where}: {self.what} {_describe(strong, labels)} contradicts the {clash} "
                                          f"known for {_describe(self.strong[owner], self.labels[owner])}: kept apart")
                return
            owners.append(owner)
            _fill(values, self.strong[owner])
        for label in labels:
            owner = self.by_label.get(label)
            if owner is None or owner == _AMBIGUOUS:
                continue
            owner = self.find(owner)
            if owner in owners:
                continue
            if _clash(values, self.strong[owner]):
                self.by_label[label] = _AMBIGUOUS  # the same label on two different entities: it names neither
                continue
            owners.append(owner)
            _fill(values, self.strong[owner])
        if not owners and not strong and all(self.by_label.get(x) == _AMBIGUOUS for x in labels):
            return  # only labels that already name several entities: nothing to learn
        if owners:
            target = owners[0]
            for other in owners[1:]:
                self.parent[other] = target
                self.labels[target].extend(x for x in self.labels[other] if x not in self.labels[target])
        else:
            target = len(self.parent)
            self.parent.append(target)
            self.strong.append({})
            self.labels.append([])
        self.strong[target] = values
        for key in values.items():
            self.by_strong.setdefault(key, target)
        for label in labels:
            if label not in self.labels[target]:
                self.labels[target].append(label)
            self.by_label.setdefault(label, target)

    def resolve(self, strong: list[tuple[str, object]], labels: Iterable[str]) -> int | None:
        """The entity of the first strong key known, else of the labels when they agree on one; never an entity
        that the other strong keys contradict (evidence that was kept apart names no entity)."""
        for key in strong:
            owner = self.by_strong.get(key)
            if owner is not None:
                owner = self.find(owner)
                return None if _clash(dict(strong), self.strong[owner]) else owner
        found = None
        for label in labels:
            owner = self.by_label.get(label)
            if owner is None or owner == _AMBIGUOUS:
                continue
            owner = self.find(owner)
            if found is not None and owner != found:
                return None
            found = owner
        return found


def _clash(values: dict[str, object], other: dict[str, object]) -> str | None:
    for name, value in other.items():
        mine = values.get(name)
        if mine is not None and mine != value:
            return f"{name} {value}"
    return None


def _fill(values: dict[str, object], other: dict[str, object]) -> None:
    for name, value in other.items():
        values.setdefault(name, value)


def _describe(strong: dict[str, object], labels: list[str]) -> str:
    parts = [f"{k} {v}" for k, v in strong.items()] + [f"named {x}" for x in labels[:2]]
    return ", ".join(parts) or "(no names)"


def _host_keys(fact: Fact) -> tuple[dict[str, object], list[str]]:
    strong: dict[str, object] = {}
    if fact.host_id is not None:
        strong["id"] = fact.host_id
    uuid = getattr(fact, "host_uuid", None)
    if uuid and _UUID_RE.match(uuid):
        strong["uuid"] = uuid.lower()
    labels: list[str] = []
    name = fact.host_name
    if name and _NAME_RE.match(name):
        labels.append(name.lower())
    ip = getattr(fact, "ip_address", None) if fact.kind == "api_host" else None
    if ip and _is_ip(ip) and ip.lower() not in labels:
        labels.append(ip.lower())
    return strong, labels


def _vm_keys(fact: Fact) -> tuple[dict[str, object], list[str]]:
    strong: dict[str, object] = {}
    labels: list[str] = []
    uuid = fact.vm_uuid
    vm = fact.vm
    if vm and not uuid and _UUID_RE.match(vm):
        uuid, vm = vm, None  # a line that names the VM by UUID where the name would go
    if uuid and "..." not in uuid:
        strong["uuid"] = uuid.lower()
    instance = getattr(fact, "instance_name", None) if fact.kind == "api_vm" else None
    for name in (instance, vm, getattr(fact, "name", None) if fact.kind == "api_vm" else None,
                 getattr(fact, "display_name", None) if fact.kind == "api_vm" else None):
        if not name:
            continue
        m = _INSTANCE_RE.match(name)
        if m and "instance" not in strong:
            strong["instance"] = name
            strong["id"] = int(m.group(1) or m.group(2))
        elif name != strong.get("instance") and name not in labels:
            labels.append(name)
    return strong, labels


def _host_cache_key(fact: Fact) -> tuple:
    """Everything `_host_keys` reads of a fact."""
    if fact.kind == "api_host":
        return (fact.host_id, fact.host_name, getattr(fact, "host_uuid", None), getattr(fact, "ip_address", None))
    return (fact.host_id, fact.host_name, getattr(fact, "host_uuid", None))


def _vm_cache_key(fact: Fact) -> tuple:
    """Everything `_vm_keys` reads of a fact."""
    if fact.kind == "api_vm":
        return (fact.vm, fact.vm_uuid, getattr(fact, "instance_name", None), getattr(fact, "name", None),
                getattr(fact, "display_name", None))
    return (fact.vm, fact.vm_uuid)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Identities:
    """Hosts and VMs learnt from facts; `host(fact)`/`vm(fact)` say which one a fact names (None: none known, or
    its only names are shared by several). Learn once from every fact, then ask as often as needed."""

    def __init__(self) -> None:
        self._hosts = _Book("host")
        self._vms = _Book("VM")
        self._written: dict[str, str] = {}  # a host name as first written, by its lower-case label
        self._host_seen: set[tuple] = set()
        self._vm_seen: set[tuple] = set()
        self._host_cache: dict[tuple, HostEntity | None] = {}
        self._vm_cache: dict[tuple, VmEntity | None] = {}

    @classmethod
    def learn(cls, facts: Iterable[Fact]) -> "Identities":
        ids = cls()
        for fact in facts:
            ids.observe(fact)
        return ids

    def observe(self, fact: Fact) -> None:
        """Learn the names `fact` gives one host and one VM together (the same names seen again teach nothing)."""
        host_key = _host_cache_key(fact)
        if host_key not in self._host_seen:
            self._host_seen.add(host_key)
            strong, labels = _host_keys(fact)
            if strong or labels:
                self._hosts.observe(strong, labels, f"{fact.path}:{fact.line}" if fact.path else fact.kind)
                if fact.host_name and labels and labels[0] == fact.host_name.lower():
                    self._written.setdefault(labels[0], fact.host_name)
                self._host_cache.clear()
        vm_key = _vm_cache_key(fact)
        if vm_key not in self._vm_seen:
            self._vm_seen.add(vm_key)
            strong, labels = _vm_keys(fact)
            if strong or labels:
                self._vms.observe(strong, labels, f"{fact.path}:{fact.line}" if fact.path else fact.kind)
                self._vm_cache.clear()

    @property
    def conflicts(self) -> list[str]:
        """One line per piece of evidence that would have made one entity of two (kept apart)."""
        return self._hosts.conflicts + self._vms.conflicts

    # ------------------------------------------------------------ asking

    def host(self, fact: Fact) -> HostEntity | None:
        key = _host_cache_key(fact)
        if key not in self._host_cache:
            strong, labels = _host_keys(fact)
            token = self._hosts.resolve(list(strong.items()), labels)
            self._host_cache[key] = None if token is None else self._host_entity(token)
        return self._host_cache[key]

    def vm(self, fact: Fact) -> VmEntity | None:
        key = _vm_cache_key(fact)
        if key not in self._vm_cache:
            strong, labels = _vm_keys(fact)
            # the UUID first: it is the fact's own statement of which VM; the instance name may be a paste's guess
            order = sorted(strong.items(), key=lambda kv: ("uuid", "instance", "id").index(kv[0]))
            token = self._vms.resolve(order, labels)
            self._vm_cache[key] = None if token is None else self._vm_entity(token)
        return self._vm_cache[key]

    def host_named(self, name: str | int) -> HostEntity | None:
        """The host a person or a finding names by id, name, UUID or IP."""
        text = str(name).strip()
        strong = [("id", int(text))] if text.isdigit() else []
        if _UUID_RE.match(text):
            strong.append(("uuid", text.lower()))
        token = self._hosts.resolve(strong, [text.lower()])
        return None if token is None else self._host_entity(token)

    def vm_named(self, name: str | int) -> VmEntity | None:
        """The VM a person names by id (42), instance name, UUID, name or display name (if only one VM has it)."""
        text = str(name).strip()
        strong: list[tuple[str, object]] = []
        if _UUID_RE.match(text):
            strong.append(("uuid", text.lower()))
        elif text.isdigit():
            strong.append(("id", int(text)))
        elif _INSTANCE_RE.match(text):
            strong.append(("instance", text))
        token = self._vms.resolve(strong, [text])
        return None if token is None else self._vm_entity(token)

    def same_vm(self, a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool | None:
        """Whether (name, uuid) pairs `a` and `b` are one VM: True when the facts tied them, False when their ids,
        UUIDs or instance names differ, None when nothing says (a call naming a UUID, a job an instance name)."""
        ea, eb = self._vm_of(*a), self._vm_of(*b)
        if ea is None or eb is None:
            return None
        if ea.token == eb.token:
            return True
        return False if _clash(self._vms.strong[ea.token], self._vms.strong[eb.token]) else None

    def vm_token(self, vm: str | None, uuid: str | None) -> object:
        """A key equal for every way of naming one VM (the raw name or UUID when the VM is not known)."""
        entity = self._vm_of(vm, uuid)
        return ("vm", entity.token) if entity is not None else (vm or uuid)

    def _vm_of(self, vm: str | None, uuid: str | None) -> VmEntity | None:
        if not vm and not uuid:
            return None
        cached = self._vm_cache.get((vm, uuid), False)  # the key `vm()` caches a fact of these two names under
        return self.vm(Fact(vm=vm, vm_uuid=uuid)) if cached is False else cached

    def _host_entity(self, token: int) -> HostEntity:
        book = self._hosts
        values = book.strong[token]
        labels = book.labels[token]
        return HostEntity(token, id=values.get("id"), uuid=values.get("uuid"),  # type: ignore[arg-type]
                          names=[self._written.get(x, x) for x in labels if not _is_ip(x)],
                          ips=[x for x in labels if _is_ip(x)])

    def _vm_entity(self, token: int) -> VmEntity:
        values = self._vms.strong[token]
        return VmEntity(token, id=values.get("id"), instance=values.get("instance"),  # type: ignore[arg-type]
                        uuid=values.get("uuid"), names=list(self._vms.labels[token]))

    # ------------------------------------------------------------ filling facts

    def fill(self, facts: list[Fact]) -> None:
        """Complete each fact's host id/name and VM name from what other facts said about the same entity; the agent
        logs a command's logid, not its VM, so a logid that only ever names one VM gives that VM too."""
        vms_by_logid: dict[str, dict[object, str]] = {}
        for f in facts:
            if f.vm and f.logid:
                vms_by_logid.setdefault(f.logid, {}).setdefault(self.vm_token(f.vm, f.vm_uuid), f.vm)
        vm_of_logid = {}
        for logid, vms in vms_by_logid.items():
            if len(vms) == 1:
                ((token, name),) = vms.items()
                entity = self._vms_entity_of(token)
                vm_of_logid[logid] = entity.name if entity is not None and entity.name else name
        for f in facts:
            if (f.host_id is None) != (not f.host_name):  # one of the two is known
                host = self.host(f)
                if host is not None:
                    if f.host_id is not None and host.name:
                        f.host_name = host.name
                    elif f.host_name and host.id is not None:
                        f.host_id = host.id
            if not f.vm and f.vm_uuid:
                vm = self.vm(f)
                if vm is not None and vm.name:
                    f.vm = vm.name
            if not f.vm and f.logid and f.logid in vm_of_logid:
                f.vm = vm_of_logid[f.logid]

    def _vms_entity_of(self, token: object) -> VmEntity | None:
        if isinstance(token, tuple) and token[0] == "vm":
            return self._vm_entity(token[1])
        return None
