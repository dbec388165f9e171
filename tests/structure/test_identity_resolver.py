"""One identity resolver: a VM or host named differently by the API, management-server.log and the host is one
entity for the pipeline, the engine and the correlator; conflicting evidence never merges two.

The log lines are the libvirt-memory-start sample's (CloudStack 4.20 layout); the API answers are in the shape of
4.20's listVirtualMachines/listHosts; the virsh dominfo output is libvirt's.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnostics.analysis import Scope
from diagnostics.api import facts_from_api_text
from diagnostics.correlate.operations import Operation, group_sessions
from diagnostics.engine import evaluate, load_rules
from diagnostics.facts import facts_from_text as log_facts
from diagnostics.host import facts_from_text as host_facts
from diagnostics.model import FACT_KINDS
from diagnostics.model.identity import Identities
from tests.engine.conftest import rule_text


@pytest.fixture
def rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write rule files into a fresh folder that stands in for the built-in rules/ folder."""
    root = tmp_path / "rules"
    root.mkdir()
    monkeypatch.setenv("CSDIAG_RULES_DIR", str(root))
    return lambda name, text: (root / name).write_text(text, encoding="utf-8")


UUID = "6fa0d9d6-f21a-4d9d-bc59-e01636a1a137"
HOST_UUID = "64fdfb26-32fa-46be-8de6-2419e2da40d7"
MGMT = """\
2025-01-02T02:41:14,747 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-15:[]) (logid:) Ping from Routing host 3(kvm01)
2025-01-02T02:52:18,502 DEBUG [c.c.a.t.Request] (Work-Job-Executor-9:[ctx-7816065b, job-2201/job-2202, ctx-239ac66d]) (logid:649f73dd) Seq 3-6634646676046961588: Sending  { Cmd , MgmtId: 52239118651215, via: 3(kvm01), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StopCommand":{"isProxy":false,"checkBeforeCleanup":false,"forceStop":false,"volumesToDisconnect":[],"vmName":"i-2-57-VM","executeInSequence":false,"wait":0}}] }
"""


def _api_vm(uuid: str, instance: str, display: str, host: str = "kvm01", host_uuid: str = HOST_UUID) -> dict:
    return {"id": uuid, "name": display, "displayname": display, "instancename": instance, "state": "Running",
            "hostid": host_uuid, "hostname": host, "serviceofferingid": "c7a6c1b1-5ac4-4b7e-a4c1-0d1f0a5b3c21",
            "serviceofferingname": "Medium", "cpunumber": 2, "cpuspeed": 2000, "memory": 4096,
            "hypervisor": "KVM", "isdynamicallyscalable": True}


def _api(*vms: dict) -> str:
    hosts = {"listhostsresponse": {"count": 1, "host": [{
        "id": HOST_UUID, "name": "kvm01", "ipaddress": "10.30.0.11", "type": "Routing", "state": "Up",
        "resourcestate": "Enabled", "hypervisor": "KVM", "cpunumber": 32, "cpuspeed": 2600,
        "memorytotal": 137438953472, "memoryallocated": 68719476736, "memoryused": 60000000000}]}}
    lookups = [json.dumps({"listvirtualmachinesresponse": {"count": 1, "virtualmachine": [vm]}}) for vm in vms]
    return "\n".join([*lookups, json.dumps(hosts)])  # one listVirtualMachines id=... answer per VM


DOMINFO = """\
Id:             5
Name:           i-2-57-VM
UUID:           6fa0d9d6-f21a-4d9d-bc59-e01636a1a137
OS Type:        hvm
State:          running
CPU(s):         2
Max memory:     4194304 KiB
Used memory:    4194304 KiB
Persistent:     no
"""


def _facts(*vms: dict):
    mgmt = log_facts(MGMT, path="management-server.log")
    api = facts_from_api_text(_api(*vms), path="api.json")
    host = host_facts(DOMINFO, path="kvm01/virsh_dominfo.txt", host="kvm01", kind="virsh_dominfo")
    return mgmt, api, host


def test_one_vm_named_by_uuid_in_the_api_by_instance_name_in_the_log_and_by_domain_name_on_the_host() -> None:
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"))
    sent = next(f for f in mgmt if f.kind == "agent_command" and f.vm)
    (listed,) = [f for f in api if f.kind == "api_vm"]
    (domain,) = [f for f in host if f.kind == "virsh_domain"]
    assert (sent.vm, sent.vm_uuid) == ("i-2-57-VM", None)  # the log line alone does not say the UUID
    ids = Identities.learn([*mgmt, *api, *host])
    vm = ids.vm(sent)
    assert vm is not None and ids.vm(listed) == vm == ids.vm(domain)
    assert (vm.id, vm.instance, vm.uuid, vm.names) == (57, "i-2-57-VM", UUID, ["web"])
    assert ids.vm_named("57") == ids.vm_named("web") == ids.vm_named(UUID.upper()) == vm
    assert ids.conflicts == []


def test_one_host_named_by_id_name_uuid_and_ip() -> None:
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"))
    ids = Identities.learn([*mgmt, *api, *host])
    by_id = ids.host_named(3)
    assert by_id is not None
    assert ids.host_named("kvm01") == ids.host_named("KVM01") == ids.host_named("10.30.0.11") == ids.host_named(HOST_UUID) == by_id
    assert (by_id.id, by_id.uuid, by_id.name, by_id.ips) == (3, HOST_UUID, "kvm01", ["10.30.0.11"])
    assert {"3", "kvm01", "10.30.0.11", HOST_UUID} <= by_id.aliases()


