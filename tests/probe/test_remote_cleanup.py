"""No remote process outlives the probe, and files come home without SFTP: against real sshd instances on loopback.

The "remote" host is this machine, so what survives can be seen with /proc: every test command carries a marker
number in its arguments that no other process has.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from diagnostics.probe import CommandSpec, run_probe, standard_commands

pytestmark = pytest.mark.sshd


def marker() -> str:
    """A sleep length no other process on this machine uses: 4711.<random digits>."""
    return f"4711.{random.randrange(10**8):08d}"


def running(text: str) -> list[str]:
    """Command lines of live (non-zombie) processes containing `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in argv and state != "Z" and proc.name != str(os.getpid()):
            found.append(argv.strip())
    return found


def gone(text: str, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while running(text) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(text)


def our_temp_dirs() -> set[str]:
    return {path.name for path in Path(os.environ.get("TMPDIR", "/tmp")).glob("csdiag-probe.*")}


def interrupt_once_running(text: str, seen: list[list[str]], prefix: str | None = None, limit_s: float = 20.0) -> threading.Event:
    """Ctrl-C as the operator presses it (SIGINT to this process, which Python turns into KeyboardInterrupt), sent
    once a remote process runs whose command line holds `text` and starts with `prefix` (default: `text`; not
    merely the login shell that names it); what was running then is appended to `seen`. Set the returned event
    to call it off."""
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + limit_s
        while not stop.is_set() and time.monotonic() < deadline:
            found = running(text)
            if any(line.startswith(prefix or text) for line in found):
                seen.append(found)
                time.sleep(0.3)  # let it settle in (tcpdump opens its capture)
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    return stop


def test_children_that_ignore_sigterm_and_leave_the_process_group_do_not_survive_the_remote_timeout(sshd, options):
    stubborn, leftover = marker(), marker()
    # The shell and its children ignore TERM; one child also leaves timeout's process group (setsid), so neither
    # the remote `timeout` (TERM, then KILL to its group) nor closing the channel can reach it.
    hung = CommandSpec(
        name="stubborn", output="stubborn.txt", timeout=1,
        script=f"trap '' TERM; setsid sh -c \"trap '' TERM; exec sleep {stubborn}\" & sleep {stubborn} & wait",
    )
    # A command that ends at once but leaves a daemon behind: caught by the sweep at the end of the host.
    quick = CommandSpec(name="quick", output="quick.txt", script=f"setsid sleep {leftover} >/dev/null 2>&1 & echo started")

    [result] = run_probe([sshd.target], dataclasses.replace(options, commands=(hung, quick)))

    assert gone(stubborn) and gone(leftover), running("4711.")
    first, second = result.commands
    assert first.status == "timed_out" and "remote process(es) left behind were killed" in (first.note or "")
    assert second.status == "ok" and (result.folder / "quick.txt").read_text() == "started\n"
    assert result.cleanup_note == "1 remote process(es) left behind were killed"
    from diagnostics.probe.collect import summary

    assert summary(result).endswith("; 1 remote process(es) left behind were killed")  # said, not hidden


def test_ctrl_c_kills_the_remote_command_and_removes_its_temp_folder(sshd, options):
    long = marker()
    spec = CommandSpec(name="long", output="long.bin", timeout=40, remote_file=True,
                       script=f"trap '' TERM INT HUP; sleep {long} & sleep {long} > \"$1\"/long.bin & wait")
    before = our_temp_dirs()
    seen: list[list[str]] = []
    stop = interrupt_once_running(f"sleep {long}", seen)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_probe([sshd.target], dataclasses.replace(options, commands=(spec,)))
    finally:
        stop.set()
    assert seen and [line for line in seen[0] if line.startswith("sleep")]  # the command ran when Ctrl-C came
    assert gone(long), running(long)
    manifest = (options.out / f"127.0.0.1_{sshd.port}" / "manifest.json").read_text()
    assert '"status": "cancelled"' in manifest, manifest
    assert our_temp_dirs() == before


def interrupted_capture(sshd, options) -> None:
    """Start a 60 s capture on a loopback port, press Ctrl-C once tcpdump runs: nothing may be left on the host."""
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed (apt-get install tcpdump)")
    if os.geteuid() != 0:
        pytest.skip("tcpdump on lo needs root")
    port = 40000 + random.randrange(20000)
    capture = next(spec for spec in standard_commands(
        since_seconds=60, agent_properties_path="/x", agent_log_path="/x", agent_log_bytes=1024,
        capture_seconds=60, capture_port=port, capture_bytes=1024 * 1024,
    ) if spec.remote_file)
    before = our_temp_dirs()
    seen: list[list[str]] = []
    stop = interrupt_once_running(f"tcp port {port}", seen, prefix="tcpdump ")
    try:
        with pytest.raises(KeyboardInterrupt):
            run_probe([sshd.target], dataclasses.replace(options, commands=(capture,)))
    finally:
        stop.set()
    assert seen and any(line.startswith("tcpdump ") for line in seen[0]), seen  # it was really capturing
    assert gone(f"tcp port {port}"), running(f"tcp port {port}")
    assert our_temp_dirs() == before


@pytest.mark.root
def test_an_interrupted_capture_stops_tcpdump_and_leaves_nothing_on_the_host(sshd, options):
    interrupted_capture(sshd, options)


@pytest.mark.root
def test_an_interrupted_capture_through_sudo_stops_the_root_tcpdump_too(sshd, options, passwordless_sudo):
    # tcpdump runs as root while the login is not: only a sweep through `sudo -n` can see and kill it
    interrupted_capture(sshd, dataclasses.replace(options, user=passwordless_sudo.pw_name))


def test_without_an_sftp_subsystem_files_are_streamed_over_exec_with_the_same_cap(sshd_factory, options):
    hardened = sshd_factory.start("127.0.0.1", sftp=False)
    options.known_hosts.write_text(hardened.known_hosts_line())
    whole = CommandSpec(name="numbers", output="numbers.txt", remote_file=True, script='seq 1 50000 > "$1"/numbers.txt')
    capped = CommandSpec(name="capped", output="capped.txt", remote_file=True, byte_cap=100_000,
                         script='seq 1 50000 > "$1"/capped.txt')
    expected = subprocess.run(["seq", "1", "50000"], capture_output=True, check=True, timeout=20).stdout
    before = our_temp_dirs()

    [result] = run_probe([hardened.target], dataclasses.replace(options, commands=(whole, capped)))

    numbers, cut = result.commands
    assert numbers.status == "ok" and "streamed with cat over exec" in numbers.note
    assert (result.folder / "numbers.txt").read_bytes() == expected and numbers.bytes == len(expected)
    assert cut.status == "truncated" and cut.truncated and cut.bytes == 100_000
    assert (result.folder / "capped.txt").read_bytes() == expected[:100_000]
    assert our_temp_dirs() == before
    assert "subsystem request failed" in hardened.log() or "subsystem" in hardened.log().lower()
