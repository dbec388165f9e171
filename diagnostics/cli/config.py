"""`csdiag config show`: the defaults in force and where each comes from (flags > env > user file > system file)."""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from diagnostics.cli.common import ExitCode, check_format, format_option, warn

config_app = typer.Typer(name="config", help="Show the configuration in force (config files, environment, flags).",
                         no_args_is_help=True)


@config_app.command("show")
def show(
    tz: Optional[str] = typer.Option(None, "--tz", help="As for analyze: shows how a flag would win."),
    rules: Optional[List[str]] = typer.Option(None, "--rules", help="As for analyze (repeatable)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="As for analyze (repeatable)."),
    ping_interval: Optional[float] = typer.Option(None, "--ping-interval"),
    ping_timeout: Optional[float] = typer.Option(None, "--ping-timeout"),
    fmt: str = format_option("text", ("text", "json"), "text or json."),
) -> None:
    """Every setting with its value and source; the files looked at; the precedence."""
    from diagnostics.config import load_config, show_lines

    check_format(fmt, ("text", "json"))
    cfg = load_config({"tz": tz, "rules": rules or [], "ignore": ignore or [], "ping_interval": ping_interval,
                       "ping_timeout": ping_timeout})
    for message in cfg.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(json.dumps({"values": cfg.values, "sources": cfg.sources, "probe": cfg.probe,
                                     "files": [{"path": p, "state": s} for p, s in cfg.files]}, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(show_lines(cfg)) + "\n")
    raise typer.Exit(int(ExitCode.UNKNOWN) if cfg.warnings else int(ExitCode.OK))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
