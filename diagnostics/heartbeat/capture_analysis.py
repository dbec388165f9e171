"""pcap -> `CaptureReport`: one streaming pass, per-flow state, verdicts at the end.

Memory grows with the number of connections, never with the number of packets.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from diagnostics.heartbeat.capture_file import CaptureInfo, read_records
from diagnostics.heartbeat.capture_report import SEVERITY_ORDER, CaptureReport, FlowReport, GapReport, ReconnectReport
from diagnostics.heartbeat.flow_verdict import judge_flow
from diagnostics.heartbeat.packet_decode import ACK, LINK_NAMES, SYN, decode_segment, ip_text
from diagnostics.heartbeat.tcp_flow import DirectionState, FlowState


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def check_settings(port: int, ping_interval: float, ping_timeout: float) -> str | None:
    """A one-line complaint about nonsensical settings, or None."""
    if not 0 < port < 65536:
        return f"port must be 1..65535, not {port}"
    for name, value in (("ping interval", ping_interval), ("ping timeout", ping_timeout)):
        if not math.isfinite(value) or value <= 0:
            return f"{name} must be a positive number, not {value}"
    return None


def analyze_capture(path: str, *, port: int = 8250, ping_interval: float = 60.0, ping_timeout: float = 2.5) -> CaptureReport:
    """Read a pcap/pcapng capture of the agent link and judge each connection on `port`.

    Never raises for bad input: damage and unreadable files end up as one-line `problems`, and whatever
    was read before the damage is still analysed.
    """
    bad = check_settings(port, ping_interval, ping_timeout)
    if bad:
        raise ValueError(bad)
    threshold = ping_interval * ping_timeout
    report = CaptureReport(path=path, port=port, ping_interval=ping_interval, ping_timeout=ping_timeout, gap_threshold_s=threshold)
    info = CaptureInfo(path)
    flows: list[FlowState] = []
    span = [math.inf, -math.inf]
    try:
        with open(path, "rb") as fh:
            report.port_segments = _scan(fh, info, port, threshold, burst_window(ping_interval), flows, span)
    except OSError as exc:
        info.problems.append(f"{path}: cannot read ({exc.strerror or exc})")
        info.damaged = True
    except MemoryError:
        info.problems.append(f"{path}: out of memory while reading; results are partial")
        info.damaged = True
    report.fmt = info.fmt
    report.snaplen = info.snaplen
    report.linktypes = tuple(LINK_NAMES.get(lt, f"unsupported link type {lt}") for lt in sorted(info.linktypes))
    for lt in sorted(info.linktypes):
        if lt not in LINK_NAMES:
            info.problems.append(f"{path}: link type {lt} is not supported; its packets were skipped")
    report.packets = info.records
    report.truncated_last_record = info.truncated_last_record
    report.read_completely = not info.damaged
    report.problems = info.problems
    if span[0] <= span[1]:
        report.start, report.end = _utc(span[0]), _utc(span[1])
        report.duration_s = span[1] - span[0]
    for flow in flows:
        flow.finish(span[1])
    report.flows = [_flow_report(n, f) for n, f in enumerate(flows, 1)]
    report.reconnects = _link_reconnects(flows, report.flows)
    for fr in report.flows:
        judge_flow(fr, ping_interval=ping_interval, gap_threshold=threshold)
    _judge_capture(report)
    return report


def burst_window(ping_interval: float) -> float:
    """Agent segments closer than this belong to one burst (a tenth of the ping interval, at most 1 s)."""
    return min(1.0, ping_interval / 10)


def _scan(fh, info: CaptureInfo, port: int, threshold: float, burst: float, flows: list[FlowState], span: list[float]) -> int:
    """The hot loop. Returns how many TCP segments on `port` it saw."""
    index: dict[tuple[bytes, int, bytes, int], tuple[FlowState, bool]] = {}
    lo, hi = span
    frame = 0
    hits = 0
    for ts, linktype, data, origlen in read_records(fh, info):
        frame += 1
        if ts < lo:
            lo = ts
        if ts > hi:
            hi = ts
        seg = decode_segment(linktype, data, origlen, port)
        if seg is None:
            continue
        hits += 1
        src, sport, dst, dport, seq, ack, flags, window, plen, head = seg
        hit = index.get((src, sport, dst, dport))
        if hit is None or (flags & SYN and not flags & ACK and _is_new_connection(hit[0], seq)):
            flow = _new_flow(src, sport, dst, dport, flags, port, ts, frame, threshold, burst)
            flows.append(flow)
            a, s = (flow.agent_ip, flow.agent_port), (flow.server_ip, flow.server_port)
            index[(a[0], a[1], s[0], s[1])] = (flow, True)
            index[(s[0], s[1], a[0], a[1])] = (flow, False)
            from_agent = flow.agent_ip == src and flow.agent_port == sport
        else:
            flow, from_agent = hit
        flow.update(ts, frame, from_agent, seq, ack, flags, window, plen, head)
    span[0], span[1] = lo, hi
    return hits


def _is_new_connection(old: FlowState, syn_seq: int) -> bool:
    """A bare SYN on a known 4-tuple starts a new connection unless it retransmits the old one's SYN."""
    return old.closed or old.agent.isn != syn_seq


