"""What an API snapshot asks the management server, in order. Read-only list/query commands only.

The plan follows the reference runbook: find the VM, its current and requested offering, the hosts
CloudStack could place it on, the capacity roll-up, the settings that decide live scaling and capacity
arithmetic, the account's limits, and the VM's async jobs. A call that fails is recorded with its error and
the snapshot goes on; a failure that no later call can survive (credentials, TLS, network), or a failure
before anything succeeded, stops the snapshot and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from diagnostics.api.client import ApiClient, ApiError

# (setting, scopes it is asked at besides global). Why each one matters:
SETTINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("enable.dynamic.scale.vm", ("zone",)),  # zone flag: live scaling refused when false
    ("cpu.overprovisioning.factor", ("cluster",)),  # cluster value multiplies host CPU capacity
    ("mem.overprovisioning.factor", ("cluster",)),
    ("ping.interval", ()),  # agent heartbeat cadence (s)
    ("ping.timeout", ()),  # multiplier: behind-on-ping after interval x timeout
    ("capacity.check.period", ()),  # how often op_host_capacity is recalculated (ms)
    ("scale.retry", ()),  # scale attempts on the current host before migrating
    ("vm.min.memory.equals.memory.divided.by.mem.overprovisioning.factor", ()),
)
PLACEMENT_FIELDS = ("id", "instancename", "state", "hostid", "hostname", "cpunumber", "cpuspeed", "memory")
PAGE_SIZE = 500
MAX_PAGES = 40  # 20,000 items per listing
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class CollectError(Exception):
    """The snapshot cannot be taken; one line for the operator."""


@dataclass(slots=True)
class Target:
    vm: str | None = None  # name, display name, instance name or UUID
    offering: str | None = None  # requested offering: name or UUID
    job: str | None = None  # async job UUID


@dataclass(slots=True)
class CallResult:
    """One logical call (all its pages): what was asked, what came back, or why not."""

    name: str  # file stem inside the snapshot
    command: str
    params: dict[str, str]
    item_key: str | None  # "host", "virtualmachine", ... ; None for single-object answers
    items: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)  # single-object answers (queryAsyncJobResult)
    extra: dict[str, Any] = field(default_factory=dict)  # non-list keys of the answer (count, ...)
    answered_at: datetime | None = None
    duration_s: float = 0.0
    size: int = 0
    pages: int = 0
    error: str | None = None
    error_code: int | None = None
    http_status: int | None = None
    note: str | None = None
    truncated: bool = False  # the page cap was reached: the listing is not the whole answer

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class Collection:
    calls: list[CallResult] = field(default_factory=list)
    vm: dict[str, Any] | None = None
    current_offering_id: str | None = None
    requested_offering_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(call.ok for call in self.calls) and not self.warnings


class Collector:
    """Runs the plan against one client. `progress` receives one short line per call (for the CLI)."""

    def __init__(self, client: ApiClient, *, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES,
                 progress: Callable[[str], None] | None = None) -> None:
        self._client = client
        self._page_size = page_size
        self._max_pages = max_pages
        self._progress = progress or (lambda line: None)
        self.result = Collection()

    # ------------------------------------------------------------ one call
    def _run(self, name: str, command: str, params: dict[str, str], item_key: str | None,
             paged: bool = True, keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None) -> CallResult:
        """One logical call, page by page. `keep` reduces each item as it arrives (None drops it), so a
        listing of every VM in a large cloud holds only the fields it needs in memory."""
        call = CallResult(name, command, dict(params), item_key)
        self.result.calls.append(call)
        page, seen = 1, 0
        while True:
            ask = dict(params)
            if paged and item_key:
                ask.update(page=str(page), pagesize=str(self._page_size))
            try:
                reply = self._client.call(command, ask)
            except ApiError as exc:
                call.error, call.error_code, call.http_status = exc.message, exc.error_code, exc.http_status
                call.items.clear()
                self._progress(f"{name}: {exc.message}")
                if exc.fatal or not any(c.ok for c in self.result.calls):
                    raise CollectError(exc.message) from None
                return call
            call.pages += 1
            call.duration_s += reply.duration_s
            call.size += reply.size
            call.answered_at = reply.answered_at
            call.http_status = reply.http_status
            if item_key is None:
                call.body = reply.body
                break
            batch = reply.body.get(item_key) or []
            if not isinstance(batch, list):
                batch = [batch]
            for item in batch:
                if isinstance(item, dict):
                    kept = keep(item) if keep else item
                    if kept is not None:
                        call.items.append(kept)
            seen += len(batch)
            call.extra = {k: v for k, v in reply.body.items() if k != item_key}
            total = _as_int(reply.body.get("count"))
            if not paged or not batch or total is None or seen >= total or len(batch) < self._page_size:
                break
            if page >= self._max_pages:
                call.truncated = True
                call.note = f"stopped after {page} pages of {self._page_size} ({seen} of {total})"
                self.result.warnings.append(f"{name}: {call.note}")
                break
            page += 1
        if item_key:
            call.extra["count"] = len(call.items)
        self._progress(f"{name}: {len(call.items) if item_key else 1} item(s)")
        return call

    # ------------------------------------------------------------ the plan
    def collect(self, target: Target) -> Collection:
        vm = self._find_vm(target.vm) if target.vm else None
        self.result.vm = vm
        zone_id = vm.get("zoneid") if vm else None
        self._offerings(vm, target.offering)
        hosts = self._run("listHosts", "listHosts", {"type": "Routing"}, "host")
        self._placements(zone_id)
        self._run("listCapacity", "listCapacity", {"zoneid": zone_id} if zone_id else {}, "capacity")
        cluster_id = None
        if vm and vm.get("hostid"):
            cluster_id = next((h.get("clusterid") for h in hosts.items if str(h.get("id")) == str(vm.get("hostid"))), None)
        for setting, scopes in SETTINGS:
            self._setting(setting, "global", {})
            if "zone" in scopes and zone_id:
                self._setting(setting, "zone", {"zoneid": zone_id})
            if "cluster" in scopes and cluster_id:
                self._setting(setting, "cluster", {"clusterid": cluster_id})
        if vm and vm.get("account") and vm.get("domainid"):
            owner = {"account": vm["account"], "domainid": vm["domainid"]}
            self._run("listResourceLimits", "listResourceLimits", owner, "resourcelimit")
            self._run("listAccounts", "listAccounts", {"name": vm["account"], "domainid": vm["domainid"]}, "account")
        if vm:
            jobs = self._run("listAsyncJobs", "listAsyncJobs", {"listall": "true"}, "asyncjobs")
            if jobs.ok:
                kept = [j for j in jobs.items if str(j.get("jobinstanceid")) == str(vm.get("id"))]
                jobs.note = f"kept the {len(kept)} of {len(jobs.items)} jobs whose jobinstanceid is the VM"
                jobs.items[:] = kept
                jobs.extra["count"] = len(kept)
        if target.job:
            self._run("queryAsyncJobResult", "queryAsyncJobResult", {"jobid": target.job}, None, paged=False)
        return self.result

    def _placements(self, zone_id: str | None) -> None:
        """Every VM CloudStack places on a host, reduced to placement and size: the belief that `virsh list`
        and `free` on each host can contradict (stale capacity). Names of other tenants' VMs are not kept."""
        params = {"listall": "true", **({"zoneid": zone_id} if zone_id else {})}
        call = self._run("listVirtualMachines.placement", "listVirtualMachines", params, "virtualmachine",
                         keep=_placement_of)
        if call.ok and not call.truncated:
            call.note = f"reduced to {', '.join(PLACEMENT_FIELDS)} of the VMs that have a host"

    def _find_vm(self, selector: str) -> dict[str, Any]:
        params = {"listall": "true", "id" if _UUID.match(selector) else "name": selector}
        call = self._run("listVirtualMachines", "listVirtualMachines", params, "virtualmachine")
        if not call.ok:
            raise CollectError(call.error or "listVirtualMachines failed")
        exact = [vm for vm in call.items
                 if selector in (str(vm.get("id")), vm.get("name"), vm.get("displayname"), vm.get("instancename"))]
        if not exact:
            raise CollectError(f"no VM named or with id {selector!r} is visible to these credentials")
        if len(exact) > 1:
            listed = ", ".join(f"{vm.get('name')} ({vm.get('id')})" for vm in exact[:5])
            raise CollectError(f"{selector!r} matches {len(exact)} VMs: {listed}; pass the UUID")
        call.items[:] = exact
        call.extra["count"] = 1
        return exact[0]

    def _offerings(self, vm: dict[str, Any] | None, requested: str | None) -> None:
        call = self._run("listServiceOfferings", "listServiceOfferings", {"issystem": "false"}, "serviceoffering")
        # ids are numbers on 2.2 servers and UUID strings since 3.0: kept as text either way
        current_id = str(vm["serviceofferingid"]) if vm and vm.get("serviceofferingid") is not None else None
        self.result.current_offering_id = current_id
        if current_id and call.ok and not any(str(o.get("id")) == current_id for o in call.items):
            # the VM may run an offering no longer listed (inactive); ask for it by id
            extra = self._run("listServiceOfferings.current", "listServiceOfferings",
                              {"id": current_id, "issystem": "false"}, "serviceoffering", paged=False)
            if extra.ok and not extra.items:
                self.result.warnings.append(f"the VM's offering {current_id} is not listed by the API")
        if requested and call.ok:
            match = [o for o in call.items if requested in (str(o.get("id")), o.get("name"))]
            if len(match) == 1:
                self.result.requested_offering_id = str(match[0].get("id"))
            elif not match:
                self.result.warnings.append(f"requested offering {requested!r} is not among the listed offerings")
            else:
                self.result.warnings.append(f"requested offering {requested!r} matches {len(match)} offerings; pass the UUID")

    def _setting(self, setting: str, scope: str, scope_params: dict[str, str]) -> None:
        name = f"listConfigurations.{setting}" + ("" if scope == "global" else f".{scope}")
        call = self._run(name, "listConfigurations", {"name": setting, **scope_params}, "configuration")
        if call.ok:
            # the server matches `name` as a substring; keep the exact setting only
            call.items[:] = [item for item in call.items if item.get("name") == setting]
            call.extra["count"] = len(call.items)


def _placement_of(vm: dict[str, Any]) -> dict[str, Any] | None:
    return {key: vm[key] for key in PLACEMENT_FIELDS if key in vm} if vm.get("hostid") else None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
