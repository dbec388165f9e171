"""The collection plan: paging, the page cap, exact-name matching, and what a truncated listing means."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from cloudstack_fake import API_KEY, KVM01_UUID, SECRET_KEY, FakeManagementServer
from diagnostics.api import facts_from_snapshot
from diagnostics.api.client import ApiClient
from diagnostics.api.collect import CollectError, Collector, Target
from diagnostics.api.credentials import ApiCredentials
from diagnostics.api.snapshot import write_snapshot


def add_running_vms(server: FakeManagementServer, count: int) -> None:
    vms = server.state.data["listVirtualMachines"]["virtualmachine"]
    for n in range(count):
        vms.append({"id": f"00000000-0000-4000-8000-{n:012d}", "name": f"batch{n}", "instancename": f"i-9-{n}-VM",
                    "account": "carol", "state": "Running", "hostid": KVM01_UUID, "hostname": "kvm01",
                    "memory": 1024, "cpunumber": 1, "cpuspeed": 1000})


def collector(server: FakeManagementServer, **kwargs) -> Collector:
    return Collector(ApiClient(ApiCredentials(server.url, API_KEY, SECRET_KEY), timeout_s=5), **kwargs)


def snapshot_of(server: FakeManagementServer, out: Path, target: Target, **kwargs) -> Path:
    col = collector(server, **kwargs)
    result = col.collect(target)
    now = datetime.now(timezone.utc)
    return write_snapshot(out, result, server.url, "test", target, now, now)


def test_pages_are_followed_until_the_count_is_reached(cloudstack: FakeManagementServer, tmp_path: Path) -> None:
    add_running_vms(cloudstack, 7)
    out = snapshot_of(cloudstack, tmp_path / "s", Target(), page_size=3, max_pages=10)
    pages = [r for r in cloudstack.state.requests if r["command"] == "listVirtualMachines"]
    assert [r["page"] for r in pages] == ["1", "2", "3", "4"] and {r["pagesize"] for r in pages} == {"3"}
    kvm01 = next(f for f in facts_from_snapshot(out)[0] if f.kind == "api_host" and f.host_name == "kvm01")
    assert kvm01.running_vms == 8 and kvm01.running_vm_memory == (4096 + 7 * 1024) * 1024**2


def test_page_cap_marks_the_listing_truncated_and_its_counts_unknown(cloudstack: FakeManagementServer,
                                                                     tmp_path: Path) -> None:
    add_running_vms(cloudstack, 7)
    out = snapshot_of(cloudstack, tmp_path / "s", Target(), page_size=3, max_pages=2)
    facts, warnings = facts_from_snapshot(out)
    kvm01 = next(f for f in facts if f.kind == "api_host" and f.host_name == "kvm01")
    assert kvm01.running_vms is None and kvm01.running_vm_names == ()
    assert any("page cap" in w for w in warnings) and any("incomplete" in w for w in warnings)


def test_vm_name_is_matched_exactly_though_the_api_matches_substrings(cloudstack: FakeManagementServer) -> None:
    result = collector(cloudstack).collect(Target(vm="web01"))
    assert result.vm is not None and result.vm["instancename"] == "i-2-42-VM"


def test_the_same_name_twice_asks_for_the_uuid(cloudstack: FakeManagementServer) -> None:
    twin = dict(cloudstack.state.data["listVirtualMachines"]["virtualmachine"][0],
                id="5b0c9f1e-8d2a-4c1e-9f3b-2a7d6e1c9999", account="dave")
    cloudstack.state.data["listVirtualMachines"]["virtualmachine"].append(twin)
    with pytest.raises(CollectError, match="'web01' matches 2 VMs: .*; pass the UUID"):
        collector(cloudstack).collect(Target(vm="web01"))


def test_unknown_requested_offering_is_a_warning_not_a_failure(cloudstack: FakeManagementServer) -> None:
    result = collector(cloudstack).collect(Target(vm="web01", offering="Huge"))
    assert result.requested_offering_id is None
    assert result.warnings == ["requested offering 'Huge' is not among the listed offerings"]
    assert not result.complete


def test_only_read_only_commands_are_sent(cloudstack: FakeManagementServer) -> None:
    collector(cloudstack).collect(Target(vm="web01", offering="Large", job="e2f3a4b5-7777-4e4e-8f8f-000000001201"))
    commands = {r["command"] for r in cloudstack.state.requests}
    assert all(c.startswith(("list", "query")) for c in commands)
