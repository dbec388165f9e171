"""One verdict per heartbeat connection, from the strongest evidence down.

Order: an unanswered SYN, a failed TLS handshake or an abort (RST) is seen directly, so it stands even in a lossy capture;
capture loss then makes everything weaker inconclusive (the missing segments might hold the pings);
then silence beyond ping.interval x ping.timeout (CloudStack's own cut-off for "behind on ping"),
then zero windows, retransmissions and duplicate ACKs, then an orderly close.
A connection that was replaced by a new one between the same hosts is a warning, not critical:
the agent came back.
"""

from __future__ import annotations

from diagnostics.heartbeat.capture_report import FlowReport

LATE_FACTOR = 1.5  # an agent interval this many ping intervals long is late, though not yet timed out


def judge_flow(flow: FlowReport, *, ping_interval: float, gap_threshold: float) -> None:
    """Set `verdict`, `severity` and `reasons` of one flow in place."""
    reasons = flow.reasons
    back = flow.reconnected_after_s is not None
    again = f"the agent reconnected {flow.reconnected_after_s:.1f} s later" if back else "no reconnect in the capture"
    if not flow.handshake_seen:
        reasons.append("the connection started before the capture")
    if flow.duplicate_frames:
        reasons.append(f"{flow.duplicate_frames} frame(s) captured twice within 1 ms (one segment seen on two interfaces); ignored")
    if flow.is_reconnect:
        reasons.append("a reconnect: an earlier connection between the same hosts had ended")
    if flow.handshake_seen and flow.packets_server == 0:
        tries = flow.retransmissions + 1
        reasons.append(f"the server never answered the agent's SYN ({tries} attempt(s)); {again}")
        _set(flow, "unanswered", "warning" if back else "critical")
    if flow.tls_handshake == "failed":  # before the RST: an abort after a failed handshake is its symptom
        reasons.append(f"TLS handshake failed: {flow.tls_detail}; {again}")
        _set(flow, "tls_failed", "warning" if back else "critical")
    if flow.rst_by:
        reasons.append(f"RST from the {flow.rst_by} (frame {flow.rst_frame}); {again}")
        _set(flow, "reset", "warning" if back else "critical")
    if flow.capture_loss:
        reasons.append(
            f"{flow.capture_loss} segment(s) missing from the capture (previous segment not captured / ACKed unseen): "
            "the capture, not the network, is incomplete"
        )
        _set(flow, "inconclusive", "unknown")
    # with segments missing, silence and resends may be artefacts of the capture: report them, judge nothing
    lossy_capture = bool(flow.capture_loss)
    if flow.gaps:
        worst = max(flow.gaps, key=lambda g: g.duration_s)
        still = " and still silent at the end of the capture" if worst.trailing else ""
        reasons.append(
            f"{len(flow.gaps) + flow.gaps_not_listed} agent silence(s) over {gap_threshold:g} s "
            f"(ping.interval x ping.timeout); longest {worst.duration_s:.1f} s from {worst.start:%H:%M:%S}{still}"
        )
        _set(flow, "gap", "unknown" if lossy_capture else "critical")
    elif flow.longest_gap_s is not None and flow.longest_gap_s > ping_interval * LATE_FACTOR:
        reasons.append(f"a late ping: {flow.longest_gap_s:.1f} s without agent data (ping.interval {ping_interval:g} s)")
        _set(flow, "gap", "unknown" if lossy_capture else "warning")
    if flow.zero_windows:
        reasons.append(f"{flow.zero_windows} zero-window segment(s) from the {' and '.join(flow.zero_window_by)} (receiver not reading)")
        _set(flow, "zero_window", "warning")
    if flow.retransmissions or flow.dup_acks:
        by = f" by the {' and '.join(flow.retransmissions_by)}" if flow.retransmissions_by else ""
        reasons.append(f"{flow.retransmissions} retransmission(s){by}, {flow.dup_acks} duplicate ACK(s)")
        _set(flow, "lossy", "unknown" if lossy_capture else "warning")
    if flow.fin_by and not flow.rst_by:
        reasons.append(f"closed (FIN) by the {' and '.join(flow.fin_by)}; {again}")
        _set(flow, "closed", "warning")
    if flow.verdict == "healthy" and flow.agent_data_segments < 2 and not flow.closed_at:
        reasons.append("fewer than two agent data segments: too short to judge the heartbeat")
        _set(flow, "inconclusive", "unknown")


_RANK = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}


def _set(flow: FlowReport, verdict: str, severity: str) -> None:
    """Keep the first (strongest) verdict; raise severity, except that 'unknown' never hides 'critical'."""
    if flow.verdict == "healthy":
        flow.verdict = verdict
    if _RANK[severity] < _RANK[flow.severity]:
        flow.severity = severity
