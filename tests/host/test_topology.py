"""lscpu, numactl --hardware and virsh nodeinfo: what the host has, in the shape rules compare."""

from __future__ import annotations

from diagnostics.host.lscpu import lscpu_facts, parse_lscpu
from diagnostics.host.numactl import numactl_facts, parse_numactl
from diagnostics.host.virsh_nodeinfo import nodeinfo_facts, parse_nodeinfo

MiB = 1024**2


def test_real_lscpu_of_this_vm(real):
    (cpu,) = lscpu_facts(parse_lscpu((real / "lscpu.txt").read_text()))
    assert (cpu.cpus, cpu.sockets, cpu.cores_per_socket, cpu.threads_per_core) == (2, 1, 2, 1)
    assert cpu.vendor == "AuthenticAMD" and cpu.hypervisor_vendor == "KVM"
    assert cpu.hw_virtualization is False  # no svm flag inside this VM: it could not host KVM guests


def test_el7_flat_layout(formats):
    (cpu,) = lscpu_facts(parse_lscpu((formats / "lscpu_el7_xeon_2socket.txt").read_text()))
    assert (cpu.cpus, cpu.sockets, cpu.cores_per_socket, cpu.threads_per_core, cpu.numa_nodes) == (56, 2, 14, 2, 2)
    assert cpu.mhz == 2400.0 and cpu.max_mhz == 3300.0
    assert cpu.model == "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"
    assert cpu.virtualization == "VT-x" and cpu.hw_virtualization is True
    assert cpu.line == 4


def test_util_linux_237_indented_layout(formats):
    (cpu,) = lscpu_facts(parse_lscpu((formats / "lscpu_util-linux-2.37_nested.txt").read_text()))
    assert (cpu.cpus, cpu.sockets, cpu.cores_per_socket, cpu.threads_per_core, cpu.numa_nodes) == (64, 2, 16, 2, 2)
    assert cpu.model == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz" and cpu.virtualization == "VT-x"


def test_real_numactl_single_node(real):
    (node,) = numactl_facts(parse_numactl((real / "numactl_--hardware.txt").read_text()))
    assert (node.node, node.cpus, node.size, node.free, node.distances) == (0, (0, 1), 4058 * MiB, 3723 * MiB, (10,))


def test_two_nodes_one_exhausted(formats):
    out = parse_numactl((formats / "numactl_2node_node0_exhausted.txt").read_text())
    assert out.available == 2
    n0, n1 = numactl_facts(out, path="kvm03/numactl", host="kvm03")
    assert (n0.free, n1.free) == (1024 * MiB, 90112 * MiB)
    assert n0.size == 128825 * MiB and n0.distances == (10, 21) and n1.distances == (21, 10)
    assert len(n0.cpus) == 28 and n0.cpus[-1] == 41
    assert n0.host_name == "kvm03" and n0.line == 2


def test_memory_only_node_has_no_cpus():
    out = parse_numactl("available: 2 nodes (0-1)\nnode 0 cpus: 0 1\nnode 0 size: 1000 MB\nnode 0 free: 10 MB\n"
                        "node 1 cpus:\nnode 1 size: 2000 MB\nnode 1 free: 1500 MB\n")
    assert [(n.node, n.cpus, n.free) for n in out.nodes] == [(0, (0, 1), 10 * MiB), (1, (), 1500 * MiB)]


def test_virsh_nodeinfo(formats):
    (node,) = nodeinfo_facts(parse_nodeinfo((formats / "virsh_nodeinfo.txt").read_text()))
    assert (node.cpus, node.mhz, node.sockets, node.cores_per_socket, node.threads_per_core, node.numa_cells) == (
        56, 2400, 1, 14, 2, 2)
    assert node.memory == 263857820 * 1024 and node.cpu_model == "x86_64"
