"""Running one allow-listed spec on an open session and describing what happened (a CommandResult).

Plain specs stream stdout into their output file; clock specs take several readings through one
running command; remote-file specs write into a mktemp -d folder on the host that is fetched over
SFTP (or streamed with `cat` over an exec channel when the host's sshd has no SFTP subsystem) and always
removed. A command-level failure is a result, never an exception.

No remote process outlives its command: when a command does not end by itself (client deadline, byte cap,
remote `timeout`, Ctrl-C, a broken channel), every process carrying the session's run id is killed over a
separate exec channel (commands.kill_run_script), before its temp folder is removed.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import paramiko

from diagnostics.probe.atomic_files import atomic_file
from diagnostics.probe.clock import ClockOffset, best_clock_offset
from diagnostics.probe.commands import (
    CAT_FILE, MKTEMP, REMOVE_TEMP, TEMP_PREFIX, CommandSpec, kill_run_spec, remote_command_line,
)
from diagnostics.probe.connect import Session
from diagnostics.probe.execute import Cancelled, ExecOutcome, exec_bounded, exec_samples
from diagnostics.probe.manifest import STDERR_EXCERPT_CHARS, CommandResult

CLIENT_GRACE_S = 10.0  # the client deadline trails the remote `timeout` (and its -k 5) by this much
TIMEOUT_RCS = (124, 137)  # coreutils timeout: 124 after the signal, 137 after the follow-up KILL


def stderr_excerpt(stderr: bytes) -> str:
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


def run_small(transport: paramiko.Transport, spec: CommandSpec, cancel: threading.Event, args: tuple[str, ...] = ()) -> tuple[ExecOutcome, str]:
    """A helper command (id -u, sudo -n true, mktemp, rm) whose few bytes of output are wanted in memory."""
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


def kill_run(session: Session, *, sudo: bool) -> str:
    """Kill what is left of this session's remote processes; a few words for the manifest note ('' if nothing was)."""
    transport = session.client.get_transport()
    if transport is None or not transport.is_active():
        return "remote processes may still run (connection lost)"
    buffer = io.BytesIO()
    spec = kill_run_spec(session.run_id)
    try:
        outcome = exec_bounded(transport, remote_command_line(spec, sudo=sudo), deadline_s=spec.timeout + CLIENT_GRACE_S,
                               byte_cap=spec.byte_cap, sink=buffer)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        return f"could not kill remote processes ({exc or type(exc).__name__})"
    killed = buffer.getvalue().decode("utf-8", errors="replace").strip()
    if outcome.rc != 0 or not killed.isdigit():
        return f"could not kill remote processes ({stderr_excerpt(outcome.stderr) or f'exit status {outcome.rc}'})"
    return f"{killed} remote process(es) left behind were killed" if killed != "0" else ""


def _exec_and_clean(session: Session, line: str, *, spec: CommandSpec, sudo: bool, sink, cancel: threading.Event | None) -> tuple[ExecOutcome, str]:
    """exec_bounded, then kill whatever the command left running unless it ended by itself: (outcome, note)."""
    transport = session.client.get_transport()
    try:
        outcome = exec_bounded(transport, line, deadline_s=spec.timeout + CLIENT_GRACE_S, byte_cap=spec.byte_cap, sink=sink, cancel=cancel)
    except BaseException:  # Cancelled (Ctrl-C), KeyboardInterrupt, a broken channel: the remote side runs on
        kill_run(session, sudo=sudo)
        raise
    note = ""
    if outcome.rc is None or outcome.rc in TIMEOUT_RCS:
        note = kill_run(session, sudo=sudo)
    return outcome, note


def _run_to_file(session: Session, spec: CommandSpec, line: str, folder: Path, cancel: threading.Event, sudo: bool) -> tuple[ExecOutcome, Path, str]:
    path = folder / spec.output
    with atomic_file(path) as sink:
        outcome, note = _exec_and_clean(session, line, spec=spec, sudo=sudo, sink=sink, cancel=cancel)
    return outcome, path, note


class NoSftp(Exception):
    """The host's sshd refused the SFTP subsystem (hardened hosts leave `Subsystem sftp` out)."""


def _fetch(session: Session, remote_path: str, local: Path, byte_cap: int, timeout_s: float, cancel: threading.Event) -> tuple[int, bool, str]:
    """Copy a remote file, at most byte_cap bytes: over SFTP, else streamed by `cat` over an exec channel.

    Returns (bytes, truncated, how). The same cap and the same atomic write hold on both ways.
    """
    try:
        copied, truncated = _fetch_sftp(session, remote_path, local, byte_cap, timeout_s)
        return copied, truncated, "fetched over SFTP"
    except NoSftp:
        pass
    transport = session.client.get_transport()
    with atomic_file(local) as sink:
        outcome = exec_bounded(
            transport, remote_command_line(CAT_FILE, sudo=False, args=(remote_path,)),
            deadline_s=timeout_s, byte_cap=byte_cap, sink=sink, cancel=cancel,
        )
        if not outcome.truncated and outcome.rc != 0:
            reason = stderr_excerpt(outcome.stderr) or ("timed out" if outcome.deadline_hit else f"exit status {outcome.rc}")
            raise OSError(f"streaming over exec (no SFTP on the host) failed: {reason}")
    return outcome.stdout_bytes, outcome.truncated, "streamed with cat over exec (the host's sshd offers no SFTP)"