def test_two_vms_sharing_a_display_name_stay_two_and_the_name_alone_names_neither() -> None:
    other = "0b7c3e9a-1d2f-4a5b-8c6d-7e8f9a0b1c2d"
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"), _api_vm(other, "i-2-58-VM", "web"))
    ids = Identities.learn([*mgmt, *api, *host])
    first, second = ids.vm_named(UUID), ids.vm_named(other)
    assert first is not None and second is not None and first != second
    assert ids.vm_named("web") is None
    only_by_display = FACT_KINDS["api_scale_request"](vm="web", path="ticket.txt", line=1)
    assert ids.vm(only_by_display) is None
    assert ids.same_vm(("i-2-57-VM", None), ("i-2-58-VM", None)) is False
    assert ids.conflicts == []  # sharing a display name is normal, not a contradiction


def test_contradicting_uuids_for_one_instance_name_are_kept_apart_and_said() -> None:
    vm_cls = FACT_KINDS["virsh_domain"]
    a = vm_cls(vm="i-2-57-VM", vm_uuid=UUID, path="kvm01/virsh_dominfo.txt", line=2)
    b = vm_cls(vm="i-2-57-VM", vm_uuid="0b7c3e9a-1d2f-4a5b-8c6d-7e8f9a0b1c2d", path="kvm02/virsh_dominfo.txt", line=2)
    ids = Identities.learn([a, b])
    assert ids.vm(a) is not None and ids.vm(a).uuid == UUID
    assert ids.vm(b) is None  # not merged into the first, and no entity of its own to claim the instance name
    (said,) = ids.conflicts
    assert said.startswith("kvm02/virsh_dominfo.txt:2: VM ") and "kept apart" in said


def test_two_hosts_sharing_a_name_do_not_merge() -> None:
    ident = FACT_KINDS["host_identity"]
    ids = Identities.learn([ident(host_id=3, host_name="kvm01"), ident(host_id=9, host_name="kvm01")])
    assert ids.host_named(3) != ids.host_named(9)
    assert ids.host_named("kvm01") is None  # which one? nothing says


def test_fill_completes_host_and_vm_from_other_facts() -> None:
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"))
    agent_side = FACT_KINDS["libvirt_error"](host_name="kvm01", path="kvm01/agent.log", line=8)
    by_uuid = FACT_KINDS["api_call"](vm_uuid=UUID, command="scaleVirtualMachine", path="management-server.log", line=9)
    facts = [*mgmt, *api, *host, agent_side, by_uuid]
    Identities.learn(facts).fill(facts)
    assert agent_side.host_id == 3
    assert by_uuid.vm == "i-2-57-VM"


def test_the_engine_joins_a_host_named_by_ip_with_one_named_by_id(rules_dir) -> None:
    rules_dir("test.join.toml", rule_text("test.join", body='''condition = "capacity_check.outcome == 'insufficient_ram' and host_memory.available < 8GiB"
join = ["host"]
window = "1h"
message = "{capacity_check.host_id}: {host_memory.available|bytes} available on {host_memory.host_name}"
'''))
    ruleset = load_rules()
    assert ruleset.errors == []
    t0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    check = FACT_KINDS["capacity_check"](ts=t0, host_id=3, outcome="insufficient_ram", path="management-server.log", line=7)
    memory = FACT_KINDS["host_memory"](host_name="10.30.0.11", available=2 * 2**30, path="10.30.0.11/free.txt", line=2)
    _, api, _ = _facts()
    ident = FACT_KINDS["host_identity"](ts=t0 - timedelta(minutes=9), host_id=3, host_name="kvm01", path="management-server.log", line=1)
    assert [f for f in evaluate(ruleset, [check, memory]) if f.rule_id == "test.join"] == []  # nothing ties them
    joined = [f for f in evaluate(ruleset, [check, memory, ident, *api]) if f.rule_id == "test.join"]
    assert [f.message for f in joined] == ["3: 2.0 GiB available on 10.30.0.11"]


def test_the_correlator_keeps_one_session_for_a_call_by_uuid_and_a_job_by_instance_name() -> None:
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"))
    ids = Identities.learn([*mgmt, *api, *host])
    t0 = datetime(2025, 1, 2, 3, 0, tzinfo=timezone.utc)
    stop = Operation("stop", vm_uuid=UUID, first=t0, last=t0 + timedelta(seconds=20))
    change = Operation("change_offering", vm="i-2-57-VM", first=t0 + timedelta(minutes=1), last=t0 + timedelta(minutes=2))
    assert len(group_sessions([stop, change])) == 2  # by raw names: two VMs
    assert group_sessions([stop, change], ids) == [[stop, change]]


def test_the_analysis_scope_finds_a_vm_by_display_name_and_a_host_by_ip() -> None:
    other = "0b7c3e9a-1d2f-4a5b-8c6d-7e8f9a0b1c2d"
    mgmt, api, host = _facts(_api_vm(UUID, "i-2-57-VM", "web"), _api_vm(other, "i-2-58-VM", "db", host="kvm02",
                                                                              host_uuid="5d1e0c2b-7a9f-4e3d-8b6c-1f2e3d4c5b6a"))
    facts = [*mgmt, *api, *host]
    by_display = Scope(vm="web").apply(facts)
    assert {f.vm for f in by_display if f.vm} == {"i-2-57-VM"}
    assert any(f.kind == "agent_command" for f in by_display)  # the log line names it only as i-2-57-VM
    by_ip = Scope(host="10.30.0.11").apply(facts)
    assert any(f.kind == "host_identity" and f.host_id == 3 for f in by_ip)  # named `3(kvm01)` in the log
    assert not any(f.host_name == "kvm02" for f in by_ip)
