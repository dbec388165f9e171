"""The probe against a real OpenSSH sshd on loopback: what lands in the output folder is what the host said."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from diagnostics.cli.probe import exit_code
from diagnostics.cli.common import ExitCode
from diagnostics.probe import CommandSpec, read_probe_folder, read_probe_run, run_probe, standard_commands
from diagnostics.probe.collect import specs_for


pytestmark = pytest.mark.sshd


def only(options, *names: str) -> tuple[CommandSpec, ...]:
    specs = {spec.name: spec for spec in specs_for(options)}
    return tuple(specs[name] for name in names)


def no_partial_files(folder: Path) -> bool:
    return not [path for path in folder.rglob("*") if path.name.endswith(".partial")]


def ssh_keygen_fingerprint(public_key: Path) -> str:
    listed = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)], capture_output=True, text=True, check=True, timeout=20)
    return listed.stdout.split()[1]


def test_happy_path_collects_real_command_output_and_a_complete_manifest(sshd, options, tmp_path):
    Path(options.agent_properties_path).write_text(
        "guid=0b6e1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d\nhost=10.20.0.5@roundrobin\nport=8250\n"
        "keystore.passphrase=Sup3rS3cret\n#router.password=hunter2\nworkers=5\n"
    )
    now = datetime.now()
    old, new = (now - timedelta(hours=3)), (now - timedelta(minutes=5))
    stamp = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S,123")  # noqa: E731  (log4j2 local time, no zone)
    Path(options.agent_log_path).write_text(
        f"{stamp(old)} INFO  [cloud.agent.Agent] (main:[]) (logid:) old record\n"
        f"{stamp(new)} ERROR [resource.wrapper.LibvirtScaleVmCommandWrapper] (AgentRequest-Handler-2:[]) (logid:9c0e4a11) Unable to scale VM\n"
        "java.lang.Exception: boom\n\tat Foo.bar(Foo.java:1)\n"
    )
    options = dataclasses.replace(options, since_seconds=3600)

    [result] = run_probe([sshd.target], options)

    assert result.status in ("ok", "partial"), result.error
    folder = options.out / "127.0.0.1_{}".format(sshd.port)
    assert result.folder == folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["host"] == sshd.target and manifest["port"] == sshd.port and manifest["user"] == "root"
    assert manifest["host_key"]["fingerprint"] == ssh_keygen_fingerprint(sshd.host_key.with_suffix(".pub"))
    assert manifest["remote_uid"] == 0
    # Same machine: the true offset is 0, so the estimate must lie within its own uncertainty (+ scheduling noise),
    # and reading the clock through one running command keeps that bracket far below a fresh exec's cost.
    assert 0 < manifest["clock"]["uncertainty_s"] < 0.05
    assert abs(manifest["clock"]["offset_s"]) <= manifest["clock"]["uncertainty_s"] + 0.005
    readings = [float(line) for line in (folder / "date.txt").read_text().splitlines()]
    assert len(readings) == 5 and readings == sorted(readings)
    by_name = {entry["name"]: entry for entry in manifest["commands"]}
    assert list(by_name) == [spec.name for spec in specs_for(options)]
    for entry in manifest["commands"]:
        assert set(entry) >= {"name", "command", "rc", "duration_s", "bytes", "truncated", "timed_out", "start", "end", "stderr_excerpt", "output"}
        if entry["output"]:
            assert (folder / entry["output"]).stat().st_size == entry["bytes"]
    # free -b really is free's: its total is MemTotal (kB) * 1024.
    assert by_name["free_b"]["status"] == "ok" and by_name["free_b"]["rc"] == 0
    mem_line = next(line for line in (folder / "free-b.txt").read_text().splitlines() if line.startswith("Mem:"))
    mem_total_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")).split()[1])
    assert int(mem_line.split()[1]) == mem_total_kb * 1024
    assert (folder / "meminfo.txt").read_text().startswith("MemTotal:")
    # Secrets were removed on the host; the key names survive.
    properties = (folder / "agent.properties").read_text()
    assert "Sup3rS3cret" not in properties and "hunter2" not in properties
    assert "keystore.passphrase=<redacted>" in properties and "host=10.20.0.5@roundrobin" in properties
    # Only the records inside --since, continuation lines included.
    agent_log = (folder / "agent.log").read_text()
    assert "old record" not in agent_log
    assert "Unable to scale VM" in agent_log and "\tat Foo.bar(Foo.java:1)" in agent_log
    # What a failed command left: rc and stderr recorded, no empty output file.
    if by_name["sensors"]["status"] == "failed":
        assert by_name["sensors"]["rc"] != 0 and by_name["sensors"]["stderr_excerpt"]
    assert no_partial_files(options.out)

    probe_folder = read_probe_folder(folder)
    assert probe_folder is not None and probe_folder.host == sshd.target
    assert probe_folder.files["free_b"] == folder / "free-b.txt"
    assert probe_folder.clock_offset_s == pytest.approx(manifest["clock"]["offset_s"])
    assert [found.path for found in read_probe_run(options.out)] == [folder]
    top = json.loads((options.out / "manifest.json").read_text())
    assert [(host["host"], host["status"]) for host in top["hosts"]] == [(sshd.target, result.status)]
    assert top["settings"]["since_seconds"] == 3600 and top["settings"]["commands"] == list(by_name)


def test_a_changed_host_key_is_refused_even_with_accept_new(sshd, options, tmp_path, make_key):
    impostor = make_key(tmp_path / "impostor")
    kind, blob = impostor.with_suffix(".pub").read_text().split()[:2]
    options.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n")

    for accept in (False, True):
        [result] = run_probe([sshd.target], dataclasses.replace(options, accept_new_host_key=accept))
        assert result.status == "refused"
        assert result.error.startswith(f"{sshd.target}: host key CHANGED")
        assert ssh_keygen_fingerprint(sshd.host_key.with_suffix(".pub")) in result.error
        assert ssh_keygen_fingerprint(impostor.with_suffix(".pub")) in result.error
        assert result.commands == []
        assert exit_code([result]) == ExitCode.UNKNOWN
    assert options.known_hosts.read_text() == f"[127.0.0.1]:{sshd.port} {kind} {blob}\n"


def test_an_unknown_host_key_is_refused_unless_accepted_then_remembered(sshd, options):
    options.known_hosts.unlink()
    quick = dataclasses.replace(options, commands=only(options, "date"))
    fingerprint = ssh_keygen_fingerprint(sshd.host_key.with_suffix(".pub"))

    [refused] = run_probe([sshd.target], quick)
    assert refused.status == "refused" and fingerprint in refused.error and "--accept-new-host-key" in refused.error
    assert refused.error.startswith(f"{sshd.target}: unknown host key ssh-ed25519 {fingerprint}")
    assert not options.known_hosts.exists()

    [accepted] = run_probe([sshd.target], dataclasses.replace(quick, accept_new_host_key=True))
    assert accepted.status == "ok" and accepted.accepted_new_host_key
    assert options.known_hosts.read_text() == sshd.known_hosts_line()

    [again] = run_probe([sshd.target], quick)
    assert again.status == "ok" and not again.accepted_new_host_key


def test_a_hung_command_times_out_and_the_next_one_still_runs(sshd, options):
    hung = CommandSpec(name="hang", script="sleep 30", output="hang.txt", timeout=1)
    options = dataclasses.replace(options, commands=(hung, *only(options, "uptime")))

    started = time.monotonic()
    [result] = run_probe([sshd.target], options)

    assert time.monotonic() - started < 15
    hang, uptime = result.commands
    assert hang.status == "timed_out" and hang.timed_out and hang.rc == 124
    assert 0.9 <= hang.duration_s < 10
    assert uptime.status == "ok" and "load average" in (result.folder / "uptime.txt").read_text()
    assert result.status == "partial" and exit_code([result]) == ExitCode.WARNING


def local_output(script: str) -> bytes:
    return subprocess.run(["sh", "-c", script], capture_output=True, check=True, timeout=30).stdout


def test_more_than_4_mib_on_stdout_and_stderr_does_not_deadlock(sshd, options):
    noisy = "head -c 5000000 /dev/zero | base64"
    expected = local_output(noisy)
    assert len(expected) > 4 * 1024 * 1024
    # After a flood on stderr sshd sends the exit status before the last stdout bytes: they must still arrive.
    stderr_floods = tuple(
        CommandSpec(name=f"big_stderr_{n}", script=f"{noisy} >&2; echo done", output=f"big-stderr-{n}.txt", timeout=30) for n in range(3)
    )
    specs = (CommandSpec(name="big", script=noisy, output="big.txt", timeout=30, byte_cap=16 * 1024 * 1024), *stderr_floods)

    [result] = run_probe([sshd.target], dataclasses.replace(options, commands=specs))

    big, *floods = result.commands
    assert big.status == "ok" and big.rc == 0 and not big.truncated
    assert big.bytes == len(expected) and (result.folder / "big.txt").read_bytes() == expected
    for flood in floods:
        assert flood.status == "ok" and (result.folder / flood.output).read_bytes() == b"done\n"


def test_output_beyond_the_byte_cap_is_cut_and_marked_truncated(sshd, options):
    cap = 1024 * 1024
    spec = CommandSpec(name="big", script="head -c 5000000 /dev/zero | base64", output="big.txt", timeout=30, byte_cap=cap)

    [result] = run_probe([sshd.target], dataclasses.replace(options, commands=(spec,)))

    [big] = result.commands
    assert big.truncated and big.status == "truncated" and not big.failed
    assert big.bytes == cap and (result.folder / "big.txt").stat().st_size == cap
    assert (result.folder / "big.txt").read_bytes() == local_output("head -c 5000000 /dev/zero | base64")[:cap]


@pytest.mark.usefixtures("dmesg_restricted")
def test_a_non_root_user_who_may_not_read_dmesg_is_recorded_not_fatal(sshd, options, probe_user):
    options = dataclasses.replace(options, user=probe_user.pw_name, commands=only(options, "dmesg", "free_b"))

    [result] = run_probe([sshd.target], options)

    assert result.remote_uid == probe_user.pw_uid
    dmesg, free_b = result.commands
    assert dmesg.status == "failed" and dmesg.rc not in (0, None) and not dmesg.sudo
    assert "Operation not permitted" in dmesg.stderr_excerpt
    assert dmesg.output is None and not (result.folder / "dmesg.txt").exists()
    assert result.sudo_available is False and "sudo -n unavailable" in result.sudo_note
    assert free_b.status == "ok"
    assert result.status == "partial"


def capture_through_the_probe(sshd, options):
    """Generate TCP traffic on a loopback port while the probe's tcpdump spec captures it: (result, port)."""
    import shutil
    import socket
    import threading

    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed (apt-get install tcpdump)")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    capture = next(spec for spec in standard_commands(
        since_seconds=60, agent_properties_path="/x", agent_log_path="/x", agent_log_bytes=1024,
        capture_seconds=3, capture_port=port, capture_bytes=1024 * 1024,
    ) if spec.remote_file)
    stop = threading.Event()

    def heartbeat_traffic() -> None:
        peer, _ = server.accept()
        with peer:
            while not stop.is_set():
                peer.recv(4096)

    def client() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            while not stop.wait(0.2):
                sock.sendall(b"ping")

    for thread in (threading.Thread(target=heartbeat_traffic, daemon=True), threading.Thread(target=client, daemon=True)):
        thread.start()
    try:
        [result] = run_probe([sshd.target], dataclasses.replace(options, commands=(capture,)))
    finally:
        stop.set()
        server.close()
    return result, port


