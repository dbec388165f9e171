"""Collecting one host: connect, find out who we are, run every allow-listed command, write the manifest.

A failing command never stops the others; a lost connection ends this host only.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Callable

import paramiko

from diagnostics.probe.atomic_files import atomic_file, write_json_atomic
from diagnostics.probe.clock import ClockOffset, best_clock_offset
from diagnostics.probe.commands import (
    MKTEMP,
    REMOVE_TEMP,
    SUDO_CHECK,
    TEMP_PREFIX,
    WHOAMI,
    CommandSpec,
    remote_command_line,
    standard_commands,
)
from diagnostics.probe.connect import ConnectFailed, Session, open_session
from diagnostics.probe.execute import Cancelled, ExecOutcome, exec_bounded, exec_samples
from diagnostics.probe.manifest import MANIFEST, STDERR_EXCERPT_CHARS, CommandResult, HostResult
from diagnostics.probe.options import ProbeOptions, Target

CLIENT_GRACE_S = 10.0  # the client deadline trails the remote `timeout` (and its -k 5) by this much
TIMEOUT_RCS = (124, 137)  # coreutils timeout: 124 after the signal, 137 after the follow-up KILL

Progress = Callable[[str, str, str], None]


def specs_for(options: ProbeOptions) -> tuple[CommandSpec, ...]:
    if options.commands is not None:
        return options.commands
    return standard_commands(
        since_seconds=options.since_seconds,
        agent_properties_path=options.agent_properties_path,
        agent_log_path=options.agent_log_path,
        agent_log_bytes=options.agent_log_bytes,
        capture_seconds=options.capture_seconds,
        capture_port=options.capture_port,
        capture_bytes=options.capture_bytes,
    )


def wants_sudo(spec: CommandSpec, *, forced: bool, remote_uid: int | None, sudo_available: bool) -> bool:
    """sudo -n only for a non-root login, only if it works, and only for root-only commands unless --sudo."""
    if remote_uid == 0 or not sudo_available:
        return False
    return forced or spec.needs_root


def _excerpt(stderr: bytes) -> str:
    return stderr.decode("utf-8", errors="replace").strip()[:STDERR_EXCERPT_CHARS]


def _status(outcome: ExecOutcome, spec: CommandSpec) -> tuple[str, bool]:
    timed_out = outcome.deadline_hit or (outcome.rc in TIMEOUT_RCS and outcome.rc not in spec.ok_rcs)
    if timed_out:
        return "timed_out", True
    if outcome.truncated:
        return "truncated", False
    if outcome.rc in spec.ok_rcs:
        return "ok", False
    return "failed", False


def _small(transport: paramiko.Transport, spec: CommandSpec, cancel: threading.Event, args: tuple[str, ...] = ()) -> tuple[ExecOutcome, str]:
    buffer = io.BytesIO()
    outcome = exec_bounded(
        transport,
        remote_command_line(spec, sudo=False, args=args),
        deadline_s=spec.timeout + CLIENT_GRACE_S,
        byte_cap=spec.byte_cap,
        sink=buffer,
        cancel=cancel,
    )
    return outcome, buffer.getvalue().decode("utf-8", errors="replace")


def _run_to_file(transport: paramiko.Transport, spec: CommandSpec, line: str, folder: Path, cancel: threading.Event) -> tuple[ExecOutcome, Path]:
    path = folder / spec.output
    with atomic_file(path) as sink:
        outcome = exec_bounded(transport, line, deadline_s=spec.timeout + CLIENT_GRACE_S, byte_cap=spec.byte_cap, sink=sink, cancel=cancel)
    return outcome, path


def _fetch(session: Session, remote_path: str, local: Path, byte_cap: int, timeout_s: float) -> tuple[int, bool]:
    """Copy a remote file over SFTP, at most byte_cap bytes; returns (bytes, truncated)."""
    sftp = session.client.open_sftp()
    try:
        sftp.get_channel().settimeout(timeout_s)
        copied = 0
        truncated = False
        with sftp.open(remote_path, "rb") as remote, atomic_file(local) as sink:
            while True:
                data = remote.read(64 * 1024)
                if not data:
                    break
                room = byte_cap - copied
                if len(data) > room:
                    data, truncated = data[:room], True
                sink.write(data)
                copied += len(data)
                if truncated:
                    break
        return copied, truncated
    finally:
        sftp.close()


def run_spec(session: Session, spec: CommandSpec, *, sudo: bool, folder: Path, cancel: threading.Event) -> CommandResult:
    """Run one spec; never raises for a command-level failure (only Cancelled and a dead transport)."""
    transport = session.client.get_transport()
    if spec.remote_file:
        return _run_remote_file_spec(session, spec, sudo=sudo, folder=folder, cancel=cancel)
    line = remote_command_line(spec, sudo=sudo)
    started = time.time()
    try:
        outcome, path = _run_to_file(transport, spec, line, folder, cancel)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if not transport.is_active():
            raise
        return _error_result(spec, line, sudo, started, f"could not run: {exc}")
    status, timed_out = _status(outcome, spec)
    output: str | None = spec.output
    if outcome.stdout_bytes == 0 and status not in ("ok", "truncated"):
        path.unlink(missing_ok=True)
        output = None
    return CommandResult(
        name=spec.name,
        command=line,
        status=status,
        rc=outcome.rc,
        duration_s=outcome.ended_at - outcome.started_at,
        bytes=outcome.stdout_bytes,
        truncated=outcome.truncated,
        timed_out=timed_out,
        started_at=outcome.started_at,
        ended_at=outcome.ended_at,
        stderr_excerpt=_excerpt(outcome.stderr),
        output=output,
        sudo=sudo,
    )


def run_clock_spec(session: Session, spec: CommandSpec, *, folder: Path) -> tuple[CommandResult, ClockOffset | None]:
    """Take spec.clock_samples readings through one running command; keep them in the output file."""
    transport = session.client.get_transport()
    line = remote_command_line(spec, sudo=False)
    started = time.time()
    try:
        samples, outcome = exec_samples(transport, line, count=spec.clock_samples, deadline_s=spec.timeout + CLIENT_GRACE_S, byte_cap=spec.byte_cap)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if not transport.is_active():
            raise
        return _error_result(spec, line, False, started, f"could not run: {exc}"), None
    with atomic_file(folder / spec.output) as sink:
        sink.write("".join(f"{sample.text}\n" for sample in samples).encode("utf-8"))
    clock = best_clock_offset([(sample.sent_at, sample.received_at, sample.text) for sample in samples])
    status, timed_out = _status(outcome, spec)
    if status == "ok" and clock is None:
        status = "failed"
    note = f"{len(samples)} readings, offset taken from the tightest round trip" if samples else None
    command = CommandResult(
        name=spec.name, command=line, status=status, rc=outcome.rc, duration_s=outcome.ended_at - outcome.started_at,
        bytes=(folder / spec.output).stat().st_size, truncated=outcome.truncated, timed_out=timed_out,
        started_at=outcome.started_at, ended_at=outcome.ended_at, stderr_excerpt=_excerpt(outcome.stderr),
        output=spec.output, note=note,
    )
    return command, clock


def _error_result(spec: CommandSpec, line: str, sudo: bool, started: float, note: str) -> CommandResult:
    now = time.time()
    return CommandResult(
        name=spec.name, command=line, status="error", rc=None, duration_s=now - started, bytes=0, truncated=False,
        timed_out=False, started_at=started, ended_at=now, sudo=sudo, note=note,
    )


def _run_remote_file_spec(session: Session, spec: CommandSpec, *, sudo: bool, folder: Path, cancel: threading.Event) -> CommandResult:
    """mktemp -d on the host, run the spec with that folder as $1, fetch $1/<output> over SFTP, always remove $1."""
    transport = session.client.get_transport()
    started = time.time()
    line = remote_command_line(spec, sudo=sudo, args=("$TMP",))
    made, text = _small(transport, MKTEMP, cancel)
    remote_dir = text.strip()
    if made.rc != 0 or not _is_our_temp_dir(remote_dir):
        return _error_result(spec, line, sudo, started, f"mktemp failed: {_excerpt(made.stderr) or remote_dir}")
    remote_path = f"{remote_dir}/{spec.output}"
    line = remote_command_line(spec, sudo=sudo, args=(remote_dir,))
    note = f"output written on the host to {remote_path}, fetched over SFTP, then removed"
    try:
        outcome = exec_bounded(transport, line, deadline_s=spec.timeout + CLIENT_GRACE_S, byte_cap=spec.byte_cap, sink=None, cancel=cancel)
        status, timed_out = _status(outcome, spec)
        fetched, truncated, output = 0, False, None
        if status == "ok":
            try:
                fetched, truncated = _fetch(session, remote_path, folder / spec.output, spec.byte_cap, spec.timeout + CLIENT_GRACE_S)
                output = spec.output
                status = "truncated" if truncated else "ok"
            except (OSError, paramiko.SSHException, EOFError) as exc:
                if not transport.is_active():
                    raise
                status, note = "error", f"SFTP fetch of {remote_path} failed: {exc}"
    finally:
        if transport.is_active():
            removed, _ = _small(transport, REMOVE_TEMP, threading.Event(), args=(remote_dir,))
            if removed.rc != 0:
                note = f"{note}; removing {remote_dir} failed: {_excerpt(removed.stderr)}"
    return CommandResult(
        name=spec.name,
        command=line,
        status=status,
        rc=outcome.rc,
        duration_s=time.time() - started,
        bytes=fetched,
        truncated=truncated,
        timed_out=timed_out,
        started_at=outcome.started_at,
        ended_at=outcome.ended_at,
        stderr_excerpt=_excerpt(outcome.stderr),
        output=output,
        sudo=sudo,
        note=note,
    )


def _is_our_temp_dir(path: str) -> bool:
    """Only a path mktemp just printed for us is ever handed to `rm -rf`."""
    return path.startswith("/") and "\n" not in path and "/../" not in path and path.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)


def _who_and_sudo(session: Session, result: HostResult, options: ProbeOptions, specs: tuple[CommandSpec, ...], cancel: threading.Event) -> None:
    transport = session.client.get_transport()
    outcome, text = _small(transport, WHOAMI, cancel)
    result.remote_uid = int(text.strip()) if outcome.rc == 0 and text.strip().isdigit() else None
    if result.remote_uid == 0:
        result.sudo_available, result.sudo_note = None, "logged in as root: sudo not needed"
        return
    if not options.sudo and not any(spec.needs_root for spec in specs):
        return
    outcome, _ = _small(transport, SUDO_CHECK, cancel)
    result.sudo_available = outcome.rc == 0
    if not result.sudo_available:
        reason = _excerpt(outcome.stderr).splitlines()[-1:] or [f"exit status {outcome.rc}"]
        result.sudo_note = f"sudo -n unavailable ({reason[0]}): root-only commands ran as {result.user}"


def collect_host(
    target: Target,
    options: ProbeOptions,
    folder: Path,
    *,
    cancel: threading.Event,
    password_box: dict,
    progress: Progress | None = None,
) -> HostResult:
    """Probe one host into `folder`; always returns a HostResult and writes its manifest (atomically)."""
    result = HostResult(
        host=target.label, address=target.host, port=target.port, user=target.user, folder=folder,
        status="error", started_at=time.time(), since_seconds=options.since_seconds,
    )
    specs = specs_for(options)
    notify = progress or (lambda host, status, detail: None)
    session: Session | None = None
    try:
        notify(target.label, "connecting", f"{target.user}@{target.host}:{target.port}")
        session = open_session(target, options, password_box)
        result.host_key_type, result.host_key_fingerprint = session.host_key_type, session.host_key_fingerprint
        result.accepted_new_host_key = session.accepted_new_key
        folder.mkdir(parents=True, exist_ok=True)
        _who_and_sudo(session, result, options, specs, cancel)
        for index, spec in enumerate(specs, start=1):
            notify(target.label, "collecting", f"{index}/{len(specs)} {spec.name}")
            sudo = wants_sudo(spec, forced=options.sudo, remote_uid=result.remote_uid, sudo_available=bool(result.sudo_available))
            if spec.clock_samples:
                command, result.clock = run_clock_spec(session, spec, folder=folder)
            else:
                command = run_spec(session, spec, sudo=sudo, folder=folder, cancel=cancel)
            result.commands.append(command)
        result.status = "partial" if result.failed_commands else "ok"
    except ConnectFailed as exc:
        result.status, result.error = exc.status, str(exc)
    except Cancelled:
        result.status, result.error = "cancelled", f"{target.label}: interrupted"
    except (paramiko.SSHException, EOFError, OSError) as exc:
        alive = session is not None and session.client.get_transport() is not None and session.client.get_transport().is_active()
        what = f"cannot write into {folder}" if alive and isinstance(exc, OSError) else "connection lost"
        result.status, result.error = "error", f"{target.label}: {what}: {exc or type(exc).__name__}"
    except Exception as exc:  # a bug must cost one host, not the whole run
        result.status, result.error = "error", f"{target.label}: internal error: {type(exc).__name__}: {exc} (please report this)"
    finally:
        if session is not None:
            session.close()
        result.ended_at = time.time()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / MANIFEST, result.to_json())
    except OSError as exc:
        result.status, result.error = "error", f"{target.label}: cannot write {folder / MANIFEST}: {exc.strerror or exc}"
    notify(target.label, result.status, summary(result))
    return result


def summary(result: HostResult) -> str:
    """One line about a host for people: what worked, what did not, and why."""
    if result.error:
        return result.error
    failed = result.failed_commands
    text = f"{len(result.commands) - len(failed)}/{len(result.commands)} commands ok in {result.ended_at - result.started_at:.1f} s"
    if failed:
        text += "; failed: " + ", ".join(f"{command.name} ({command.status}, rc={command.rc})" for command in failed)
    if result.clock is not None:
        text += f"; clock offset {result.clock.offset_s:+.3f} s (+/- {result.clock.uncertainty_s * 1000:.1f} ms)"
    if result.sudo_note and result.sudo_available is False:
        text += f"; {result.sudo_note}"
    return text
