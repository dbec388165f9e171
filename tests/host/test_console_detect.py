"""A guest's serial console is not the host's dmesg: recognised by what only a console prints, attributed to the guest."""

from __future__ import annotations

import pytest

from diagnostics.host import facts_from_text
from diagnostics.host.detect import console_markers, detect_kind, is_guest_console
from diagnostics.host.dmesg import parse_console

BOOT_LOOP = """\
SeaBIOS (version 1.16.0-4.module_el8)
Machine UUID 9c0e4a11-2b3c-4d5e-8f90-a1b2c3d4e5f6
Booting from Hard Disk...
Probing EDD (edd=off to disable)... ok
[    0.000000] Linux version 5.14.0-362.8.1.el9_3.x86_64 (mockbuild@x86-64-01) #1 SMP PREEMPT_DYNAMIC
[    0.000000] Command line: BOOT_IMAGE=(hd0,msdos1)/vmlinuz root=/dev/vda1 console=ttyS0,115200n8
[    0.000000] Hypervisor detected: KVM
[   12.345678] Out of memory: Killed process 812 (java) total-vm:4194304kB, anon-rss:3145728kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:8000kB oom_score_adj:0
[  OK  ] Started Journal Service.
SeaBIOS (version 1.16.0-4.module_el8)
Booting from Hard Disk...
[    0.000000] Linux version 5.14.0-362.8.1.el9_3.x86_64 (mockbuild@x86-64-01) #1 SMP PREEMPT_DYNAMIC
[    2.100000] systemd[1]: Detected virtualization kvm.
[  OK  ] Reached target Multi-User System.

Rocky Linux 9.3 (Blue Onyx)
Kernel 5.14.0-362.8.1.el9_3.x86_64 on an x86_64

web01 login: """

HOST_DMESG = """\
[    0.000000] Linux version 4.18.0-513.5.1.el8_9.x86_64 (mockbuild@dal1-prod-builder001.bld.equ.rockylinux.org)
[    0.000000] Command line: BOOT_IMAGE=(hd0,gpt2)/vmlinuz root=/dev/mapper/rl-root console=tty0 console=ttyS1,115200
[    0.412345] printk: console [ttyS1] enabled
[ 8123.456789] Out of memory: Killed process 23456 (qemu-kvm) total-vm:17345672kB, anon-rss:16712340kB, file-rss:2048kB, shmem-rss:0kB, UID:107 pgtables:33500kB oom_score_adj:0
"""


@pytest.mark.parametrize("section, name, pattern, example", [
    (section, name, pattern, example)
    for section, entries in console_markers().items()
    for name, pattern, examples in entries
    for example in examples
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_every_marker_matches_its_examples(section, name, pattern, example):
    assert pattern.match(example), (section, name)


def test_a_boot_loop_on_the_console_is_a_guest_console_with_its_boots_and_stage():
    assert detect_kind(BOOT_LOOP) == "guest_console"
    summary = parse_console(BOOT_LOOP)
    assert (summary.boots, summary.stage, summary.guest) == (2, "login prompt", "web01")
    assert [e.event for e in summary.kernel_events] == ["oom_kill"]  # the guest's OOM, kept in the guest's summary


def test_the_guest_console_gives_no_host_facts():
    assert facts_from_text(BOOT_LOOP) == []


def test_a_host_kernel_on_a_serial_console_is_still_the_hosts_dmesg():
    """IPMI serial-over-LAN hosts log `console [ttyS1] enabled` too; without a VM's kernel it stays host evidence."""
    assert detect_kind(HOST_DMESG) == "dmesg"
    facts = facts_from_text(HOST_DMESG, host="kvm03")
    assert [f.event for f in facts] == ["oom_kill"] and facts[0].host_name == "kvm03"


def test_a_kernel_restart_without_firmware_lines_counts_as_another_boot():
    text = "[    0.000000] console [ttyS0] enabled\n[    0.100000] DMI: QEMU Standard PC (i440FX + PIIX, 1996)\n" \
           "[   35.000000] reboot: Restarting system\n[    0.000000] console [ttyS0] enabled\n"
    assert is_guest_console(text.splitlines())
    assert parse_console(text).boots == 2


@pytest.mark.parametrize("text", [
    "Password: \n",  # one console-looking line alone says nothing
    "[  OK  ] Started Journal Service.\n",
    "[    0.000000] Linux version 5.15.0-105-generic\n[    1.402211] virtio_balloon virtio3: Out of puff! Can't get 1 pages\n",
])
def test_a_single_weak_sign_is_not_a_console(text):
    assert detect_kind(text) != "guest_console"


def test_analysis_names_the_guest_console_in_a_note_without_calling_the_input_incomplete(tmp_path):
    from datetime import timezone

    from diagnostics.pipeline import collect

    path = tmp_path / "kvm03" / "console.log"
    path.parent.mkdir()
    path.write_text(BOOT_LOOP, encoding="utf-8")
    out = collect([str(path)], tz=timezone.utc)
    assert out.facts == [] and out.errors == []  # no host fact from the guest's kernel, nothing missing either
    assert any("web01" in n and "attributed to the guest" in n and str(path) in n for n in out.notes)