def assert_captured_and_cleaned_up(result, port: int) -> None:
    from scapy.layers.inet import TCP
    from scapy.utils import PcapReader

    [taken] = result.commands
    assert taken.status == "ok", taken
    assert taken.rc == 124 and not taken.timed_out  # stopped by the remote `timeout`, as planned
    pcap = result.folder / taken.output
    assert taken.bytes == pcap.stat().st_size > 24
    with PcapReader(str(pcap)) as packets:
        ports = [(packet[TCP].sport, packet[TCP].dport) for packet in packets if packet.haslayer(TCP)]
    assert ports and all(port in pair for pair in ports)
    remote_file = Path(taken.note.split(" to ", 1)[1].split(",", 1)[0])
    assert remote_file.name == taken.output and remote_file.parent.name.startswith("csdiag-probe.")
    assert not remote_file.parent.exists()  # the host keeps nothing


@pytest.mark.root
def test_a_real_tcpdump_capture_on_loopback_is_fetched_and_removed_from_the_host(sshd, options):
    result, port = capture_through_the_probe(sshd, options)
    assert_captured_and_cleaned_up(result, port)


@pytest.mark.root
def test_a_non_root_login_captures_through_sudo(sshd, options, passwordless_sudo):
    result, port = capture_through_the_probe(sshd, dataclasses.replace(options, user=passwordless_sudo.pw_name))
    assert result.commands[0].sudo
    assert_captured_and_cleaned_up(result, port)


