"""`csdiag heartbeat FILE.pcap`: judge the agent <-> management server link (port 8250) in a capture."""

from __future__ import annotations

import json
import sys
from enum import Enum

import typer

from diagnostics.cli.common import ExitCode, die, stdout_console, warn

SEVERITY_EXIT = {"ok": ExitCode.OK, "warning": ExitCode.WARNING, "critical": ExitCode.CRITICAL, "unknown": ExitCode.UNKNOWN}


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def heartbeat(
    capture: str = typer.Argument(..., metavar="FILE.pcap", help="pcap or pcapng capture, e.g. from tcpdump -i any -w FILE 'tcp port 8250'."),
    ping_interval: float = typer.Option(60.0, "--ping-interval", help="CloudStack ping.interval in seconds."),
    ping_timeout: float = typer.Option(2.5, "--ping-timeout", help="CloudStack ping.timeout multiplier; silence beyond interval x timeout is critical."),
    port: int = typer.Option(8250, "--port", help="Agent port on the management server."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text (tables) or json (schema: heartbeat.schema.json in diagnostics/report)."),
) -> None:
    """Per connection: cadence of agent pings, silences, retransmissions, resets, reconnects, TLS handshake.

    Exit codes: 0 healthy, 1 warning, 2 critical (silence over the threshold, RST without reconnect,
    failed TLS), 3 unreadable capture or inconclusive (segments missing from the capture).
    """
    from diagnostics.heartbeat.capture_analysis import analyze_capture, check_settings
    from diagnostics.heartbeat.terminal_view import print_report

    bad = check_settings(port, ping_interval, ping_timeout)
    if bad:
        die(bad, ExitCode.UNKNOWN)
    report = analyze_capture(capture, port=port, ping_interval=ping_interval, ping_timeout=ping_timeout)
    for problem in report.problems:
        warn(problem)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        print_report(report, stdout_console())
    raise typer.Exit(int(SEVERITY_EXIT[report.severity]))


def register(app: typer.Typer) -> None:
    """Add `heartbeat` to the csdiag app."""
    app.command("heartbeat")(heartbeat)
