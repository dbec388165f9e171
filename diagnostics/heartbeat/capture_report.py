"""What `analyze_capture` returns: plain typed records, one per flow, plus the capture as a whole.

Times are aware UTC datetimes (pcap timestamps are UTC epoch seconds); durations are float seconds.
`frame` numbers are 1-based packet numbers in the file, as Wireshark shows them, so a reader can jump
to the evidence with `tshark -Y frame.number==N`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# worst first; the CLI maps them to exit codes
SEVERITY_ORDER = ("critical", "unknown", "warning", "ok")

VERDICTS = ("healthy", "gap", "reset", "closed", "unanswered", "tls_failed", "zero_window", "lossy", "inconclusive")


@dataclass(slots=True)
class GapReport:
    start: datetime
    end: datetime
    duration_s: float
    start_frame: int
    trailing: bool  # the silence was still running when the capture ended


@dataclass(slots=True)
class FlowReport:
    number: int
    agent_ip: str
    agent_port: int
    server_ip: str
    server_port: int
    start: datetime
    end: datetime
    duration_s: float
    handshake_seen: bool  # the SYN is in the capture (else the flow started before it)
    first_frame: int
    last_frame: int
    packets_agent: int
    packets_server: int
    bytes_agent: int  # TCP payload bytes sent by the agent
    bytes_server: int
    agent_data_segments: int
    server_data_segments: int
    median_interval_s: float | None  # between agent data segments
    p95_interval_s: float | None
    longest_gap_s: float | None
    longest_gap_start: datetime | None
    gaps: list[GapReport]
    gaps_not_listed: int
    retransmissions: int
    retransmissions_by: tuple[str, ...]
    dup_acks: int
    keepalives: int
    zero_windows: int
    zero_window_by: tuple[str, ...]
    capture_loss: int
    duplicate_frames: int  # the same segment captured twice (tcpdump -i any across a bridge): ignored
    rst_by: str | None
    rst_at: datetime | None
    rst_frame: int
    fin_by: tuple[str, ...]
    closed_at: datetime | None
    tls_handshake: str  # complete | failed | not_seen | incomplete
    tls_detail: str
    is_reconnect: bool  # a new connection between hosts that had one before
    reconnected_after_s: float | None  # delay until the next connection between the same hosts
    verdict: str = "healthy"
    severity: str = "ok"
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReconnectReport:
    agent_ip: str
    server_ip: str
    server_port: int
    count: int
    first: datetime
    last: datetime


@dataclass(slots=True)
class CaptureReport:
    path: str
    port: int
    ping_interval: float
    ping_timeout: float
    gap_threshold_s: float
    fmt: str = "unknown"
    snaplen: int | None = None
    linktypes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    duration_s: float | None = None
    packets: int = 0
    port_segments: int = 0
    read_completely: bool = False  # False: the file could not be read to its end (besides a cut last record)
    truncated_last_record: bool = False
    problems: list[str] = field(default_factory=list)
    flows: list[FlowReport] = field(default_factory=list)
    reconnects: list[ReconnectReport] = field(default_factory=list)
    severity: str = "unknown"
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value
