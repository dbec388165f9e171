"""`csdiag runbook change-offering`: the on-call runbook, each check judged from the evidence when some is given."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from diagnostics.cli.common import ExitCode, check_format, die, format_option, stdout_console, warn
from diagnostics.sources.timezones import TimeSpecError, resolve_tz

runbook_app = typer.Typer(help="On-call runbooks, checked against evidence.", no_args_is_help=True)
STATUS_EXIT = {"OK": ExitCode.OK, "WARNING": ExitCode.WARNING, "CRITICAL": ExitCode.CRITICAL, "UNKNOWN": ExitCode.UNKNOWN}


@runbook_app.command("change-offering")
def change_offering(
    evidence: list[str] = typer.Argument(None, metavar="EVIDENCE", help="Logs, host evidence, pcaps, probe folders, API snapshots, bundles (as for analyze)."),
    vm: Optional[str] = typer.Option(None, "--vm", help="Judge only this VM's evidence: instance name (i-2-42-VM) or uuid."),
    fmt: str = format_option("text", ("text", "markdown", "json"), "text, markdown (a checklist) or json (schema: runbook.schema.json in diagnostics/report)."),
    tz: Optional[str] = typer.Option(None, "--tz", help="Zone of the logs' naive timestamps (IANA name, UTC, +02:00). Default: local zone."),
    rules: list[str] = typer.Option([], "--rules", help="An extra rule folder (repeatable), added to the built-in rules/."),
    ping_interval: float = typer.Option(60.0, "--ping-interval", help="ping.interval of the management server, seconds (heartbeat gaps)."),
    ping_timeout: float = typer.Option(2.5, "--ping-timeout", help="ping.timeout multiplier of the management server."),
) -> None:
    """Change a VM's offering: prerequisites, the six steps with their cmk commands, troubleshooting, admin desk.

    With EVIDENCE each check is marked passed, failed (with the finding ids that fail it) or unknown.
    Exit codes: 0 no failed check, 1 a failed warning-level check, 2 a failed critical check, 3 incomplete evidence.
    """
    from diagnostics.runbook import RunbookError, assess, load_runbook, plain, render_json, render_markdown, render_text, status

    check_format(fmt, ("text", "markdown", "json"))
    try:
        runbook = load_runbook("change-offering")
    except RunbookError as exc:  # a damaged installation: say which file, never a traceback
        die(str(exc), ExitCode.UNKNOWN)
    if evidence:
        try:
            tzinfo, tz_label = resolve_tz(tz)
        except TimeSpecError as exc:
            raise typer.BadParameter(str(exc)) from None
        from diagnostics.analysis import analyze_paths

        analysis = analyze_paths(evidence, tz=tzinfo, tz_name=tz_label, rule_dirs=rules,
                                 ping_interval=ping_interval, ping_timeout=ping_timeout)
        result = assess(runbook, analysis.collected.facts, analysis.findings, analysis.document, vm=vm)
        for message in result.errors:
            warn(message)
        if vm and not result.vm_found:
            warn(f"VM {vm} does not appear in the evidence; its checks can only be judged on zone-wide evidence")
    else:
        if vm:
            warn("--vm without EVIDENCE: printing the plain runbook")
        result = plain(runbook)
    if fmt == "json":
        sys.stdout.write(json.dumps(render_json(result), indent=2, default=str) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(result))
    else:
        render_text(result, stdout_console())
    raise typer.Exit(int(STATUS_EXIT[status(result)]) if result.evidence else int(ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the csdiag app."""
    app.add_typer(runbook_app, name="runbook")