def test_an_unreachable_host_is_one_line_and_the_other_host_is_still_probed(sshd, options, closed_port):
    dead = f"127.0.0.1:{closed_port}"
    options = dataclasses.replace(options, commands=only(options, "date", "free_b"))

    results = run_probe([dead, sshd.target], options)

    unreachable, reached = results
    assert unreachable.status == "unreachable" and unreachable.host == dead
    assert unreachable.error.startswith(f"{dead}: unreachable") and "\n" not in unreachable.error
    assert reached.status == "ok" and [command.status for command in reached.commands] == ["ok", "ok"]
    assert exit_code(results) == ExitCode.UNKNOWN
    top = json.loads((options.out / "manifest.json").read_text())
    assert [host["status"] for host in top["hosts"]] == ["unreachable", "ok"]


def test_a_wrong_client_key_is_refused_in_one_line(sshd, options, tmp_path, make_key):
    stranger = make_key(tmp_path / "stranger")

    [result] = run_probe([sshd.target], dataclasses.replace(options, identity=stranger, commands=only(options, "date")))

    assert result.status == "refused" and "authentication failed for user root" in result.error
    assert result.error.startswith(sshd.target) and "\n" not in result.error


def test_hosts_behind_a_jump_host_are_reached_through_it(sshd, sshd_factory, options):
    inner = sshd_factory.start("127.0.0.2")
    options.known_hosts.write_text(sshd.known_hosts_line() + inner.known_hosts_line())

    [result] = run_probe([inner.target], dataclasses.replace(options, jump=sshd.target, commands=only(options, "date")))

    assert result.status == "ok", result.error
    assert result.host_key_fingerprint == ssh_keygen_fingerprint(inner.host_key.with_suffix(".pub"))
    assert "Connection from 127.0.0.1" in inner.log()  # the TCP connection came from the jump host's sshd


