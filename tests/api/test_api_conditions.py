"""The API side as rule conditions: the engine evaluates them over a real snapshot joined with host evidence.

These are the conditions of the API rules (stale capacity, live scaling impossible, host tags, account
limits, downgrade while running). The rule catalogue cannot hold them yet because an [[example]] cannot carry
API answers; this proves the facts are shaped for the condition language and join on `host` and `vm`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudstack_fake import SMALL_UUID, FakeManagementServer, write_cmk_config
from diagnostics.api import facts_from_snapshot
from diagnostics.cli import main
from diagnostics.engine import Rule, evaluate, parse_condition
from diagnostics.host import facts_from_text as host_facts
from diagnostics.model import Fact

# a host without evidence proves nothing: count() over no virsh_list facts is 0, so require some()
STALE_CAPACITY = '''
api_host.memory_allocated - (host_memory.total - host_memory.available) > 16GiB
  or (some(virsh_list) and api_host.running_vms > count(virsh_list where virsh_list.state == "running"))
'''
LIVE_SCALING_IMPOSSIBLE = '''
api_scale_request.vm_state == "Running"
  and (api_scale_request.dynamic_scale_setting == false or api_scale_request.is_dynamically_scalable == false)
'''
NO_HOST_FOR_TAGS = 'api_scale_request.requested_offering != null and api_scale_request.hosts_matching_tags == 0'
OVER_ACCOUNT_LIMIT = 'api_scale_request.exceeds_memory_limit or api_scale_request.exceeds_cpu_limit'
DOWNGRADE_WHILE_RUNNING = 'api_scale_request.vm_state == "Running" and api_scale_request.is_downgrade == true'

FREE_TIGHT = """$ free -m
               total        used        free      shared  buff/cache   available
Mem:          128510       40012       84311         120        4187       84021
Swap:           4095           0        4095
"""
VIRSH_ONE = """ Id   Name        State
----------------------------
 1    i-2-42-VM   running
"""
VIRSH_NONE = """ Id   Name        State
----------------------------
 -    i-2-42-VM   shut off
"""


def rule(condition: str, category: str = "stale_capacity") -> Rule:
    return Rule(id="api.test", title="t", category=category, severity="warning", confidence=0.8,
                condition=parse_condition(condition), message="{host|else:-} {vm|else:-}", path="<test>",
                join=("host", "vm"), group_by=("host", "vm"))


def take(cloudstack: FakeManagementServer, home: Path, out: Path, *argv: str) -> list[Fact]:
    write_cmk_config(home, cloudstack.url)
    with pytest.raises(SystemExit) as done:
        main(["api-snapshot", "--out", str(out), *argv])
    assert done.value.code in (0, None)
    facts, warnings = facts_from_snapshot(out)
    assert warnings == []
    return facts


def hits(condition: str, facts: list[Fact]) -> list[str]:
    return sorted(f.message for f in evaluate([rule(condition)], facts))


def test_stale_capacity_cloudstack_counts_memory_the_host_does_not_use(cloudstack: FakeManagementServer,
                                                                      api_env: Path, tmp_path: Path) -> None:
    # CloudStack holds 120 GiB allocated on kvm01; the host uses ~43 GiB and runs the one VM it should
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01")
    facts += host_facts(FREE_TIGHT, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_ONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits(STALE_CAPACITY, facts) == ["kvm01 -"]


def test_stale_capacity_cloudstack_places_a_vm_libvirt_does_not_run(cloudstack: FakeManagementServer,
                                                                   api_env: Path, tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][0]["memoryallocated"] = 4 * 1024**3  # allocation agrees...
    facts = take(cloudstack, api_env, tmp_path / "s")
    facts += host_facts(FREE_TIGHT, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_NONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits(STALE_CAPACITY, facts) == ["kvm01 -"]  # ...but the VM it counts is shut off on the host


def test_no_stale_capacity_when_belief_and_host_agree(cloudstack: FakeManagementServer, api_env: Path,
                                                      tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][0]["memoryallocated"] = 48 * 1024**3
    facts = take(cloudstack, api_env, tmp_path / "s")
    facts += host_facts(FREE_TIGHT, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_ONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits(STALE_CAPACITY, facts) == []


def test_live_scaling_impossible_when_the_zone_flag_is_off(cloudstack: FakeManagementServer, api_env: Path,
                                                          tmp_path: Path) -> None:
    for item in cloudstack.state.data["listConfigurations"]["configuration"]:
        if item["name"] == "enable.dynamic.scale.vm":
            item["value"] = "false"
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits(LIVE_SCALING_IMPOSSIBLE, facts) == ["kvm01 i-2-42-VM"]


def test_live_scaling_possible_by_default_data(cloudstack: FakeManagementServer, api_env: Path,
                                               tmp_path: Path) -> None:
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits(LIVE_SCALING_IMPOSSIBLE, facts) == []
    assert hits(NO_HOST_FOR_TAGS, facts) == [] and hits(OVER_ACCOUNT_LIMIT, facts) == []
    assert hits(DOWNGRADE_WHILE_RUNNING, facts) == []


def test_requested_host_tags_match_no_usable_host(cloudstack: FakeManagementServer, api_env: Path,
                                                  tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][1]["state"] = "Disconnected"  # kvm02, the only "ssd" host
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits(NO_HOST_FOR_TAGS, facts) == ["kvm01 i-2-42-VM"]


def test_account_memory_limit_would_be_exceeded(cloudstack: FakeManagementServer, api_env: Path,
                                                tmp_path: Path) -> None:
    cloudstack.state.data["listAccounts"]["account"][0].update(memorytotal=39936, memoryavailable="1024")
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits(OVER_ACCOUNT_LIMIT, facts) == ["kvm01 i-2-42-VM"]


def test_downgrade_requested_while_running(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path) -> None:
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", SMALL_UUID)
    assert hits(DOWNGRADE_WHILE_RUNNING, facts) == ["kvm01 i-2-42-VM"]
    stopped = tmp_path / "stopped"
    cloudstack.state.data["listVirtualMachines"]["virtualmachine"][0].update(state="Stopped", hostid=None)
    facts = take(cloudstack, api_env, stopped, "--vm", "web01", "--offering", SMALL_UUID)
    assert hits(DOWNGRADE_WHILE_RUNNING, facts) == []  # a stopped VM may shrink: no finding
