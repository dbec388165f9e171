"""The exception taxonomy and `Caused by:` chains."""

from __future__ import annotations

import pytest

from diagnostics.catalogue import load_catalogue

CAT = load_catalogue()


@pytest.mark.parametrize(("name", "family", "category"), [
    ("InsufficientServerCapacityException", "capacity", "insufficient_capacity"),
    ("com.cloud.exception.InsufficientAddressCapacityException", "capacity", "network"),
    ("InsufficientVirtualNetworkCapacityException", "capacity", "network"),
    ("ResourceAllocationException", "limit", "resource_limit"),
    ("AgentUnavailableException", "unavailable", "agent_connectivity"),
    ("OperationTimedoutException", "timeout", "agent_connectivity"),
    ("StorageUnavailableException", "unavailable", "storage"),
    ("ConcurrentOperationException", "concurrency", "concurrency"),
    ("PermissionDeniedException", "permission", "permission"),
    ("InvalidParameterValueException", "invalid_parameter", "invalid_parameter"),
    ("org.libvirt.LibvirtException", "hypervisor", "hypervisor"),
    ("CloudRuntimeException", "generic", "other"),
])
def test_exception_classes_have_their_family(name, family, category) -> None:
    entry = CAT.exception_class(name)
    assert entry is not None, name
    assert (entry["family"], entry["category"]) == (family, category)


def test_the_hierarchy_is_read_from_the_source() -> None:
    assert CAT.exception_class("InsufficientAddressCapacityException")["parent"] == "InsufficientNetworkCapacityException"
    assert CAT.exception_class("AgentUnavailableException")["parent"] == "ResourceUnavailableException"
    assert CAT.exception_class("InsufficientServerCapacityException")["scope"].startswith("zone, pod, cluster or host")


@pytest.mark.parametrize(("chain", "category"), [
    (["com.cloud.utils.exception.CloudRuntimeException", "com.cloud.exception.AgentUnavailableException"], "agent_connectivity"),
    (["com.cloud.exception.InsufficientServerCapacityException"], "insufficient_capacity"),
    (["CloudRuntimeException", "ExecutionException"], "other"),
    (["com.cloud.exception.ResourceUnavailableException", "com.cloud.exception.StorageUnavailableException"], "storage"),
    (["java.lang.IllegalStateException", "org.libvirt.LibvirtException"], "hypervisor"),
    (["com.example.Unknown"], None),
    ([], None),
])
def test_a_caused_by_chain_takes_its_most_specific_category(chain, category) -> None:
    assert CAT.classify_chain(chain) == category
