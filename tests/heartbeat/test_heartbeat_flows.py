"""Per-connection analysis: each test scripts one event on an otherwise normal heartbeat link, writes it
to a pcap with scapy and checks what analyze_capture concludes."""

from __future__ import annotations

import pytest
from heartbeat_builders import ALERT, ANSWER, CLIENT_HELLO, PING, SERVER_HELLO, T0, Conversation, Side

from diagnostics.heartbeat import analyze_capture


def only_flow(report):
    assert len(report.flows) == 1, report.flows
    return report.flows[0]


def test_regular_pings_are_healthy_with_their_cadence(pcap, link):
    report = analyze_capture(pcap(link(pings=6, interval=60.0).packets))
    flow = only_flow(report)
    assert (flow.verdict, flow.severity, report.severity) == ("healthy", "ok", "ok")
    assert (flow.agent_ip, flow.agent_port, flow.server_ip, flow.server_port) == ("192.0.2.21", 41000, "192.0.2.5", 8250)
    assert flow.median_interval_s == pytest.approx(60.0, abs=0.01)
    assert flow.p95_interval_s == pytest.approx(60.1, abs=0.01)  # the first burst starts at the ClientHello
    assert flow.longest_gap_s == pytest.approx(60.0, abs=0.01)
    assert flow.gaps == [] and flow.retransmissions == flow.dup_acks == flow.capture_loss == 0
    assert flow.tls_handshake == "complete"
    assert flow.handshake_seen and flow.rst_by is None and flow.fin_by == ()


def test_silence_beyond_interval_times_timeout_is_a_critical_gap(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 3, 60.0)
    conv.pings(last + 200.0, 3, 60.0)
    flow = only_flow(report := analyze_capture(pcap(conv.packets)))
    assert (flow.verdict, flow.severity, report.severity) == ("gap", "critical", "critical")
    assert len(flow.gaps) == 1
    gap = flow.gaps[0]
    assert gap.duration_s == pytest.approx(200.0, abs=0.01) and not gap.trailing
    assert gap.start.timestamp() == pytest.approx(last, abs=0.001)
    assert flow.longest_gap_s == pytest.approx(200.0, abs=0.01)
    assert flow.longest_gap_start == gap.start


def test_threshold_follows_ping_interval_and_timeout(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 3, 60.0)
    conv.pings(last + 100.0, 3, 60.0)
    path = pcap(conv.packets)
    late = only_flow(analyze_capture(path))  # 100 s: late (> 1.5 x 60) but under 150 s
    assert (late.verdict, late.severity, late.gaps) == ("gap", "warning", [])
    strict = only_flow(analyze_capture(path, ping_interval=30.0, ping_timeout=2.0))  # threshold 60 s
    assert (strict.verdict, strict.severity) == ("gap", "critical")
    assert [round(g.duration_s) for g in strict.gaps] == [100]


def test_silence_still_running_at_the_end_of_the_capture_counts(pcap):
    quiet = Conversation()
    t = quiet.tls_handshake(quiet.handshake(T0) + 0.01)
    last = quiet.pings(t + 0.1, 3, 60.0)
    other = Conversation(agent=Side("192.0.2.22", 41001, 7000))  # another agent keeps the capture running
    t2 = other.tls_handshake(other.handshake(T0) + 0.01)
    other.pings(t2 + 0.1, 10, 60.0)
    report = analyze_capture(pcap(quiet.packets + other.packets))
    flow = report.flows[0]
    assert flow.agent_ip == "192.0.2.21"
    assert flow.verdict == "gap" and flow.severity == "critical"
    (gap,) = flow.gaps
    assert gap.trailing
    assert gap.start.timestamp() == pytest.approx(last, abs=0.001)
    assert gap.end == report.end
    assert report.flows[1].verdict == "healthy"


def test_retransmitted_data_makes_the_flow_lossy(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 3, 60.0)
    conv.data(t + 200.1, True, PING, ack_after=None)
    conv.retransmit_last(t + 200.4, True, PING)
    conv.retransmit_last(t + 201.0, True, PING)
    conv.pure_ack(t + 201.001, False)
    conv.pings(t + 240.1, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets), ping_interval=90.0))
    assert flow.retransmissions == 2 and flow.retransmissions_by == ("agent",)
    assert (flow.verdict, flow.severity) == ("lossy", "warning")
    assert flow.agent_data_segments == 2 + 3 + 1 + 2  # TLS handshake, pings, the resent one once, pings


