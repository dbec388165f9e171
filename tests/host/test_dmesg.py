"""dmesg: OOM kills tied to the VM, thermal throttling, NIC resets, hung tasks, hotplug, boots - all prefixes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from diagnostics.host.dmesg import parse_dmesg, scan_dmesg, split_prefix, vm_from_cgroup

KiB = 1024


def events(path, kind=None):
    found = parse_dmesg(path.read_text()).events
    return [e for e in found if kind is None or e.event == kind]


def test_real_boot_log_has_one_boot_and_no_false_events(real):
    for name in ("dmesg.txt", "dmesg_-T.txt", "dmesg_iso.txt"):
        log = parse_dmesg((real / name).read_text())
        assert log.boots == 1
        assert log.events == []  # a healthy boot: zonelists built once, no link, no OOM


def test_real_timestamp_styles(real):
    assert parse_dmesg((real / "dmesg.txt").read_text()).clock == "monotonic"
    assert parse_dmesg((real / "dmesg_-T.txt").read_text()).clock == "ctime"
    assert parse_dmesg((real / "dmesg_iso.txt").read_text()).clock == "iso"


def test_modern_oom_kill_of_qemu_names_the_vm(formats):
    (kill,) = events(formats / "dmesg_el8_oom_qemu_then_reboot.txt", "oom_kill")
    assert (kill.process, kill.pid, kill.vm) == ("qemu-kvm", 23456, "i-2-42-VM")
    assert kill.invoker == "CPU 3/KVM"  # vCPU thread names contain spaces
    assert kill.scope == "global"
    assert kill.total_vm == 17345672 * KiB and kill.anon_rss == 16712340 * KiB
    assert kill.memcg.startswith("/machine.slice/machine-qemu\\x2d5")
    assert kill.line == 32 and kill.text.startswith("[1296413.106502] Out of memory: Killed process 23456")
    assert kill.uptime_s == pytest.approx(1296413.106502)
    assert kill.boot == 0


def test_reboot_inside_the_file_starts_boot_1(formats):
    log = parse_dmesg((formats / "dmesg_el8_oom_qemu_then_reboot.txt").read_text())
    assert log.boots == 2
    link = [e for e in log.events if e.event == "nic_link_up"][0]
    assert (link.boot, link.uptime_s, link.device, link.driver) == (1, pytest.approx(21.556701), "eno1", "ixgbe")


def test_reboot_detected_by_backwards_stamp_without_banner():
    log = parse_dmesg("[ 500.000000] a\n[ 900.100000] b\n[    2.000000] c\n[    3.000000] INFO: task qemu-kvm:7 blocked for more than 120 seconds.\n")
    assert log.boots == 2
    assert log.events[0].boot == 1 and log.events[0].pid == 7


def test_old_kill_process_score_line_and_killed_line_make_one_event(formats):
    (kill,) = events(formats / "dmesg_el7_oom_old_format.txt", "oom_kill")
    assert (kill.process, kill.pid, kill.oom_score, kill.invoker) == ("qemu-kvm", 40211, 912, "qemu-kvm")
    assert kill.total_vm == 17345672 * KiB  # from the "Killed process" line that follows
    assert kill.line == 7  # cited at "Out of memory: Kill process ... or sacrifice child"


def test_old_kill_line_without_follow_up_is_still_reported():
    log = parse_dmesg("[10.0] Out of memory: Kill process 99 (qemu-kvm) score 800 or sacrifice child\n")
    (kill,) = log.events
    assert (kill.event, kill.pid, kill.total_vm) == ("oom_kill", 99, None)


def test_memcg_oom_with_ctime_stamps(formats):
    (kill,) = events(formats / "dmesg_-T_memcg_oom.txt", "oom_kill")
    assert kill.scope == "memcg"
    assert (kill.process, kill.vm) == ("qemu-system-x86", "i-2-57-VM")
    assert kill.ts == datetime(2025, 3, 10, 17, 4, 10)  # host local time, no zone in `dmesg -T`
    assert kill.uptime_s is None


def test_thermal_throttle_new_wording_iso_stamps(formats):
    found = events(formats / "dmesg_iso_thermal.txt")
    throttles = [e for e in found if e.event == "thermal_throttle"]
    assert [(e.cpu, e.zone, e.count) for e in throttles] == [(14, "core", 87), (14, "package", 87), (42, "package", 87)]
    assert throttles[0].ts == datetime(2025, 3, 10, 17, 1, 55, 412001, tzinfo=timezone.utc)
    assert [e.event for e in found[3:]] == ["thermal_normal", "thermal_normal"]


def test_thermal_throttle_old_wording(formats):
    found = events(formats / "dmesg_el7_thermal_old.txt")
    assert [(e.event, e.zone, e.count) for e in found] == [
        ("thermal_throttle", "core", 1234),
        ("thermal_throttle", "package", 1234),
        ("thermal_normal", "core", None),
        ("thermal_normal", "package", None),
    ]


def test_nic_events_of_four_drivers_and_bonding(formats):
    found = [(e.event, e.driver, e.device) for e in events(formats / "dmesg_nic_and_hung.txt") if e.event.startswith("nic")]
    assert found == [
        ("nic_link_down", "ixgbe", "eno1"),
        ("nic_link_up", "ixgbe", "eno1"),
        ("nic_tx_timeout", "ixgbe", "eno2"),
        ("nic_reset", "ixgbe", "eno2"),
        ("nic_tx_timeout", "i40e", "ens2f1"),
        ("nic_tx_timeout", "i40e", "ens2f1"),
        ("nic_reset", "e1000e", "eno3"),  # Detected Hardware Unit Hang
        ("nic_reset", "e1000e", "eno3"),  # Reset adapter unexpectedly
        ("nic_tx_timeout", "e1000e", "eno3"),  # NETDEV WATCHDOG, old wording
        ("nic_link_down", "bnxt_en", "eno1np0"),
        ("nic_tx_timeout", "bnxt_en", "eno1np0"),
        ("nic_link_down", "bonding", "eno1np0"),
        ("nic_tx_timeout", "e1000e", "eno3"),  # NETDEV WATCHDOG, 6.x wording with device prefix
    ]


def test_hung_tasks(formats):
    hung = events(formats / "dmesg_el8_oom_qemu_then_reboot.txt", "hung_task") + events(
        formats / "dmesg_nic_and_hung.txt", "hung_task"
    )
    assert [(e.process, e.pid, e.blocked_s) for e in hung] == [("qemu-kvm", 19877, 120), ("kworker/u112:3", 8812, 122)]


def test_balloon_and_memory_onlined_after_boot(formats):
    found = events(formats / "dmesg_guest_balloon_hotplug.txt")
    assert [(e.event, e.device) for e in found] == [("balloon", "virtio3"), ("memory_online", None)]
    assert found[0].detail == "Out of puff! Can't get 1 pages"
    assert found[1].count == 4161379 and found[1].uptime_s == pytest.approx(7201.551024)


def test_syslog_kernel_lines_carry_the_host():
    text = (
        "Mar 10 17:04:10 kvm03 kernel: [8123.456789] Out of memory: Killed process 23456 (qemu-kvm) "
        "total-vm:17345672kB, anon-rss:16712340kB, file-rss:2048kB, shmem-rss:0kB\n"
        "Mar 10 17:04:11 kvm03 libvirtd[2210]: internal error: End of file from qemu monitor\n"
    )
    (kill,) = parse_dmesg(text).events
    assert (kill.host_name, kill.pid, kill.uptime_s) == ("kvm03", 23456, pytest.approx(8123.456789))


def test_facility_prefix_of_dmesg_x():
    line = split_prefix(1, "kern  :info  : [   21.556701] ixgbe 0000:3b:00.0 eno1: NIC Link is Down")
    assert line.message == "ixgbe 0000:3b:00.0 eno1: NIC Link is Down" and line.uptime_s == pytest.approx(21.556701)


def test_scan_streams_from_any_iterable(formats):
    with open(formats / "dmesg_nic_and_hung.txt", encoding="utf-8") as stream:
        streamed = list(scan_dmesg(stream, path="kvm01/dmesg", host="kvm01"))
    parsed = parse_dmesg((formats / "dmesg_nic_and_hung.txt").read_text()).events
    assert [(e.event, e.line) for e in streamed] == [(e.event, e.line) for e in parsed]
    assert {e.host_name for e in streamed} == {"kvm01"} and {e.path for e in streamed} == {"kvm01/dmesg"}


@pytest.mark.parametrize(
    ("cgroup", "vm"),
    [
        ("/machine.slice/machine-qemu\\x2d5\\x2di\\x2d2\\x2d42\\x2dVM.scope", "i-2-42-VM"),
        ("/machine.slice/machine-qemu\\x2d12\\x2dr\\x2d4\\x2dVM.scope/libvirt/emulator", "r-4-VM"),
        ("/machine.slice/machine-qemu\\x2d3\\x2di\\x2d2\\x2d42\\x2dweb01.scope", "i-2-42-web01"),
        ("/libvirt/qemu/i-2-42-VM", "i-2-42-VM"),
        ("/user.slice", None),
        (None, None),
    ],
)
def test_vm_from_cgroup(cgroup, vm):
    assert vm_from_cgroup(cgroup) == vm


def test_journal_short_iso_kernel_lines_carry_time_and_host():
    text = ("2025-03-10T17:04:10+0000 kvm03 kernel: Memory cgroup out of memory: Killed process 51234 (qemu-system-x86) "
            "total-vm:9874512kB, anon-rss:8290112kB, file-rss:20480kB, shmem-rss:4kB, UID:64055 pgtables:17120kB oom_score_adj:0\n")
    log = parse_dmesg(text)
    (kill,) = log.events
    assert kill.ts == datetime(2025, 3, 10, 17, 4, 10, tzinfo=timezone.utc)
    assert (kill.host_name, kill.scope, kill.anon_rss) == ("kvm03", "memcg", 8290112 * KiB)
    assert log.hosts == {"kvm03"}


def test_pending_old_style_kill_is_kept_across_a_reboot():
    text = "[900.000000] Out of memory: Kill process 99 (qemu-kvm) score 800 or sacrifice child\n[  1.000000] quiet boot line\n"
    log = parse_dmesg(text)
    assert [(e.event, e.pid, e.boot) for e in log.events] == [("oom_kill", 99, 0)]
    assert log.boots == 2
