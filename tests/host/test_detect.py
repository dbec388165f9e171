"""Content detection: each recorded output is recognised by what it says, whatever its file is called."""

from __future__ import annotations

import pytest

from diagnostics.host import detect_kind
from diagnostics.host.detect import KINDS
from conftest import DATA

# the kind each recorded file must be detected as (the name is only used to look it up here)
EXPECTED = {
    "free": "free", "proc_meminfo": "meminfo", "dmesg": "dmesg", "sensors": "sensors", "lscpu": "lscpu",
    "numactl": "numactl", "virsh_nodeinfo": "virsh_nodeinfo", "virsh_dominfo": "virsh_dominfo",
    "virsh_list": "virsh_list", "uptime": "uptime", "ksm": "ksm",
}
FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")


def expected_kind(name: str) -> str:
    return next(kind for prefix, kind in sorted(EXPECTED.items(), key=lambda kv: -len(kv[0])) if name.startswith(prefix))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_output_is_detected(path):
    assert detect_kind(path.read_text(encoding="utf-8")) == expected_kind(path.name)


def test_every_kind_has_a_recorded_sample():
    assert {expected_kind(p.name) for p in FILES} == set(KINDS)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "2025-03-10 17:04:10,123 DEBUG [c.c.c.CapacityManagerImpl] (Job-Executor-1:ctx-1a2b3c4d job-1234) "
        "Checking if host: 3 has enough capacity for requested CPU: 4000 and requested RAM: 8589934592",
        "2025-03-10 17:04:10,456 INFO  [kvm.resource.LibvirtComputingResource] (agentRequest-Handler-4:null) starting\n" * 3,
        '{"jobid": "abc", "jobstatus": 2}',
        "Name: alice\nState: happy\n",
        "hello world",
    ],
)
def test_other_text_is_not_host_evidence(text):
    assert detect_kind(text) is None


def test_sosreport_free_without_header_line_is_not_guessed():
    assert detect_kind("Mem:  1 2 3\n") is None


def test_single_pasted_kernel_line_is_dmesg():
    assert detect_kind("[8123.456789] Out of memory: Killed process 23456 (qemu-kvm) total-vm:1kB, anon-rss:1kB") == "dmesg"


def test_syslog_with_some_kernel_lines_is_dmesg():
    text = "Mar 10 17:04:09 kvm03 libvirtd[2210]: x\nMar 10 17:04:09 kvm03 sshd[1]: y\nMar 10 17:04:10 kvm03 kernel: z\n"
    assert detect_kind(text) == "dmesg"
