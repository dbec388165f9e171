"""Fact kinds of the port-8250 heartbeat capture (see diagnostics.heartbeat).

`path` is the capture file and `line` the 1-based frame number of the packet that shows the fact, so a
finding can cite `capture.pcap:1234` like a log line. host_id/host_name stay None: a capture knows IPs,
not CloudStack hosts; the correlator maps `agent_ip` to a host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from diagnostics.model import Fact


@dataclass(slots=True, kw_only=True)
class HeartbeatCapture(Fact):
    """The capture as a whole: its window (absence of evidence outside it means nothing) and its health."""

    kind = "heartbeat_capture"
    port: int = 8250
    start: datetime | None = None
    end: datetime | None = None
    packets: int = 0
    port_segments: int = 0
    flows: int = 0
    snaplen: int | None = None
    read_completely: bool = False
    truncated_last_record: bool = False
    severity: str = "unknown"  # ok | warning | critical | unknown


@dataclass(slots=True, kw_only=True)
class HeartbeatFlow(Fact):
    """One agent <-> management server TCP connection on the heartbeat port and its verdict."""

    kind = "heartbeat_flow"
    flow: int = 0  # number of the flow in the capture, 1-based
    agent_ip: str = ""
    agent_port: int = 0
    server_ip: str = ""
    server_port: int = 0
    start: datetime | None = None
    end: datetime | None = None
    duration_s: float = 0.0
    data_segments: int = 0  # agent -> server
    median_interval_s: float | None = None
    p95_interval_s: float | None = None
    longest_gap_s: float | None = None
    longest_gap_start: datetime | None = None
    retransmissions: int = 0
    dup_acks: int = 0
    zero_windows: int = 0
    rst_by: str | None = None  # agent | server
    fin_by: tuple[str, ...] = ()
    tls_handshake: str = "not_seen"  # complete | failed | not_seen | incomplete
    capture_loss: int = 0
    verdict: str = "healthy"  # healthy | gap | reset | closed | unanswered | tls_failed | zero_window | lossy | inconclusive
    severity: str = "ok"  # ok | warning | critical | unknown
    reasons: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class HeartbeatGap(Fact):
    """Agent silence longer than ping.interval x ping.timeout: the management server's ping cut-off."""

    kind = "heartbeat_gap"
    flow: int = 0
    agent_ip: str = ""
    server_ip: str = ""
    start: datetime | None = None
    end: datetime | None = None
    duration_s: float = 0.0
    threshold_s: float = 150.0
    trailing: bool = False  # still silent when the capture ended


@dataclass(slots=True, kw_only=True)
class HeartbeatReconnect(Fact):
    """New connections from an agent after an earlier one between the same hosts ended."""

    kind = "heartbeat_reconnect"
    agent_ip: str = ""
    server_ip: str = ""
    server_port: int = 0
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
