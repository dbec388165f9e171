"""The allow-list's remote lines, run here through `sh -c` exactly as sshd would run them on a host."""

from __future__ import annotations

import gzip
import os
import subprocess
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.probe import CommandSpec, ProbeOptions, standard_commands
from diagnostics.probe.collect import wants_sudo
from diagnostics.probe.commands import agent_log_script, agent_properties_script, remote_command_line
from diagnostics.probe.options import parse_target
from diagnostics.probe.plan import plan_lines


def run_remote_line(line: str) -> subprocess.CompletedProcess:
    """What sshd does with an exec request: the login shell runs the line with -c."""
    return subprocess.run(["sh", "-c", line], capture_output=True, timeout=30)


def spec(script: str) -> CommandSpec:
    return CommandSpec(name="t", script=script, output="t.txt", timeout=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40))
def test_any_argument_reaches_the_remote_command_intact(argument):
    line = remote_command_line(spec('printf %s "$1"'), sudo=False, args=(argument,))
    assert run_remote_line(line).stdout == argument.encode("utf-8", "surrogateescape")


def test_the_remote_timeout_bounds_the_command():
    done = run_remote_line(remote_command_line(CommandSpec(name="t", script="sleep 20", output="t", timeout=1), sudo=False))
    assert done.returncode == 124


def test_sudo_wraps_the_timeout_so_root_processes_are_the_ones_killed():
    line = remote_command_line(spec("dmesg"), sudo=True)
    assert line.startswith("sudo -n -- timeout ")


AGENT_PROPERTIES = """\
#Storage
#Mon Mar 10 16:00:00 UTC 2025
guid=0b6e1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d
resource=com.cloud.hypervisor.kvm.resource.LibvirtComputingResource
host=10.20.0.5,10.20.0.6@roundrobin
port=8250
workers=5
keystore.passphrase=Sup3rS3cret
private.network.device=cloudbr0
hypervisor.type=kvm
vm.memballoon.disable=false
router.aggregation.command.each.timeout=600
#libvirt.password = old-secret
API_KEY: AbCdEf123
cluster.token   tok-987
"""


def test_agent_properties_lose_their_secret_values_on_the_host_and_keep_everything_else(tmp_path):
    source = tmp_path / "agent.properties"
    source.write_text(AGENT_PROPERTIES)

    done = run_remote_line(remote_command_line(spec(agent_properties_script(str(source))), sudo=False))

    assert done.returncode == 0
    text = done.stdout.decode()
    for secret in ("Sup3rS3cret", "old-secret", "AbCdEf123", "tok-987"):
        assert secret not in text
    for kept in ("keystore.passphrase=<redacted>", "#libvirt.password = <redacted>", "API_KEY: <redacted>", "cluster.token   <redacted>"):
        assert kept in text.splitlines()
    untouched = [line for line in AGENT_PROPERTIES.splitlines() if not any(word in line.lower() for word in ("pass", "key", "token"))]
    assert [line for line in text.splitlines() if line in untouched] == untouched