def test_cancelling_leaves_complete_files_only(sshd, options):
    import threading

    from diagnostics.probe.collect import collect_host
    from diagnostics.probe.options import parse_target

    hang = CommandSpec(name="hang", script="head -c 100000 /dev/zero; sleep 30", output="hang.txt", timeout=40)
    options = dataclasses.replace(options, commands=(*only(options, "date"), hang))
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()

    result = collect_host(parse_target(sshd.target, "root", 22), options, options.out / "host", cancel=cancel, password_box={"lock": threading.Lock()})

    assert result.status == "cancelled"
    assert sorted(path.name for path in (options.out / "host").iterdir()) == ["date.txt", "manifest.json"]
    assert json.loads((options.out / "host" / "manifest.json").read_text())["status"] == "cancelled"


@pytest.mark.usefixtures("dmesg_restricted")
def test_with_passwordless_sudo_root_only_commands_run_through_sudo_n(sshd, options, passwordless_sudo):
    options = dataclasses.replace(options, user=passwordless_sudo.pw_name, commands=only(options, "dmesg", "free_b"))

    [result] = run_probe([sshd.target], options)
    [forced] = run_probe([sshd.target], dataclasses.replace(options, sudo=True, out=options.out / "forced"))

    assert result.sudo_available is True and result.remote_uid == passwordless_sudo.pw_uid
    dmesg, free_b = result.commands
    assert dmesg.status == "ok" and dmesg.sudo and dmesg.command.startswith("sudo -n -- timeout ")
    assert dmesg.bytes > 0 and (result.folder / "dmesg.txt").stat().st_size == dmesg.bytes
    assert free_b.status == "ok" and not free_b.sudo and free_b.command.startswith("timeout ")
    assert [command.sudo for command in forced.commands] == [True, True]


def test_hashed_known_hosts_entries_verify_too(sshd, options):
    subprocess.run(["ssh-keygen", "-H", "-f", str(options.known_hosts)], capture_output=True, check=True, timeout=20)
    assert options.known_hosts.read_text().startswith("|1|")

    [result] = run_probe([sshd.target], dataclasses.replace(options, commands=only(options, "date")))

    assert result.status == "ok", result.error


def test_an_encrypted_identity_without_its_passphrase_is_refused_in_one_line(sshd, options, tmp_path):
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "passphrase", "-f", str(locked)], check=True, timeout=20)

    [result] = run_probe([sshd.target], dataclasses.replace(options, identity=locked, commands=only(options, "date")))

    assert result.status == "refused" and "\n" not in result.error
    assert result.error.startswith(f"{sshd.target}: {locked} is encrypted")
