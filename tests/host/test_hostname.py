"""host_from_path: the folder a file was collected in names its host, unless the folder name is generic."""

from __future__ import annotations

import pytest

from diagnostics.host import host_from_path


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/cases/4711/kvm03/free.txt", "kvm03"),
        ("probe-20250310T1704/kvm03/host/free.txt", "kvm03"),
        ("/tmp/sosreport-kvm03-2025-03-10-xyzabc/sos_commands/memory/free_-m", "kvm03"),
        ("/x/sosreport-kvm03-01234567-2025-03-10-xyzabc/proc/meminfo", "kvm03"),  # with a case id
        ("/x/sosreport-kvm-node-03-2025-03-10-abc/sos_commands/kernel/dmesg", "kvm-node-03"),
        ("/x/sosreport-kvm03.12345-20180101123456/sos_commands/memory/free", "kvm03"),  # sos 3.x naming
        ("/evidence/10.1.2.3/dmesg.txt", "10.1.2.3"),
        ("/evidence/kvm03.example.com/lscpu", "kvm03.example.com"),
        ("/tmp/evidence/free.txt", None),
        ("/home/alice/tickets/free.txt", None),
        ("/tmp/pytest-of-root/pytest-3/test_x0/free.txt", None),
        ("/data/2025-03-10/free.txt", None),
        ("free.txt", None),
        ("", None),
    ],
)
def test_host_from_path(path, host):
    assert host_from_path(path) == host


def test_only_nearby_folders_count():
    # a host-like name far up the tree is where the user keeps files, not the evidence's host
    assert host_from_path("/srv/node-01/a/b/c/d/e/free.txt") is None


@pytest.mark.parametrize(("folder", "host"), [("kvm01_2222", "kvm01"), ("127.0.0.1_2222", "127.0.0.1"), ("my_notes_1", None)])
def test_probe_folder_with_custom_port(folder, host):
    assert host_from_path(f"/out/probe/{folder}/free-b.txt") == host