def log_line(moment: datetime, message: str, separator: str = " ") -> str:
    return moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S,") + f"{moment.microsecond // 1000:03d} INFO  [cloud.agent.Agent] (Agent-Handler-1:[]) (logid:) {message}\n"


def test_agent_log_keeps_records_inside_since_with_their_continuation_lines(tmp_path):
    now = datetime.now()  # log4j writes the host's local time; this machine is the host here
    log = tmp_path / "agent.log"
    log.write_text(
        log_line(now - timedelta(hours=5), "too old")
        + "java.lang.Exception: old trace\n\tat Old.frame(Old.java:1)\n"
        + log_line(now - timedelta(minutes=50), "log4j2 ISO8601 with T", separator="T")
        + "java.lang.Exception: new trace\n\tat New.frame(New.java:2)\n"
        + log_line(now - timedelta(minutes=1), "Lost connection to host: 10.20.0.5. Attempting reconnection while we still have 1 commands in progress.")
    )

    done = run_remote_line(remote_command_line(spec(agent_log_script(str(log), 3600, 1024 * 1024)), sudo=False))

    assert done.returncode == 0, done.stderr
    kept = done.stdout.decode().splitlines()
    assert not [line for line in kept if "too old" in line or "old trace" in line or "Old.frame" in line]
    assert kept[0].endswith("log4j2 ISO8601 with T") and kept[1:3] == ["java.lang.Exception: new trace", "\tat New.frame(New.java:2)"]
    assert kept[-1].endswith("commands in progress.")


def test_agent_log_reads_at_most_the_byte_cap_from_the_end(tmp_path):
    now = datetime.now()
    log = tmp_path / "agent.log"
    log.write_text("".join(log_line(now - timedelta(seconds=600 - i), f"record {i:04d}") for i in range(500)))
    cap = 10_000

    done = run_remote_line(remote_command_line(spec(agent_log_script(str(log), 3600, cap)), sudo=False))

    assert 0 < len(done.stdout) <= cap
    assert done.stdout.decode().splitlines()[-1].endswith("record 0499")
    assert all(line[:4].isdigit() for line in done.stdout.decode().splitlines())  # the cut first line is dropped


def test_a_rotation_inside_the_window_brings_in_the_rotated_file_oldest_first(tmp_path):
    now = datetime.now()
    folder = tmp_path / "agent"
    folder.mkdir()
    ancient = folder / "agent.log.2026-01-01.gz"
    ancient.write_bytes(gzip.compress(log_line(now - timedelta(days=300), "ancient file").encode()))
    os.utime(ancient, (now.timestamp() - 300 * 86400,) * 2)
    rotated = folder / f"agent.log.{(now - timedelta(days=1)):%Y-%m-%d}.gz"
    rotated.write_bytes(gzip.compress((log_line(now - timedelta(hours=3), "before the window") + log_line(now - timedelta(minutes=90), "rotated, inside the window")).encode()))
    os.utime(rotated, (now.timestamp() - 3600,) * 2)  # last written when it was rotated, an hour ago
    current = folder / "agent.log"
    current.write_text(log_line(now - timedelta(minutes=59), "current file") + "\tat Foo.bar(Foo.java:1)\n")

    done = run_remote_line(remote_command_line(spec(agent_log_script(str(current), 7200, 1024 * 1024)), sudo=False))

    assert done.returncode == 0, done.stderr
    messages = [line.split(") ", 2)[-1] for line in done.stdout.decode().splitlines()]
    assert messages == ["rotated, inside the window", "current file", "\tat Foo.bar(Foo.java:1)"]


def test_rotated_files_are_left_alone_when_agent_log_covers_the_window(tmp_path):
    now = datetime.now()
    rotated = tmp_path / "agent.log.1"
    rotated.write_text(log_line(now - timedelta(minutes=30), "should not be read"))
    current = tmp_path / "agent.log"
    current.write_text(log_line(now - timedelta(hours=3), "old") + log_line(now - timedelta(minutes=5), "recent"))

    done = run_remote_line(remote_command_line(spec(agent_log_script(str(current), 3600, 1024 * 1024)), sudo=False))

    assert done.stdout.decode().splitlines() == [log_line(now - timedelta(minutes=5), "recent").rstrip("\n")]


def test_an_unreadable_agent_log_fails_with_its_name_instead_of_an_empty_success(tmp_path):
    missing = tmp_path / "no" / "agent.log"
    done = run_remote_line(remote_command_line(spec(agent_log_script(str(missing), 3600, 1024)), sudo=False))
    assert done.returncode == 66 and str(missing) in done.stderr.decode()


def the_allow_list(capture_seconds: int = 10) -> tuple[CommandSpec, ...]:
    return standard_commands(
        since_seconds=7200, agent_properties_path="/etc/cloudstack/agent/agent.properties",
        agent_log_path="/var/log/cloudstack/agent/agent.log", agent_log_bytes=1024 * 1024,
        capture_seconds=capture_seconds, capture_port=8250, capture_bytes=1024 * 1024,
    )


def test_the_allow_list_is_bounded_and_writes_only_plain_file_names():
    specs = the_allow_list()
    assert len({s.name for s in specs}) == len(specs) == len({s.output for s in specs})
    for each in specs:
        assert each.timeout > 0 and each.byte_cap > 0
        assert "/" not in each.output and not each.output.startswith(".")
    assert [s.name for s in the_allow_list(0)] == [s.name for s in specs if not s.remote_file]


def test_root_only_commands_use_sudo_only_for_a_non_root_login_with_working_sudo():
    dmesg = next(s for s in the_allow_list() if s.name == "dmesg")
    free = next(s for s in the_allow_list() if s.name == "free_b")
    assert wants_sudo(dmesg, forced=False, remote_uid=1000, sudo_available=True)
    assert not wants_sudo(free, forced=False, remote_uid=1000, sudo_available=True)
    assert wants_sudo(free, forced=True, remote_uid=1000, sudo_available=True)
    assert not wants_sudo(dmesg, forced=True, remote_uid=0, sudo_available=True)
    assert not wants_sudo(dmesg, forced=True, remote_uid=1000, sudo_available=False)


def test_no_password_ever_appears_in_a_remote_line():
    options = ProbeOptions(password="pa55-w0rd", capture_seconds=5)
    lines = plan_lines(parse_target("kvm01", "root", 22), options)
    assert lines and not [line for line in lines if "pa55-w0rd" in line]
