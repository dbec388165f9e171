"""API answers in, the pre-joined scale request out: the checks CloudStack makes before a live offering change."""

from __future__ import annotations

import json
from typing import Any

from cloudstack_fake import LARGE_UUID, SMALL_UUID, default_data
from diagnostics.api import facts_from_api_text
from diagnostics.model.api_facts import ApiScaleRequest


def answers(data: dict[str, Any], scale_to: str | None = LARGE_UUID, zone_flag: str | None = None) -> str:
    """The answers as apilog.log would show them: the query, then CloudStack's JSON."""
    envelopes = {"listVirtualMachines": "virtualmachine", "listServiceOfferings": "serviceoffering",
                 "listHosts": "host", "listResourceLimits": "resourcelimit", "listAccounts": "account"}
    vm = data["listVirtualMachines"]["virtualmachine"][:1]
    blocks = []
    if scale_to:
        blocks.append(f"command=scaleVirtualMachine&id={vm[0]['id']}&serviceofferingid={scale_to}&response=json")
    for command, key in envelopes.items():
        items = vm if command == "listVirtualMachines" else data[command][key]
        blocks.append(json.dumps({f"{command.lower()}response": {"count": len(items), key: items}}))
    if zone_flag is not None:
        blocks.append(f"command=listConfigurations&name=enable.dynamic.scale.vm&zoneid={vm[0]['zoneid']}")
        blocks.append(json.dumps({"listconfigurationsresponse": {"count": 1, "configuration": [
            {"category": "Advanced", "name": "enable.dynamic.scale.vm", "value": zone_flag, "scope": "zone"}]}}))
    return "\n".join(blocks) + "\n"


def request_of(text: str) -> ApiScaleRequest:
    (request,) = [f for f in facts_from_api_text(text, path="apilog.txt") if isinstance(f, ApiScaleRequest)]
    return request


def test_a_plain_scale_up_passes_every_check() -> None:
    request = request_of(answers(default_data(), zone_flag="true"))
    assert (request.vm, request.vm_state, request.current_offering, request.requested_offering) == (
        "i-2-42-VM", "Running", "Medium", "Large")
    assert (request.cpu_delta, request.speed_delta, request.memory_delta) == (2, 0, 4 * 1024**3)
    assert request.is_downgrade is False and request.dynamic_scale_setting is True
    assert request.hosts_matching_tags == 1  # kvm02 carries "ssd"
    assert (request.memory_headroom, request.exceeds_memory_limit, request.exceeds_cpu_limit) == (4096, False, False)


def test_downgrade_while_running_is_flagged() -> None:
    request = request_of(answers(default_data(), scale_to=SMALL_UUID))
    assert request.is_downgrade is True and request.memory_delta == -3 * 1024**3


def test_same_size_is_also_refused_live() -> None:
    data = default_data()
    data["listServiceOfferings"]["serviceoffering"][2].update(cpunumber=2, memory=4096)
    assert request_of(answers(data)).is_downgrade is True


def test_zone_setting_off_and_vm_without_tools_are_carried() -> None:
    data = default_data()
    data["listVirtualMachines"]["virtualmachine"][0]["isdynamicallyscalable"] = False
    request = request_of(answers(data, zone_flag="false"))
    assert (request.dynamic_scale_setting, request.is_dynamically_scalable) == (False, False)


def test_no_enabled_host_carries_the_requested_tags() -> None:
    data = default_data()
    data["listHosts"]["host"][1]["resourcestate"] = "Maintenance"  # the only "ssd" host
    request = request_of(answers(data))
    assert request.requested_host_tags == ("ssd",) and request.hosts_matching_tags == 0


def test_account_memory_limit_too_small_for_the_difference() -> None:
    data = default_data()
    data["listAccounts"]["account"][0].update(memorytotal=38912, memoryavailable="2048")
    request = request_of(answers(data))
    assert (request.memory_headroom, request.exceeds_memory_limit) == (2048, True)


def test_without_a_requested_offering_there_are_no_deltas() -> None:
    request = request_of(answers(default_data(), scale_to=None))
    assert request.requested_offering is None and request.memory_delta is None and request.is_downgrade is None
    assert request.hosts_matching_tags is None


def test_broken_blocks_are_skipped_and_the_rest_is_read() -> None:
    text = '{"listhostsresponse": {"count": 1, "host": [{"name": "kvm01"\n' + answers(default_data())
    facts = facts_from_api_text(text)
    assert [f.host_name for f in facts if f.kind == "api_host"] == ["kvm01", "kvm02"]
    kvm01 = next(f for f in facts if f.kind == "api_host")
    assert kvm01.line == text.splitlines().index(next(l for l in text.splitlines() if "kvm02" in l)) + 1
