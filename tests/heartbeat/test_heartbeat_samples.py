"""Real loopback captures (samples/captures, and a fresh one when tcpdump can run here) in, verdicts and
facts out. The samples ping every 2 s, so they are analysed with ping_interval=2 (threshold 5 s)."""

from __future__ import annotations

import pytest
from heartbeat_builders import SAMPLES

from diagnostics.heartbeat import analyze_capture, facts_from_capture
from diagnostics.model import FACT_KINDS
from diagnostics.model.heartbeat_facts import HeartbeatCapture, HeartbeatFlow, HeartbeatGap, HeartbeatReconnect


def sample(name: str, **kwargs):
    return analyze_capture(str(SAMPLES / f"heartbeat-{name}.pcap"), ping_interval=2.0, **kwargs)


def test_healthy_sample():
    report = sample("healthy")
    (flow,) = report.flows
    assert (report.severity, flow.verdict, flow.tls_handshake) == ("ok", "healthy", "complete")
    assert flow.server_port == 8250 and flow.agent_port != 8250 and flow.agent_ip == "127.0.0.1"
    assert flow.median_interval_s == pytest.approx(2.0, abs=0.1)
    assert flow.longest_gap_s < 2.5 and flow.gaps == []
    assert flow.retransmissions == flow.dup_acks == flow.capture_loss == 0
    assert flow.rst_by is None and flow.closed_at is None
    assert report.read_completely and not report.problems and report.fmt == "pcap"


def test_gap_sample_shows_the_silence_with_short_pings_and_passes_with_default_settings():
    report = sample("gap")
    (flow,) = report.flows
    assert (report.severity, flow.verdict) == ("critical", "gap")
    (gap,) = flow.gaps
    assert gap.duration_s == pytest.approx(9.0, abs=0.3) and not gap.trailing
    assert flow.longest_gap_s == pytest.approx(gap.duration_s) and flow.longest_gap_start == gap.start
    assert flow.median_interval_s == pytest.approx(2.0, abs=0.1)
    default = analyze_capture(str(SAMPLES / "heartbeat-gap.pcap"))  # 60 s x 2.5: 9 s is nothing
    assert default.flows[0].gaps == [] and default.flows[0].verdict == "healthy"


def test_reset_sample_has_an_agent_rst_and_a_reconnect():
    report = sample("reset-reconnect")
    first, second = report.flows
    assert (first.verdict, first.severity, first.rst_by) == ("reset", "warning", "agent")
    assert first.reconnected_after_s == pytest.approx(1.0, abs=0.3)
    assert (second.verdict, second.is_reconnect, second.tls_handshake) == ("healthy", True, "complete")
    assert first.agent_port != second.agent_port
    (rc,) = report.reconnects
    assert rc.count == 1 and rc.first == second.start
    assert report.severity == "warning"


def test_tls_failed_sample():
    report = sample("tls-failed")
    (flow,) = report.flows
    assert (flow.verdict, flow.severity, flow.tls_handshake) == ("tls_failed", "critical", "failed")
    assert flow.tls_detail.startswith("TLS alert from the agent")
    assert report.severity == "critical"


def test_sample_facts_cite_capture_and_frame():
    path = str(SAMPLES / "heartbeat-reset-reconnect.pcap")
    facts, problems = facts_from_capture(path, ping_interval=2.0)
    assert problems == []
    kinds = [f.kind for f in facts]
    assert kinds == ["heartbeat_capture", "heartbeat_flow", "heartbeat_flow", "heartbeat_reconnect"]
    assert all(FACT_KINDS[f.kind] is type(f) for f in facts)
    capture, first, second, reconnect = facts
    assert isinstance(capture, HeartbeatCapture) and capture.flows == 2 and capture.severity == "warning"
    assert isinstance(first, HeartbeatFlow) and (first.verdict, first.rst_by, first.line) == ("reset", "agent", 1)
    assert first.agent_ip == "127.0.0.1" and first.host_name is None and first.host_id is None
    assert isinstance(reconnect, HeartbeatReconnect) and reconnect.count == 1 and reconnect.line == second.line
    assert str(first.evidence) == f"{path}:1"
    for fact in facts:
        assert fact.to_dict()["kind"] == fact.kind and fact.path == path and fact.ts is not None


def test_gap_sample_facts_carry_the_threshold():
    facts, _ = facts_from_capture(str(SAMPLES / "heartbeat-gap.pcap"), ping_interval=2.0, ping_timeout=2.5)
    (gap,) = [f for f in facts if isinstance(f, HeartbeatGap)]
    assert gap.threshold_s == 5.0 and gap.duration_s == pytest.approx(9.0, abs=0.3)
    assert gap.ts == gap.start and gap.line > 1
    assert f"for {gap.duration_s:.1f} s (threshold 5 s)" in gap.text


def test_unreadable_capture_gives_facts_of_nothing_and_one_problem(tmp_path):
    path = tmp_path / "broken.pcap"
    path.write_bytes(b"\x00" * 100)
    facts, problems = facts_from_capture(str(path))
    assert [f.kind for f in facts] == ["heartbeat_capture"] and facts[0].severity == "unknown"
    assert problems == [f"{path}: not a pcap or pcapng file (unknown magic 00 00 00 00)"]


# --- fresh captures: tcpdump on lo while the recorder's TLS pair pings ---------------------------------


@pytest.mark.root
def test_fresh_capture_of_a_healthy_link(tmp_path, recorder, live_capture_ready):
    port = live_capture_ready()
    path = recorder.record("healthy", tmp_path, port=port, interval=0.3)
    report = analyze_capture(str(path), port=port, ping_interval=0.3)
    (flow,) = report.flows
    assert (flow.verdict, flow.tls_handshake, flow.server_port) == ("healthy", "complete", port)
    assert flow.median_interval_s == pytest.approx(0.3, abs=0.05)
    assert flow.agent_data_segments >= 8 and report.read_completely


@pytest.mark.root
def test_fresh_capture_of_a_silent_agent(tmp_path, recorder, live_capture_ready):
    port = live_capture_ready()
    path = recorder.record("gap", tmp_path, port=port, interval=0.4)  # 1.8 s silence, threshold 1.0 s
    report = analyze_capture(str(path), port=port, ping_interval=0.4)
    (flow,) = report.flows
    assert (flow.verdict, flow.severity) == ("gap", "critical")
    assert [round(g.duration_s, 1) for g in flow.gaps] == [pytest.approx(1.8, abs=0.2)]


@pytest.mark.root
def test_fresh_capture_with_a_small_snaplen_still_sees_every_ping(tmp_path, recorder, live_capture_ready):
    port = live_capture_ready()
    path = recorder.record("reset-reconnect", tmp_path, port=port, interval=0.3, snaplen=96)
    report = analyze_capture(str(path), port=port, ping_interval=0.3)
    assert report.snaplen == 96
    assert [f.verdict for f in report.flows] == ["reset", "healthy"]
    assert report.flows[0].bytes_agent > 96 * 2  # payload counted from the IP header, not the cut frame
    assert report.reconnects[0].count == 1
