"""`csdiag analyze`: every rule over everything under the given paths; the answer for people or machines."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn, DownloadColumn

from diagnostics.cli.common import ExitCode, check_format, format_option, stderr_console, stdout_console, warn
from diagnostics.report.markdown_report import render_markdown
from diagnostics.report.text_report import render_quiet, render_text
from diagnostics.sources.timezones import TimeSpecError, parse_when, resolve_tz
from diagnostics.untrusted import for_terminal

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


FORMATS = ("text", "json", "markdown", "html")
_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".txt": "text"}
_DEFAULT_NAMES = {"text": "csdiag-report.txt", "json": "csdiag-report.json", "markdown": "csdiag-report.md", "html": "csdiag-report.html"}


def output_target(output: str, fmt: str | None) -> tuple[str, str]:
    """(file to write, format): `-o DIR/` (or an existing folder) gets csdiag-report.<ext> inside it; the format
    follows the file's extension unless --format says otherwise. Checked before the analysis, so a bad target costs
    one line, not a whole analysis and an "internal error"."""
    path = os.path.expanduser(output)
    if output.endswith(("/", os.sep)) or os.path.isdir(path):
        if not os.path.isdir(path):
            raise typer.BadParameter(f"-o {output}: folder does not exist")
        fmt = fmt or "text"
        path = os.path.join(path, _DEFAULT_NAMES[fmt])
    else:
        fmt = fmt or _EXTENSIONS.get(os.path.splitext(path)[1].lower(), "text")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise typer.BadParameter(f"-o {output}: folder {folder} does not exist")
    if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        raise typer.BadParameter(f"-o {output}: folder is not writable")
    return path, fmt


def plain_console(file) -> Console:
    """No colour, no wrapping: files, pipes, CI logs and mail get whole lines."""
    return Console(file=file, no_color=True, color_system=None, highlight=False, soft_wrap=True, width=10_000,
                   force_terminal=False)


def render(doc: dict, fmt: str, quiet: bool, verbose: bool) -> str | None:
    """The report as text, or None for the text report on a terminal (printed live, in colour)."""
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str) + "\n"
    if fmt == "markdown":
        return render_markdown(doc, verbose=verbose)
    if fmt == "html":
        from diagnostics.report.html_report import render_html

        return render_html(doc)
    if quiet:
        return "\n".join(render_quiet(doc)) + "\n"
    return None


def analyze(
    paths: list[str] = typer.Argument(..., help="Logs (.gz too), directories, host evidence, pcaps, probe folders, bundles, sosreports; - for stdin."),
    fmt: Optional[str] = format_option(None, FORMATS, "text (default), json (schema csdiag/v1), markdown or html. Default for -o: from the file's extension."),
    rules: list[str] = typer.Option([], "--rules", help="An extra rule folder (repeatable), added to the built-in rules and those of the config file."),
    ignore: list[str] = typer.Option([], "--ignore", metavar="RULE_ID", help="Never report this rule (repeatable; fnmatch patterns such as 'host.*' allowed)."),
    tz: Optional[str] = typer.Option(None, "--tz", help="Zone of the logs' naive timestamps (IANA name, UTC, +02:00). Default: config, else the local zone."),
    since: Optional[str] = typer.Option(None, "--since", help="Only facts from this time: absolute (2025-03-10 14:00) or relative to now (2h, 30m)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only facts up to this time: absolute or relative to now."),
    vm: Optional[str] = typer.Option(None, "--vm", help="Only this VM (instance name or UUID) and the jobs that touched it."),
    host: Optional[str] = typer.Option(None, "--host", help="Only this host (name or CloudStack id) and the jobs that touched it."),
    host_evidence: list[str] = typer.Option([], "--host-evidence", help="HOST=PATH: tie a file or folder of host evidence to a host (repeatable)."),
    paste: Optional[bool] = typer.Option(None, "--paste/--no-paste", help="Repair a ticket paste (quotes, wrapping, links). Default: detect."),
    ping_interval: Optional[float] = typer.Option(None, "--ping-interval", help="ping.interval of the management server, seconds (heartbeat gaps). Default: config, else 60."),
    ping_timeout: Optional[float] = typer.Option(None, "--ping-timeout", help="ping.timeout multiplier of the management server. Default: config, else 2.5."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file (atomically) instead of stdout; a folder gets csdiag-report.<ext>."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="One line per incident with its own status, plus one per critical/warning finding outside the incidents."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Every finding with all its evidence lines and commands."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Keep secrets (API keys, passwords, session keys) in the report. Default: redacted, as in bundles."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes reading the inputs. Default: every core; 1: no workers."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", help="Read the inputs on this Dask cluster (tcp://HOST:PORT; files on storage the workers share; extra [fleet])."),
) -> None:
    """Diagnose: parse every input, run every rule, correlate, and say what failed, why and what to do next.

    Exit codes (Nagios): 0 nothing above info, 1 warning (a failed operation is at least this), 2 critical,
    3 incomplete input, a missing/empty/broken rules folder, or a usage error.
    """
    if dask_scheduler is None:
        from diagnostics.parallel.pool import prestart

        prestart(paths, jobs)  # the workers' fork server starts importing on another core while the rules load
    from diagnostics.analysis import Scope, analyze_paths, rule_folder_problems
    from diagnostics.config import load_config
    from diagnostics.report.document import redact_document

    if fmt is not None:
        check_format(fmt, FORMATS)
    cfg = load_config({"tz": tz, "rules": rules, "ignore": ignore, "ping_interval": ping_interval, "ping_timeout": ping_timeout})
    for message in cfg.warnings:
        warn(message)
    try:
        tzinfo, tz_label = resolve_tz(cfg.get("tz"))
        scope = Scope(since=parse_when(since, tzinfo) if since else None, until=parse_when(until, tzinfo) if until else None,
                      vm=vm, host=host)
    except TimeSpecError as exc:
        raise typer.BadParameter(str(exc)) from None
    target = None
    if output:
        target, fmt = output_target(output, fmt)
    fmt = fmt or "text"
    problems = rule_folder_problems(cfg.get("rules"))
    if problems:
        for problem in problems:
            warn(problem)
        raise typer.Exit(int(ExitCode.UNKNOWN))
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
            tasks[name] = progress_bar.add_task(escape(os.path.basename(name)), total=total)
        progress_bar.advance(tasks[name], nbytes)

    with progress_bar:
        result = analyze_paths(paths, tz=tzinfo, tz_name=tz_label, rule_dirs=cfg.get("rules"), paste=paste, host_evidence=evidence,
                               ping_interval=cfg.get("ping_interval"), ping_timeout=cfg.get("ping_timeout"), progress=progress,
                               ignore=cfg.get("ignore"), scope=scope, jobs=jobs, dask_scheduler=dask_scheduler)
    doc = result.document if no_redact else redact_document(result.document)
    _unmatched_scope(doc, vm, host)
    for e in doc["errors"]:
        warn(for_terminal(e["message"]))
    text = render(doc, fmt, quiet, verbose)
    if target:
        if text is None:
            buffer = io.StringIO()
            render_text(doc, plain_console(buffer), verbose)
            text = buffer.getvalue()
        write_atomically(target, text)
    elif text is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        console = stdout_console(soft_wrap=True)
        render_text(doc, console if console.is_terminal else plain_console(sys.stdout), verbose)
        sys.stdout.flush()
    code = STATUS_EXIT[doc["summary"]["status"]]
    if result.rule_errors:
        code = ExitCode.UNKNOWN  # some rules were not applied: the answer cannot be trusted to be complete
    raise typer.Exit(int(code))


def _unmatched_scope(doc: dict, vm: str | None, host: str | None) -> None:
    """--vm/--host that no fact of the inputs names (a typo, the wrong VM) is not "OK, no problems": nothing was
    analysed for it. The run becomes UNKNOWN with one error line naming the filter, in every format."""
    if not (vm or host) or doc["summary"]["facts"] or not any(item.get("facts") for item in doc["inputs"]):
        return
    what = " and ".join(f"{flag} {value}" for flag, value in (("--vm", vm), ("--host", host)) if value)
    doc["errors"].append({"path": what, "message": f"{what}: no record of the inputs names it; nothing was analysed "
                                                   "(check the instance name, UUID or host name)"})
    doc["summary"]["errors"] = len(doc["errors"])
    doc["summary"]["status"] = "UNKNOWN"


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