def _new_flow(src: bytes, sport: int, dst: bytes, dport: int, flags: int, port: int, ts: float, frame: int, threshold: float, burst: float) -> FlowState:
    """Decide which end is the management server: the SYN's target, else the end on the heartbeat port."""
    if flags & SYN:
        server_is_dst = not flags & ACK
    else:
        server_is_dst = dport == port
    if server_is_dst:
        return FlowState(src, sport, dst, dport, ts, frame, threshold, burst)
    return FlowState(dst, dport, src, sport, ts, frame, threshold, burst)


def _sides(agent: DirectionState, server: DirectionState, attr: str) -> tuple[str, ...]:
    return tuple(name for name, d in (("agent", agent), ("server", server)) if getattr(d, attr))


def _flow_report(number: int, f: FlowState) -> FlowReport:
    a, s = f.agent, f.server
    rst_by = None
    rst_ts, rst_frame = None, 0
    for name, d in (("agent", a), ("server", s)):
        if d.rst_ts is not None and (rst_ts is None or d.rst_ts < rst_ts):
            rst_by, rst_ts, rst_frame = name, d.rst_ts, d.rst_frame
    fins = sorted((d.fin_ts, name) for name, d in (("agent", a), ("server", s)) if d.fin_ts is not None)
    gap = f.longest_gap
    return FlowReport(
        number=number,
        agent_ip=ip_text(f.agent_ip),
        agent_port=f.agent_port,
        server_ip=ip_text(f.server_ip),
        server_port=f.server_port,
        start=_utc(f.first_ts),
        end=_utc(f.last_ts),
        duration_s=max(0.0, f.last_ts - f.first_ts),
        handshake_seen=f.syn_seen,
        first_frame=f.first_frame,
        last_frame=f.last_frame,
        packets_agent=a.packets,
        packets_server=s.packets,
        bytes_agent=a.payload_bytes,
        bytes_server=s.payload_bytes,
        agent_data_segments=a.data_segments,
        server_data_segments=s.data_segments,
        median_interval_s=f.cadence.quantile(0.5),
        p95_interval_s=f.cadence.quantile(0.95),
        longest_gap_s=gap.duration if gap else None,
        longest_gap_start=_utc(gap.start) if gap else None,
        gaps=[GapReport(_utc(g.start), _utc(g.end), g.duration, g.start_frame, g.trailing) for g in f.gaps],
        gaps_not_listed=f.gaps_dropped,
        retransmissions=a.retransmissions + s.retransmissions,
        retransmissions_by=_sides(a, s, "retransmissions"),
        dup_acks=a.dup_acks + s.dup_acks,
        keepalives=a.keepalives + s.keepalives,
        zero_windows=a.zero_windows + s.zero_windows,
        zero_window_by=_sides(a, s, "zero_windows"),
        capture_loss=a.capture_loss + s.capture_loss,
        duplicate_frames=a.duplicate_frames + s.duplicate_frames,
        rst_by=rst_by,
        rst_at=_utc(rst_ts) if rst_ts is not None else None,
        rst_frame=rst_frame,
        fin_by=tuple(name for _, name in fins),
        closed_at=_utc(f.closed_ts) if f.closed_ts is not None else None,
        tls_handshake=f.tls.state,
        tls_detail=f.tls.detail,
        is_reconnect=False,
        reconnected_after_s=None,
    )


def _link_reconnects(flows: list[FlowState], reports: list[FlowReport]) -> list[ReconnectReport]:
    """A connection that starts with a SYN after the previous one between the same hosts ended is a reconnect."""
    groups: dict[tuple[bytes, bytes, int], list[int]] = {}
    for i, f in enumerate(flows):
        groups.setdefault((f.agent_ip, f.server_ip, f.server_port), []).append(i)
    out = []
    for (agent_ip, server_ip, server_port), members in groups.items():
        members.sort(key=lambda i: flows[i].first_ts)
        starts = []
        for prev_i, cur_i in zip(members, members[1:]):
            prev, cur = flows[prev_i], flows[cur_i]
            ended = prev.closed_ts if prev.closed_ts is not None else prev.last_ts
            if cur.syn_seen and cur.first_ts >= ended:
                reports[prev_i].reconnected_after_s = cur.first_ts - ended
                reports[cur_i].is_reconnect = True
                starts.append(cur.first_ts)
        if starts:
            out.append(ReconnectReport(ip_text(agent_ip), ip_text(server_ip), server_port, len(starts), _utc(starts[0]), _utc(starts[-1])))
    return out


def _judge_capture(report: CaptureReport) -> None:
    severities = {fr.severity for fr in report.flows}
    worst = next((s for s in SEVERITY_ORDER if s in severities), "unknown")
    if not report.flows:
        if report.read_completely:
            report.problems.append(f"{report.path}: no TCP segments on port {report.port} in {report.packets} packet(s)")
        worst = "unknown"
    elif not report.read_completely and worst != "critical":
        worst = "unknown"
    report.severity = worst
    counts: dict[str, int] = {}
    for fr in report.flows:
        counts[fr.verdict] = counts.get(fr.verdict, 0) + 1
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    reconnects = sum(r.count for r in report.reconnects)
    report.summary = (
        f"{len(report.flows)} connection(s) on port {report.port}"
        + (f": {verdicts}" if verdicts else "")
        + (f"; {reconnects} reconnect(s)" if reconnects else "")
    )
