"""`csdiag analyze`: every rule over everything under the given paths; the answer for people or machines."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn, DownloadColumn

from diagnostics.cli.common import ExitCode, stderr_console, stdout_console, warn
from diagnostics.report.markdown_report import render_markdown
from diagnostics.report.text_report import render_quiet, render_text
from diagnostics.sources.timezones import TimeSpecError, resolve_tz

STATUS_EXIT = {"OK": ExitCode.OK, "WARNING": ExitCode.WARNING, "CRITICAL": ExitCode.CRITICAL, "UNKNOWN": ExitCode.UNKNOWN}


def _host_evidence(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        host, sep, path = value.partition("=")
        if not sep or not host or not path:
            raise typer.BadParameter(f"--host-evidence wants HOST=PATH, got {value!r}")
        out[host] = path
    return out


def write_atomically(path: str, text: str) -> None:
    """Write next to the target, then rename: a reader never sees half a report."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".csdiag-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def analyze(
    paths: list[str] = typer.Argument(..., help="Logs (.gz too), directories, host evidence, pcaps, probe folders, bundles, sosreports; - for stdin."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json (schema csdiag/v1) or markdown."),
    rules: list[str] = typer.Option([], "--rules", help="An extra rule folder (repeatable), added to the built-in rules/."),
    tz: Optional[str] = typer.Option(None, "--tz", help="Zone of the logs' naive timestamps (IANA name, UTC, +02:00). Default: local zone."),
    host_evidence: list[str] = typer.Option([], "--host-evidence", help="HOST=PATH: tie a file or folder of host evidence to a host (repeatable)."),
    paste: Optional[bool] = typer.Option(None, "--paste/--no-paste", help="Repair a ticket paste (quotes, wrapping, links). Default: detect."),
    ping_interval: float = typer.Option(60.0, "--ping-interval", help="ping.interval of the management server, seconds (heartbeat gaps)."),
    ping_timeout: float = typer.Option(2.5, "--ping-timeout", help="ping.timeout multiplier of the management server."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file (atomically) instead of stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="One line per incident (or per root finding)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="All evidence lines of every finding."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes reading the inputs. Default: every core; 1: no workers."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", help="Read the inputs on this Dask cluster (tcp://HOST:PORT; files on storage the workers share; extra [fleet])."),
) -> None:
    """Diagnose: parse every input, run every rule, correlate, and say what failed, why and what to do next.

    Exit codes (Nagios): 0 nothing above info, 1 warning, 2 critical, 3 incomplete input or usage error.
    """
    from diagnostics.analysis import analyze_paths

    if fmt not in ("text", "json", "markdown"):
        raise typer.BadParameter("--format must be text, json or markdown")
    try:
        tzinfo, tz_label = resolve_tz(tz)
    except TimeSpecError as exc:
        raise typer.BadParameter(str(exc)) from None
    evidence = _host_evidence(host_evidence)
    err = stderr_console()
    show_progress = err.is_terminal and not quiet
    progress_bar = Progress(TextColumn("[bold]reading[/bold] {task.description}"), BarColumn(), DownloadColumn(),
                            TransferSpeedColumn(), TimeElapsedColumn(), console=err, transient=True, disable=not show_progress)
    tasks: dict[str, int] = {}

    def progress(name: str, nbytes: int) -> None:
        if name not in tasks:
            try:
                total = os.path.getsize(name) if not name.endswith(".gz") else None
            except OSError:
                total = None
            tasks[name] = progress_bar.add_task(os.path.basename(name), total=total)
        progress_bar.advance(tasks[name], nbytes)

    with progress_bar:
        result = analyze_paths(paths, tz=tzinfo, tz_name=tz_label, rule_dirs=rules, paste=paste, host_evidence=evidence,
                               ping_interval=ping_interval, ping_timeout=ping_timeout, progress=progress,
                               jobs=jobs, dask_scheduler=dask_scheduler)
    doc = result.document
    for e in doc["errors"]:
        warn(e["message"])
    if fmt == "json":
        text = json.dumps(doc, indent=2, default=str) + "\n"
    elif fmt == "markdown":
        text = render_markdown(doc)
    elif quiet:
        text = "\n".join(render_quiet(doc)) + "\n"
    else:
        text = None
    if output:
        if text is None:
            console = stdout_console(soft_wrap=False)
            with console.capture() as cap:
                render_text(doc, console, verbose)
            text = cap.get()
        write_atomically(output, text)
    elif text is not None:
        sys.stdout.write(text)
    else:
        render_text(doc, stdout_console(soft_wrap=False), verbose)
    raise typer.Exit(int(STATUS_EXIT[doc["summary"]["status"]]))


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
