"""`CaptureReport` -> shared `Fact`s, so rules and the correlator treat a capture like any other evidence."""

from __future__ import annotations

from diagnostics.heartbeat.capture_analysis import analyze_capture
from diagnostics.heartbeat.capture_report import CaptureReport
from diagnostics.model import Fact
from diagnostics.model.heartbeat_facts import HeartbeatCapture, HeartbeatFlow, HeartbeatGap, HeartbeatReconnect


def facts_from_report(report: CaptureReport) -> list[Fact]:
    """One HeartbeatCapture, one HeartbeatFlow per connection, one HeartbeatGap per silence over the
    threshold and one HeartbeatReconnect per agent/server pair that reconnected."""
    facts: list[Fact] = [
        HeartbeatCapture(
            ts=report.start,
            path=report.path,
            line=1 if report.packets else 0,
            text=report.summary,
            port=report.port,
            start=report.start,
            end=report.end,
            packets=report.packets,
            port_segments=report.port_segments,
            flows=len(report.flows),
            snaplen=report.snaplen,
            read_completely=report.read_completely,
            truncated_last_record=report.truncated_last_record,
            severity=report.severity,
        )
    ]
    for fr in report.flows:
        facts.append(
            HeartbeatFlow(
                ts=fr.start,
                path=report.path,
                line=fr.first_frame,
                text=f"{fr.agent_ip}:{fr.agent_port} -> {fr.server_ip}:{fr.server_port} {fr.verdict}: " + "; ".join(fr.reasons),
                flow=fr.number,
                agent_ip=fr.agent_ip,
                agent_port=fr.agent_port,
                server_ip=fr.server_ip,
                server_port=fr.server_port,
                start=fr.start,
                end=fr.end,
                duration_s=fr.duration_s,
                data_segments=fr.agent_data_segments,
                median_interval_s=fr.median_interval_s,
                p95_interval_s=fr.p95_interval_s,
                longest_gap_s=fr.longest_gap_s,
                longest_gap_start=fr.longest_gap_start,
                retransmissions=fr.retransmissions,
                dup_acks=fr.dup_acks,
                zero_windows=fr.zero_windows,
                rst_by=fr.rst_by,
                fin_by=fr.fin_by,
                tls_handshake=fr.tls_handshake,
                capture_loss=fr.capture_loss,
                verdict=fr.verdict,
                severity=fr.severity,
                reasons=tuple(fr.reasons),
            )
        )
        for gap in fr.gaps:
            facts.append(
                HeartbeatGap(
                    ts=gap.start,
                    path=report.path,
                    line=gap.start_frame,
                    text=f"no agent data from {fr.agent_ip} for {gap.duration_s:.1f} s (threshold {report.gap_threshold_s:g} s)",
                    flow=fr.number,
                    agent_ip=fr.agent_ip,
                    server_ip=fr.server_ip,
                    start=gap.start,
                    end=gap.end,
                    duration_s=gap.duration_s,
                    threshold_s=report.gap_threshold_s,
                    trailing=gap.trailing,
                )
            )
    for rc in report.reconnects:
        first_frame = next((fr.first_frame for fr in report.flows if fr.is_reconnect and fr.agent_ip == rc.agent_ip and fr.server_ip == rc.server_ip), 0)
        facts.append(
            HeartbeatReconnect(
                ts=rc.first,
                path=report.path,
                line=first_frame,
                text=f"agent {rc.agent_ip} reconnected to {rc.server_ip}:{rc.server_port} {rc.count} time(s)",
                agent_ip=rc.agent_ip,
                server_ip=rc.server_ip,
                server_port=rc.server_port,
                count=rc.count,
                first=rc.first,
                last=rc.last,
            )
        )
    return facts


def facts_from_capture(path: str, *, port: int = 8250, ping_interval: float = 60.0, ping_timeout: float = 2.5) -> tuple[list[Fact], list[str]]:
    """Facts of one capture plus its one-line problems (unreadable file, damage, unsupported link type)."""
    report = analyze_capture(path, port=port, ping_interval=ping_interval, ping_timeout=ping_timeout)
    return facts_from_report(report), list(report.problems)
