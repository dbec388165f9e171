"""`csdiag probe`: collect host evidence over SSH (thin: parsing options, printing lines, exit codes)."""

from __future__ import annotations

import getpass
import sys
import threading
from pathlib import Path

import typer

from diagnostics.cli.common import ExitCode, stdout_console, warn
from diagnostics.untrusted import for_terminal
from diagnostics.probe.manifest import HostResult
from diagnostics.probe.options import DEFAULT_PARALLEL

_MARKS = {"ok": "[green]ok[/]", "partial": "[yellow]partial[/]"}


def exit_code(results: list[HostResult]) -> ExitCode:
    """3 if any host could not be probed, 1 if some command failed, 0 when everything was collected."""
    if any(result.status not in ("ok", "partial") for result in results):
        return ExitCode.UNKNOWN
    if any(result.status == "partial" for result in results):
        return ExitCode.WARNING
    return ExitCode.OK


def _prompt_password(prompt: str) -> str | None:
    """getpass only on a terminal: a pipe or a CI job must never hang waiting for a password."""
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass(prompt) or None
    except (EOFError, OSError):
        return None


def probe(
    hosts: list[str] = typer.Argument(..., metavar="HOST...", help="KVM hosts as \\[user@]host\\[:port]."),
    user: str | None = typer.Option(None, "--user", "-u", help="Login user when HOST has no user@ (else the ssh config's User, else csdiag's probe.user, else root)."),
    port: int | None = typer.Option(None, "--port", "-p", min=1, max=65535, help="SSH port when HOST has no :port (else the ssh config's Port, else csdiag's probe.port, else 22)."),
    identity: Path | None = typer.Option(None, "--identity", "-i", help="Private key file (else the ssh config's IdentityFile, else csdiag's probe.identity, else ssh-agent and ~/.ssh keys)."),
    jump: str | None = typer.Option(None, "--jump", "-J", help="Reach the hosts through this SSH host (\\[user@]host\\[:port]; else the ssh config's ProxyJump)."),
    ssh_config: Path | None = typer.Option(None, "--ssh-config", "-F", help="ssh config file to read Host entries from (else csdiag's probe.ssh_config, else ~/.ssh/config when it exists)."),
    known_hosts: Path | None = typer.Option(None, "--known-hosts", help="Host keys to verify against (else csdiag's probe.known_hosts, else ~/.ssh/known_hosts)."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Trust and record unknown host keys (changed keys are still refused)."),
    sudo: bool = typer.Option(False, "--sudo", help="Run every command through 'sudo -n' (root-only ones use it anyway when the login is not root)."),
    capture_seconds: int = typer.Option(0, "--capture-seconds", min=0, max=3600, help="Capture port-8250 traffic with tcpdump for N seconds (0: no capture)."),
    since: str | None = typer.Option(None, "--since", help="How much agent.log to fetch, e.g. 30m, 2h, 1d (else csdiag's probe.since, else 6h)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default ./csdiag-probe-<UTC time>)."),
    parallel: int = typer.Option(DEFAULT_PARALLEL, "--parallel", min=1, max=64, help="Hosts probed at the same time."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would run on each host; connect nowhere."),
) -> int:
    """Collect free, meminfo, dmesg, sensors, lscpu, numactl, virsh, agent.properties (secrets removed on the host), agent.log and an optional port-8250 capture from KVM hosts, read-only.

    Password: CSDIAG_SSH_PASSWORD or a prompt on a terminal, never an option. Defaults: `csdiag config show`. Exit codes: 0 all collected, 1 some commands failed, 3 a host unreachable or refused.
    """
    from diagnostics.probe.defaults import ProbeSettingError, build_probe_options  # here: they load paramiko (~0.4 s)
    from diagnostics.probe.plan import plan_lines
    from diagnostics.probe.run import default_out_dir, resolve_targets, run_probe

    from diagnostics.config import load_config

    config = load_config()
    for message in config.warnings:  # a broken config layer is named; the others still apply
        warn(message)
    try:
        options = build_probe_options(
            user=user, port=port, identity=identity, jump=jump, ssh_config=ssh_config, known_hosts=known_hosts,
            since=since, config=config, accept_new_host_key=accept_new_host_key, sudo=sudo,
            capture_seconds=capture_seconds, out=out or default_out_dir(), parallel=parallel,
            password_prompt=_prompt_password,
        )
    except ProbeSettingError as exc:
        warn(str(exc))
        return int(ExitCode.UNKNOWN)
    try:
        targets = resolve_targets(hosts, options)
    except ValueError as exc:
        warn(str(exc))
        return int(ExitCode.UNKNOWN)
    console = stdout_console()
    if dry_run:
        for target in targets:
            for line in plan_lines(target, options):
                console.print(line, markup=False)
            console.print("")
        console.print(f"dry run: nothing was run; output would go to {options.out}/", markup=False)
        return int(ExitCode.OK)
    if options.out.exists() and not options.out.is_dir():
        warn(f"--out {options.out}: exists and is not a folder")
        return int(ExitCode.UNKNOWN)

    lock = threading.Lock()

    def show(host: str, status: str, detail: str) -> None:
        # what a host said (stderr lines, server banners in errors) reaches the terminal with its controls visible
        host, detail = for_terminal(host), for_terminal(detail)
        with lock:
            if status == "connecting":
                console.print(f"{host}: connecting ({detail})", markup=False)
            elif status in _MARKS:
                console.print(f"{host}: {_MARKS[status]} ", end="")
                console.print(detail, markup=False)
            elif status != "collecting":
                warn(detail if detail.startswith(host) else f"{host}: {status}: {detail}")

    try:
        results = run_probe(hosts, options, progress=show)
    except OSError as exc:
        warn(f"--out {options.out}: {exc.strerror or exc}")
        return int(ExitCode.UNKNOWN)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    tally = ", ".join(f"{count} {status}" for status, count in counts.items())
    console.print(f"wrote {options.out}/ ({len(results)} host{'s' if len(results) != 1 else ''}: {tally})", markup=False)
    return int(exit_code(results))


def register(app: typer.Typer) -> None:
    """Add `csdiag probe` to the app."""
    app.command("probe", no_args_is_help=True)(probe)
