"""Port-8250 heartbeat captures -> per-connection verdicts and facts.

Data flow: `capture_file` streams pcap/pcapng records, `packet_decode` turns a frame into a TCP
`Segment`, `tcp_flow` keeps per-connection state (with `tls_handshake` and `interval_stats`),
`capture_analysis` drives the pass and `flow_verdict` judges each connection; `capture_facts` turns
the report into shared facts and `terminal_view` prints it.
"""

from __future__ import annotations

from diagnostics.heartbeat.capture_analysis import analyze_capture
from diagnostics.heartbeat.capture_facts import facts_from_capture, facts_from_report
from diagnostics.heartbeat.capture_report import CaptureReport, FlowReport, GapReport, ReconnectReport

__all__ = [
    "CaptureReport",
    "FlowReport",
    "GapReport",
    "ReconnectReport",
    "analyze_capture",
    "facts_from_capture",
    "facts_from_report",
]
