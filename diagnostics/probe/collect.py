"""Collecting one host: connect, find out who we are, run every allow-listed command, write the manifest.

A failing command never stops the others; a lost connection ends this host only.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import paramiko

from diagnostics.probe.atomic_files import write_json_atomic
from diagnostics.probe.command_runs import kill_run, run_clock_spec, run_small, run_spec, stderr_excerpt
from diagnostics.probe.commands import SUDO_CHECK, WHOAMI, CommandSpec, standard_commands
from diagnostics.probe.connect import ConnectFailed, Session, open_session
from diagnostics.probe.execute import Cancelled
from diagnostics.probe.manifest import MANIFEST, HostResult
from diagnostics.probe.options import ProbeOptions, Target

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


def _who_and_sudo(session: Session, result: HostResult, options: ProbeOptions, specs: tuple[CommandSpec, ...], cancel: threading.Event) -> None:
    transport = session.client.get_transport()
    outcome, text = run_small(transport, WHOAMI, cancel)
    result.remote_uid = int(text.strip()) if outcome.rc == 0 and text.strip().isdigit() else None
    if result.remote_uid == 0:
        result.sudo_available, result.sudo_note = None, "logged in as root: sudo not needed"
        return
    if not options.sudo and not any(spec.needs_root for spec in specs):
        return
    outcome, _ = run_small(transport, SUDO_CHECK, cancel)
    result.sudo_available = outcome.rc == 0
    if not result.sudo_available:
        reason = stderr_excerpt(outcome.stderr).splitlines()[-1:] or [f"exit status {outcome.rc}"]
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
            _sweep(session, result)
            session.close()
        result.ended_at = time.time()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / MANIFEST, result.to_json())
    except OSError as exc:
        result.status, result.error = "error", f"{target.label}: cannot write {folder / MANIFEST}: {exc.strerror or exc}"
    notify(target.label, result.status, summary(result))
    return result


def _sweep(session: Session, result: HostResult) -> None:
    """A last kill of this run's remote processes (a command may have left one in the background, or the run was
    interrupted between two commands); through sudo when sudo works, so root-owned ones are seen too."""
    if result.status in ("unreachable", "refused"):
        return
    note = kill_run(session, sudo=bool(result.sudo_available) and result.remote_uid != 0)
    if note:
        result.cleanup_note = note


def summary(result: HostResult) -> str:
    """One line about a host for people: what worked, what did not, and why."""
    if result.error:
        return f"{result.error}; {result.cleanup_note}" if result.cleanup_note else result.error
    failed = result.failed_commands
    text = f"{len(result.commands) - len(failed)}/{len(result.commands)} commands ok in {result.ended_at - result.started_at:.1f} s"
    if failed:
        text += "; failed: " + ", ".join(f"{command.name} ({command.status}, rc={command.rc})" for command in failed)
    if result.clock is not None:
        text += f"; clock offset {result.clock.offset_s:+.3f} s (+/- {result.clock.uncertainty_s * 1000:.1f} ms)"
    if result.sudo_note and result.sudo_available is False:
        text += f"; {result.sudo_note}"
    if result.cleanup_note:
        text += f"; {result.cleanup_note}"
    return text
