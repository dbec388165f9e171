"""Print a `CaptureReport` for a person: a summary, then one table per connection, verdict coloured.

Colour comes from the console (NO_COLOR turns it off); the words carry the meaning on their own.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from diagnostics.heartbeat.capture_report import CaptureReport, FlowReport

SEVERITY_STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red", "unknown": "magenta"}


def _t(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z" if value else "-"


def _s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _flow_table(fr: FlowReport, report: CaptureReport) -> Table:
    verdict = Text(f"{fr.verdict.upper()} ({fr.severity})", style=SEVERITY_STYLE[fr.severity])
    title = Text.assemble(
        f"Connection {fr.number}: agent {fr.agent_ip}:{fr.agent_port} -> server {fr.server_ip}:{fr.server_port}  ", verdict
    )
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column("what", style="bold")
    table.add_column("value")
    opened = "SYN seen" if fr.handshake_seen else "started before the capture"
    table.add_row("time", f"{_t(fr.start)} -> {_t(fr.end)} ({_s(fr.duration_s)}, {opened}; frames {fr.first_frame}-{fr.last_frame})")
    table.add_row("packets / bytes", f"agent {fr.packets_agent} / {fr.bytes_agent} B, server {fr.packets_server} / {fr.bytes_server} B")
    table.add_row(
        "agent data",
        f"{fr.agent_data_segments} segments, interval median {_s(fr.median_interval_s)}, p95 {_s(fr.p95_interval_s)}",
    )
    longest = "-" if fr.longest_gap_s is None else f"{_s(fr.longest_gap_s)} from {_t(fr.longest_gap_start)}"
    table.add_row("longest silence", f"{longest} (threshold {report.gap_threshold_s:g} s)")
    table.add_row(
        "tcp",
        f"retransmissions {fr.retransmissions}, dup ACKs {fr.dup_acks}, zero windows {fr.zero_windows}, "
        f"keep-alives {fr.keepalives}, capture loss {fr.capture_loss}"
        + (f", duplicate frames {fr.duplicate_frames}" if fr.duplicate_frames else ""),
    )
    closing = []
    if fr.rst_by:
        closing.append(f"RST by {fr.rst_by} at {_t(fr.rst_at)}")
    if fr.fin_by:
        closing.append(f"FIN by {' and '.join(fr.fin_by)}")
    if fr.reconnected_after_s is not None:
        closing.append(f"reconnected after {_s(fr.reconnected_after_s)}")
    table.add_row("close", "; ".join(closing) or "open at the end of the capture")
    table.add_row("tls", fr.tls_handshake + (f" ({fr.tls_detail})" if fr.tls_detail else ""))
    for gap in fr.gaps:
        table.add_row("gap", Text(f"{_s(gap.duration_s)} from {_t(gap.start)} to {_t(gap.end)}" + (" (capture ended)" if gap.trailing else ""), style="red"))
    for reason in fr.reasons:
        table.add_row("why", reason)
    return table


def print_report(report: CaptureReport, console: Console) -> None:
    style = SEVERITY_STYLE[report.severity]
    if report.fmt == "unknown":  # nothing was readable; the problem lines on stderr say why
        console.print(Text.assemble(("Heartbeat capture ", "bold"), report.path, "  ", ("UNREADABLE", style)))
        return
    console.print(Text.assemble(("Heartbeat capture ", "bold"), report.path, "  ", (report.severity.upper(), style)))
    console.print(
        f"{report.fmt}, {', '.join(report.linktypes) or 'no link type'}, snaplen {report.snaplen or '-'}; "
        f"{report.packets} packets, {report.port_segments} on port {report.port}; {_t(report.start)} -> {_t(report.end)}"
    )
    console.print(f"ping.interval {report.ping_interval:g} s x ping.timeout {report.ping_timeout:g} = silence threshold {report.gap_threshold_s:g} s")
    console.print(report.summary)
    for rc in report.reconnects:
        console.print(f"reconnects: agent {rc.agent_ip} -> {rc.server_ip}:{rc.server_port}: {rc.count} ({_t(rc.first)} .. {_t(rc.last)})")
    for fr in report.flows:
        console.print()
        console.print(_flow_table(fr, report))