def test_duplicate_acks_while_the_peer_has_data_outstanding(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 2, 60.0)
    t = t + 120.0
    conv.data(t, True, PING)
    # the server answers in two segments; the agent misses the first and says so three times
    conv.data(t + 0.003, False, ANSWER[:40], ack_after=None)
    conv.data(t + 0.004, False, ANSWER[40:], ack_after=None)
    for i in range(3):
        conv.pure_ack(t + 0.005 + i * 0.001, True, ack=conv.server.seq - len(ANSWER))
    conv.pure_ack(t + 0.010, True)
    conv.pings(t + 60.0, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.dup_acks >= 2
    assert (flow.verdict, flow.severity) == ("lossy", "warning")


def test_zero_window_from_the_server_means_it_is_not_reading(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 2, 60.0)
    conv.data(t + 120.1, True, PING, ack_after=None)
    conv.pure_ack(t + 120.2, False, window=0)
    conv.pure_ack(t + 121.2, False, window=0)
    conv.pure_ack(t + 122.0, False)
    conv.pings(t + 180.1, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.zero_windows == 2 and flow.zero_window_by == ("server",)
    assert (flow.verdict, flow.severity) == ("zero_window", "warning")


def test_keepalives_are_not_retransmissions(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 2, 60.0)
    conv.keepalive(t + 75.0, True)
    conv.pure_ack(t + 75.0002, False)
    conv.pings(t + 120.1, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.keepalives == 1 and flow.retransmissions == 0 and flow.dup_acks == 0
    assert flow.verdict == "healthy"


def test_segments_missing_from_the_capture_make_the_flow_inconclusive_not_faulty(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 2, 60.0)
    conv.lose_from_capture(True, len(PING) * 3)  # three pings the capture dropped: looks like a 240 s silence
    conv.pings(last + 240.0, 2, 60.0)
    report = analyze_capture(pcap(conv.packets))
    flow = only_flow(report)
    assert flow.capture_loss >= 1
    assert (flow.verdict, flow.severity, report.severity) == ("inconclusive", "unknown", "unknown")
    assert any("missing from the capture" in r for r in flow.reasons)
    assert flow.gaps  # still reported, just not judged


def test_ack_for_bytes_never_seen_is_capture_loss(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 2, 60.0)
    conv.lose_from_capture(False, 100)  # the server sent 100 bytes the capture missed ...
    conv.pure_ack(t + 61.0, True)  # ... and the agent acknowledges them
    conv.pings(t + 120.1, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.capture_loss == 1 and flow.verdict == "inconclusive"


def test_rst_without_reconnect_is_critical_and_names_the_sender(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 3, 60.0)
    conv.rst(last + 5.0, False)
    report = analyze_capture(pcap(conv.packets))
    flow = only_flow(report)
    assert (flow.verdict, flow.severity, flow.rst_by, report.severity) == ("reset", "critical", "server", "critical")
    assert flow.rst_at.timestamp() == pytest.approx(last + 5.0, abs=0.001)
    assert flow.reconnected_after_s is None and flow.gaps == []  # a closed flow has no trailing silence
    assert report.reconnects == []


def test_rst_then_reconnect_is_a_warning_with_a_reconnect_count(pcap):
    first = Conversation()
    t = first.tls_handshake(first.handshake(T0) + 0.01)
    last = first.pings(t + 0.1, 3, 60.0)
    first.rst(last + 1.0, True)
    packets = first.packets
    starts = []
    for n in range(2):
        again = Conversation(agent=Side("192.0.2.21", 41010 + n, 90000 * (n + 1)), server=Side("192.0.2.5", 8250, 700000 * (n + 1)))
        start = last + 11.0 + n * 200
        starts.append(start)
        t = again.tls_handshake(again.handshake(start) + 0.01)
        end = again.pings(t + 0.1, 2, 60.0)
        if n == 0:
            again.rst(end + 1.0, False)
        packets += again.packets
    report = analyze_capture(pcap(packets))
    assert [f.verdict for f in report.flows] == ["reset", "reset", "healthy"]
    assert [f.severity for f in report.flows] == ["warning", "warning", "ok"]
    assert report.flows[0].reconnected_after_s == pytest.approx(10.0, abs=0.01)
    assert [f.is_reconnect for f in report.flows] == [False, True, True]
    (rc,) = report.reconnects
    assert (rc.agent_ip, rc.server_ip, rc.count) == ("192.0.2.21", "192.0.2.5", 2)
    assert rc.first.timestamp() == pytest.approx(starts[0], abs=0.001)
    assert rc.last.timestamp() == pytest.approx(starts[1], abs=0.001)
    assert report.severity == "warning"


def test_orderly_close_is_reported_with_who_closed(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 3, 60.0)
    conv.fin(last + 1.0, True)
    conv.fin(last + 1.001, False)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.fin_by == ("agent", "server")
    assert (flow.verdict, flow.severity) == ("closed", "warning")
    assert flow.closed_at.timestamp() == pytest.approx(last + 1.001, abs=0.001)


def test_same_ports_reused_after_a_reset_are_two_connections(pcap):
    conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 2, 60.0)
    conv.rst(last + 1.0, True)
    conv.agent.seq, conv.server.seq = 3_000_000, 9_000_000
    t = conv.tls_handshake(conv.handshake(last + 5.0) + 0.01)
    conv.pings(t + 0.1, 2, 60.0)
    report = analyze_capture(pcap(conv.packets))
    assert [f.verdict for f in report.flows] == ["reset", "healthy"]
    assert report.flows[1].is_reconnect and report.reconnects[0].count == 1
    assert report.flows[1].retransmissions == 0 and report.flows[1].capture_loss == 0


def test_capture_started_mid_connection_uses_the_port_to_find_the_server(pcap):
    conv = Conversation()
    conv.handshake(T0)
    conv.tls_handshake(T0 + 0.01)
    conv.packets.clear()  # the capture starts later: first packet is the server's answer
    conv.data(T0 + 30.0, False, ANSWER)
    conv.pings(T0 + 60.0, 4, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert (flow.agent_ip, flow.server_port) == ("192.0.2.21", 8250)
    assert not flow.handshake_seen and flow.tls_handshake == "not_seen"
    assert flow.verdict == "healthy"
    assert any("started before the capture" in r for r in flow.reasons)


def test_syn_target_is_the_server_even_when_the_agent_port_is_the_filter_port(pcap):
    conv = Conversation(agent=Side("192.0.2.21", 8250, 1000), server=Side("192.0.2.5", 18250, 5000))
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 3, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert (flow.agent_ip, flow.agent_port, flow.server_port) == ("192.0.2.21", 8250, 18250)


def test_sequence_numbers_wrapping_past_2_32_are_not_retransmissions(pcap):
    conv = Conversation(agent=Side("192.0.2.21", 41000, 0xFFFFFFFF - 300), server=Side("192.0.2.5", 8250, 0xFFFFFFFF - 50))
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    conv.pings(t + 0.1, 6, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.retransmissions == flow.capture_loss == flow.dup_acks == 0
    assert flow.verdict == "healthy"


def test_other_ports_are_ignored_and_port_option_selects_the_link(pcap):
    heartbeat = Conversation()
    t = heartbeat.tls_handshake(heartbeat.handshake(T0) + 0.01)
    heartbeat.pings(t + 0.1, 3, 60.0)
    web = Conversation(agent=Side("192.0.2.30", 50000, 10), server=Side("192.0.2.5", 443, 20))
    t = web.tls_handshake(web.handshake(T0) + 0.01)
    web.pings(t + 0.1, 3, 1.0)
    path = pcap(heartbeat.packets + web.packets)
    report = analyze_capture(path)
    assert [f.agent_ip for f in report.flows] == ["192.0.2.21"]
    assert report.packets == len(heartbeat.packets) + len(web.packets)
    assert report.port_segments == len(heartbeat.packets)
    assert [f.agent_ip for f in analyze_capture(path, port=443).flows] == ["192.0.2.30"]


def test_no_connection_on_the_port_is_unknown_with_one_line(pcap):
    web = Conversation(server=Side("192.0.2.5", 443, 20))
    web.pings(web.handshake(T0) + 0.1, 2, 1.0)
    report = analyze_capture(pcap(web.packets, name="web.pcap"))
    assert report.flows == [] and report.severity == "unknown"
    assert report.problems == [f"{report.path}: no TCP segments on port 8250 in {len(web.packets)} packet(s)"]


def test_too_short_to_judge_is_inconclusive(pcap):
    conv = Conversation()
    conv.data(conv.handshake(T0) + 0.01, True, PING)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert (flow.verdict, flow.severity) == ("inconclusive", "unknown")


def test_ipv6_link_is_analysed_like_ipv4(pcap):
    conv = Conversation(agent=Side("2001:db8::21", 41000, 1000), server=Side("2001:db8::5", 8250, 5000), ipv6=True)
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 2, 60.0)
    conv.pings(last + 400.0, 2, 60.0)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert (flow.agent_ip, flow.server_ip) == ("2001:db8::21", "2001:db8::5")
    assert flow.verdict == "gap" and round(flow.gaps[0].duration_s) == 400


# --- TLS handshake, judged from record headers and timing -------------------------------------------


def test_alert_during_the_handshake_is_a_failed_handshake(pcap):
    conv = Conversation()
    t = conv.handshake(T0)
    conv.data(t + 0.01, True, CLIENT_HELLO)
    conv.data(t + 0.02, False, SERVER_HELLO)
    conv.data(t + 0.03, True, ALERT)
    conv.fin(t + 0.031, True)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.tls_handshake == "failed"
    assert flow.tls_detail.startswith("TLS alert from the agent")
    assert (flow.verdict, flow.severity) == ("tls_failed", "critical")


def test_connection_closed_before_server_hello_is_a_failed_handshake(pcap):
    conv = Conversation()
    t = conv.handshake(T0)
    conv.data(t + 0.01, True, CLIENT_HELLO)
    conv.rst(t + 0.02, False)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.tls_handshake == "failed"
    assert "RST from the server before ServerHello" in flow.tls_detail
    assert flow.verdict == "tls_failed"


def test_encrypted_records_without_a_round_trip_then_fin_is_failed_not_complete(pcap):
    """TLS 1.3 encrypts a fatal alert as ApplicationData: the close right after it is what gives it away."""
    conv = Conversation()
    t = conv.handshake(T0)
    conv.data(t + 0.01, True, CLIENT_HELLO)
    conv.data(t + 0.02, False, SERVER_HELLO + b"\x17\x03\x03\x00\x10")
    conv.data(t + 0.03, True, PING)  # client Finished
    conv.data(t + 0.04, False, ANSWER)  # the server's (encrypted) alert
    conv.fin(t + 0.05, False)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.tls_handshake == "failed" and "FIN from the server after ServerHello" in flow.tls_detail


def test_capture_ending_inside_the_handshake_is_incomplete(pcap):
    conv = Conversation()
    t = conv.handshake(T0)
    conv.data(t + 0.01, True, CLIENT_HELLO)
    conv.data(t + 0.02, False, SERVER_HELLO)
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert flow.tls_handshake == "incomplete"


def test_plaintext_payload_is_not_tls(pcap):
    conv = Conversation()
    t = conv.handshake(T0)
    for i in range(4):
        conv.data(t + 0.1 + 60 * i, True, b"\x00\x00\x00\x10" + b'{"ping":1}......')
    flow = only_flow(analyze_capture(pcap(conv.packets)))
    assert (flow.tls_handshake, flow.tls_detail) == ("not_seen", "payload is not TLS")


def test_frames_captured_twice_on_a_bridge_are_not_retransmissions(pcap, link):
    conv = link(pings=5, interval=60.0)
    copies = []
    for pkt in conv.packets:
        copy = pkt.copy()
        copy.time = pkt.time + 0.00002  # the same segment, seen again on the bridge port 20 us later
        copies.append(copy)
    flow = only_flow(analyze_capture(pcap(conv.packets + copies)))
    data_frames = sum(1 for p in conv.packets if len(p["TCP"].payload) or int(p["TCP"].flags) & 0x03)
    assert flow.duplicate_frames == data_frames
    assert flow.retransmissions == 0 and flow.dup_acks == 0
    assert flow.verdict == "healthy" and flow.median_interval_s == pytest.approx(60.0, abs=0.01)


def test_two_live_connections_from_one_agent_are_not_a_reconnect(pcap):
    first = Conversation()
    t = first.tls_handshake(first.handshake(T0) + 0.01)
    first.pings(t + 0.1, 5, 60.0)
    second = Conversation(agent=Side("192.0.2.21", 41001, 50000), server=Side("192.0.2.5", 8250, 90000))
    t = second.tls_handshake(second.handshake(T0 + 30.0) + 0.01)
    second.pings(t + 0.1, 5, 60.0)
    report = analyze_capture(pcap(first.packets + second.packets))
    assert [f.verdict for f in report.flows] == ["healthy", "healthy"]
    assert report.reconnects == [] and not any(f.is_reconnect for f in report.flows)


def test_syn_never_answered_is_critical_until_a_later_connection_gets_through(pcap):
    attempt = Conversation()
    for i in range(3):  # the kernel resends the same SYN: 1 s, then 2 s later
        attempt._emit(T0 + (0, 1, 3)[i], True, "S")
    alone = analyze_capture(pcap(attempt.packets))
    flow = only_flow(alone)
    assert (flow.verdict, flow.severity, flow.retransmissions) == ("unanswered", "critical", 2)
    assert "never answered the agent's SYN (3 attempt(s))" in flow.reasons[0]
    later = Conversation(agent=Side("192.0.2.21", 41002, 80000))
    t = later.tls_handshake(later.handshake(T0 + 10) + 0.01)
    later.pings(t + 0.1, 3, 60.0)
    report = analyze_capture(pcap(attempt.packets + later.packets))
    assert [(f.verdict, f.severity) for f in report.flows] == [("unanswered", "warning"), ("healthy", "ok")]
    assert report.reconnects[0].count == 1
