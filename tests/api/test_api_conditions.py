"""The rules of rules/api over real snapshots (taken by the CLI from the loopback server) and host evidence.

Each rule's own examples run in tests/rules; here the same rule files meet what `api-snapshot` writes, so a
change in the snapshot's facts that a rule relies on fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudstack_fake import SMALL_UUID, FakeManagementServer, write_cmk_config
from diagnostics.api import facts_from_snapshot
from diagnostics.cli import main
from diagnostics.engine import Rule, evaluate, load_rule_file
from diagnostics.host import facts_from_text as host_facts
from diagnostics.model import Fact

RULES = Path(__file__).resolve().parents[2] / "rules" / "api"


def rule(name: str) -> Rule:
    return load_rule_file(RULES / f"{name}.toml")


FREE_ROOMY = """$ free -m
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


def take(cloudstack: FakeManagementServer, home: Path, out: Path, *argv: str) -> list[Fact]:
    write_cmk_config(home, cloudstack.url)
    with pytest.raises(SystemExit) as done:
        main(["api-snapshot", "--out", str(out), *argv])
    assert done.value.code in (0, None)
    facts, warnings = facts_from_snapshot(out)
    assert warnings == []
    return facts


def hits(name: str, facts: list[Fact]) -> list[str]:
    """Who the rule flags: "host vm" of each finding ("-" when the finding has no such entity)."""
    return sorted(f"{f.entities.get('host') or '-'} {f.entities.get('vm') or '-'}"
                  for f in evaluate([rule(name)], facts))


def test_stale_capacity_cloudstack_counts_memory_the_host_does_not_use(cloudstack: FakeManagementServer,
                                                                      api_env: Path, tmp_path: Path) -> None:
    # CloudStack holds 120 GiB allocated on kvm01; the host uses ~43 GiB and runs the one VM it should
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01")
    facts += host_facts(FREE_ROOMY, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_ONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits("allocated-full-host-free", facts) == ["kvm01 -"]
    assert hits("vm-booked-but-not-running", facts) == []


def test_stale_capacity_cloudstack_places_a_vm_libvirt_does_not_run(cloudstack: FakeManagementServer,
                                                                   api_env: Path, tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][0]["memoryallocated"] = 4 * 1024**3  # allocation agrees...
    facts = take(cloudstack, api_env, tmp_path / "s")
    facts += host_facts(FREE_ROOMY, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_NONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits("vm-booked-but-not-running", facts) == ["kvm01 -"]  # ...but the VM it counts is shut off there


def test_no_stale_capacity_when_belief_and_host_agree(cloudstack: FakeManagementServer, api_env: Path,
                                                      tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][0]["memoryallocated"] = 48 * 1024**3
    facts = take(cloudstack, api_env, tmp_path / "s")
    facts += host_facts(FREE_ROOMY, path="kvm01/free_-m", host="kvm01")
    facts += host_facts(VIRSH_ONE, path="kvm01/virsh_list", host="kvm01", kind="virsh_list")
    assert hits("vm-booked-but-not-running", facts) == [] and hits("allocated-full-host-free", facts) == []


def test_live_scaling_impossible_when_the_zone_flag_is_off(cloudstack: FakeManagementServer, api_env: Path,
                                                          tmp_path: Path) -> None:
    for item in cloudstack.state.data["listConfigurations"]["configuration"]:
        if item["name"] == "enable.dynamic.scale.vm":
            item["value"] = "false"
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits("live-scaling-disabled", facts) == ["kvm01 i-2-42-VM"]


def test_live_scaling_possible_by_default_data(cloudstack: FakeManagementServer, api_env: Path,
                                               tmp_path: Path) -> None:
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    for name in ("live-scaling-disabled", "vm-not-dynamically-scalable", "requested-tags-no-host",
                 "account-limit-too-small", "downgrade-while-running"):
        assert hits(name, facts) == [], name


def test_running_vm_without_tools_cannot_be_scaled_live(cloudstack: FakeManagementServer, api_env: Path,
                                                        tmp_path: Path) -> None:
    cloudstack.state.data["listVirtualMachines"]["virtualmachine"][0]["isdynamicallyscalable"] = False
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits("vm-not-dynamically-scalable", facts) == ["kvm01 i-2-42-VM"]
    assert hits("live-scaling-disabled", facts) == []  # the zone allows it; the VM does not


def test_requested_host_tags_match_no_usable_host(cloudstack: FakeManagementServer, api_env: Path,
                                                  tmp_path: Path) -> None:
    cloudstack.state.data["listHosts"]["host"][1]["state"] = "Disconnected"  # kvm02, the only "ssd" host
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits("requested-tags-no-host", facts) == ["kvm01 i-2-42-VM"]


def test_account_memory_limit_would_be_exceeded(cloudstack: FakeManagementServer, api_env: Path,
                                                tmp_path: Path) -> None:
    cloudstack.state.data["listAccounts"]["account"][0].update(memorytotal=39936, memoryavailable="1024")
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", "Large")
    assert hits("account-limit-too-small", facts) == ["kvm01 i-2-42-VM"]


def test_downgrade_requested_while_running(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path) -> None:
    facts = take(cloudstack, api_env, tmp_path / "s", "--vm", "web01", "--offering", SMALL_UUID)
    assert hits("downgrade-while-running", facts) == ["kvm01 i-2-42-VM"]
    stopped = tmp_path / "stopped"
    cloudstack.state.data["listVirtualMachines"]["virtualmachine"][0].update(state="Stopped", hostid=None)
    facts = take(cloudstack, api_env, stopped, "--vm", "web01", "--offering", SMALL_UUID)
    assert hits("downgrade-while-running", facts) == []  # a stopped VM may shrink: no finding
