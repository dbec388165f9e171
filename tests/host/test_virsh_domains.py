"""virsh dominfo and virsh list --all: the libvirt view of CloudStack VMs."""

from __future__ import annotations

from diagnostics.host.virsh_dominfo import dominfo_facts, parse_dominfo
from diagnostics.host.virsh_list import parse_virsh_list, virsh_list_facts

GiB = 1024**3


def test_running_domain(formats):
    (dom,) = dominfo_facts(parse_dominfo((formats / "virsh_dominfo_running.txt").read_text()), host="kvm01")
    assert (dom.vm, dom.domain_id, dom.state, dom.cpus) == ("i-2-42-VM", 5, "running", 4)
    assert dom.vm_uuid == "8a3e4c5b-6f7d-4e21-9b0a-1c2d3e4f5a6b"
    assert dom.max_memory == dom.used_memory == 8 * GiB
    assert (dom.persistent, dom.autostart, dom.managed_save) == (False, False, False)  # CloudStack domains are transient
    assert dom.cpu_time_s == 123456.7 and dom.host_name == "kvm01" and dom.line == 2


def test_shut_off_domain_has_no_id(formats):
    (dom,) = dominfo_facts(parse_dominfo((formats / "virsh_dominfo_shutoff.txt").read_text()))
    assert (dom.domain_id, dom.state, dom.persistent, dom.max_memory) == (None, "shut off", True, 4 * GiB)


def test_list_all_states(formats):
    rows = virsh_list_facts(parse_virsh_list((formats / "virsh_list_--all.txt").read_text()))
    assert [(r.domain_id, r.vm, r.state) for r in rows] == [
        (5, "i-2-42-VM", "running"), (7, "r-4-VM", "running"), (9, "i-3-58-VM", "paused"),
        (None, "i-2-43-VM", "shut off"), (None, "v-2-VM", "shut off"),
    ]
    assert [r.line for r in rows] == [3, 4, 5, 6, 7]


def test_list_old_libvirt_spacing(formats):
    rows = parse_virsh_list((formats / "virsh_list_--all_libvirt-1.x.txt").read_text())
    assert [(r.domain_id, r.name, r.state) for r in rows] == [(5, "i-2-42-VM", "running"), (None, "i-2-43-VM", "shut off")]


def test_rows_before_a_header_are_ignored():
    assert parse_virsh_list(" 5    i-2-42-VM     running\n") == []