def _open_sftp(session: Session) -> paramiko.SFTPClient:
    """SFTP, or NoSftp when the server refuses the subsystem (the channel closes at once; the transport stays up)."""
    transport = session.client.get_transport()
    try:
        return session.client.open_sftp()
    except (paramiko.SSHException, EOFError) as exc:
        if transport is not None and transport.is_active():
            raise NoSftp(str(exc)) from None
        raise


def _fetch_sftp(session: Session, remote_path: str, local: Path, byte_cap: int, timeout_s: float) -> tuple[int, bool]:
    sftp = _open_sftp(session)
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
    line = remote_command_line(spec, sudo=sudo, run_id=session.run_id)
    started = time.time()
    try:
        outcome, path, cleanup_note = _run_to_file(session, spec, line, folder, cancel, sudo)
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
        stderr_excerpt=stderr_excerpt(outcome.stderr),
        output=output,
        sudo=sudo,
        note=cleanup_note or None,
    )


def run_clock_spec(session: Session, spec: CommandSpec, *, folder: Path) -> tuple[CommandResult, ClockOffset | None]:
    """Take spec.clock_samples readings through one running command; keep them in the output file."""
    transport = session.client.get_transport()
    line = remote_command_line(spec, sudo=False, run_id=session.run_id)
    started = time.time()
    try:
        samples, outcome = exec_samples(transport, line, count=spec.clock_samples, deadline_s=spec.timeout + CLIENT_GRACE_S, byte_cap=spec.byte_cap)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        kill_run(session, sudo=False)
        if not transport.is_active():
            raise
        return _error_result(spec, line, False, started, f"could not run: {exc}"), None
    except BaseException:
        kill_run(session, sudo=False)
        raise
    if outcome.rc is None:  # stopped by the client deadline or cap: its `date` loop may still run
        kill_run(session, sudo=False)
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
        started_at=outcome.started_at, ended_at=outcome.ended_at, stderr_excerpt=stderr_excerpt(outcome.stderr),
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
    # not interruptible (10 s at most): a folder made but never named to us could not be removed
    made, text = run_small(transport, MKTEMP, threading.Event())
    remote_dir = text.strip()
    if made.rc != 0 or not _is_our_temp_dir(remote_dir):
        return _error_result(spec, line, sudo, started, f"mktemp failed: {stderr_excerpt(made.stderr) or remote_dir}")
    remote_path = f"{remote_dir}/{spec.output}"
    line = remote_command_line(spec, sudo=sudo, args=(remote_dir,), run_id=session.run_id)
    note = f"nothing fetched from {remote_path}"
    try:
        if cancel.is_set():
            raise Cancelled()
        outcome, cleanup_note = _exec_and_clean(session, line, spec=spec, sudo=sudo, sink=None, cancel=cancel)
        status, timed_out = _status(outcome, spec)
        fetched, truncated, output = 0, False, None
        if status == "ok":
            try:
                fetched, truncated, how = _fetch(session, remote_path, folder / spec.output, spec.byte_cap, spec.timeout + CLIENT_GRACE_S, cancel)
                output = spec.output
                status = "truncated" if truncated else "ok"
                note = f"output written on the host to {remote_path}, {how}"
            except (OSError, paramiko.SSHException, EOFError) as exc:
                if not transport.is_active():
                    raise
                status, note = "error", f"fetch of {remote_path} failed: {exc}"
        if cleanup_note:
            note = f"{note}, {cleanup_note}"
    finally:
        note = f"{note}, {_remove_remote_dir(transport, remote_dir)}"
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
        stderr_excerpt=stderr_excerpt(outcome.stderr),
        output=output,
        sudo=sudo,
        note=note,
    )


def _remove_remote_dir(transport: paramiko.Transport, remote_dir: str) -> str:
    """Always attempted, even while an interruption unwinds; says what happened for the manifest note."""
    if not transport.is_active():
        return f"{remote_dir} NOT removed (connection lost)"
    try:
        removed, _ = run_small(transport, REMOVE_TEMP, threading.Event(), args=(remote_dir,))
    except (paramiko.SSHException, EOFError, OSError) as exc:
        return f"{remote_dir} NOT removed ({exc})"
    return "then removed" if removed.rc == 0 else f"{remote_dir} NOT removed: {stderr_excerpt(removed.stderr)}"


def _is_our_temp_dir(path: str) -> bool:
    """Only a path mktemp just printed for us is ever handed to `rm -rf`."""
    return path.startswith("/") and "\n" not in path and "/../" not in path and path.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)
