"""Per-connection TCP state for the heartbeat link, updated one segment at a time.

The heuristics are Wireshark's TCP analysis, cut down to what says something about a heartbeat:
- retransmission: data (or SYN/FIN) whose sequence range was already seen, not a keep-alive;
- keep-alive: 0 or 1 byte at next-expected-seq − 1;
- duplicate ACK: no data, same ACK and window as this side's last segment while the peer has sent beyond it;
- zero window: window 0 outside SYN/FIN/RST;
- duplicate frame: the same data segment again within 1 ms, which no TCP stack does (the minimum
  retransmission timeout is far longer) but `tcpdump -i any` does when a segment crosses a bridge and
  its port (cloudbr0 and eth0 on a KVM host); it is counted and otherwise ignored;
- capture loss: a sequence jump beyond the next expected byte ("previous segment not captured") or an
  ACK for bytes never seen ("ACKed unseen segment"). Loss in the capture says nothing about the network,
  which is why it makes a flow inconclusive instead of faulty.
The application heartbeat is the agent's data: CloudStack's management server resets its ping clock when
an agent PingCommand arrives, so cadence and gaps are measured on agent -> server data segments.
Silences (gaps) are measured between any two agent data segments. Cadence is measured between bursts:
segments less than `burst_window` after the previous one (a TLS handshake flight, a ping split in two,
an answer right behind a ping) belong to the same burst, so the median shows the ping period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnostics.heartbeat.interval_stats import IntervalStats
from diagnostics.heartbeat.packet_decode import ACK, FIN, RST, SYN
from diagnostics.heartbeat.tls_handshake import TlsHandshake

MAX_GAPS_KEPT = 1000
DUPLICATE_WINDOW = 0.001
_M = 0xFFFFFFFF


def _signed(delta: int) -> int:
    """Sequence-space difference as a signed 32-bit number (wrap-around safe)."""
    delta &= _M
    return delta - 0x100000000 if delta & 0x80000000 else delta


@dataclass(slots=True)
class DirectionState:
    """One sender's half of the connection."""

    packets: int = 0
    payload_bytes: int = 0
    data_segments: int = 0
    nxt: int | None = None  # next expected raw sequence number
    isn: int | None = None
    last_ack: int | None = None
    last_win: int = -1
    retransmissions: int = 0
    keepalives: int = 0
    dup_acks: int = 0
    zero_windows: int = 0
    capture_loss: int = 0
    duplicate_frames: int = 0
    last_data_sig: tuple[int, int, int, int] | None = None
    last_data_ts: float = 0.0
    fin_ts: float | None = None
    fin_frame: int = 0
    rst_ts: float | None = None
    rst_frame: int = 0
    first_retrans_frame: int = 0
    first_loss_frame: int = 0
    first_zero_window_frame: int = 0


@dataclass(slots=True)
class Gap:
    start: float
    end: float
    start_frame: int
    trailing: bool = False  # still silent when the capture ended

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class FlowState:
    agent_ip: bytes
    agent_port: int
    server_ip: bytes
    server_port: int
    first_ts: float
    first_frame: int
    gap_threshold: float
    burst_window: float
    syn_seen: bool = False
    last_ts: float = 0.0
    last_frame: int = 0
    agent: DirectionState = field(default_factory=DirectionState)
    server: DirectionState = field(default_factory=DirectionState)
    cadence: IntervalStats = field(default_factory=IntervalStats)
    last_ping_ts: float | None = None
    last_ping_frame: int = 0
    burst_start_ts: float | None = None
    longest_gap: Gap | None = None
    gaps: list[Gap] = field(default_factory=list)
    gaps_dropped: int = 0
    tls: TlsHandshake = field(default_factory=TlsHandshake)
    closed_ts: float | None = None

    @property
    def closed(self) -> bool:
        """RST from either side, or FIN from both."""
        return self.agent.rst_ts is not None or self.server.rst_ts is not None or (
            self.agent.fin_ts is not None and self.server.fin_ts is not None
        )

    def update(self, ts: float, frame: int, from_agent: bool, seq: int, ack: int, flags: int, window: int, plen: int, head: bytes) -> None:
        """Account one segment; the hot path, so plain attribute arithmetic only."""
        me, peer = (self.agent, self.server) if from_agent else (self.server, self.agent)
        if plen or flags & (SYN | FIN):
            sig = (seq, ack, flags, plen)
            if sig == me.last_data_sig and ts - me.last_data_ts < DUPLICATE_WINDOW:
                me.duplicate_frames += 1
                return
            me.last_data_sig, me.last_data_ts = sig, ts
        if ts > self.last_ts:
            self.last_ts = ts
        self.last_frame = frame
        me.packets += 1
        me.payload_bytes += plen
        new_data = keepalive = False
        if flags & RST:
            if me.rst_ts is None:
                me.rst_ts, me.rst_frame = ts, frame
                if self.closed_ts is None:
                    self.closed_ts = ts
                if not self.tls.decided:
                    self.tls.on_close(ts, "agent" if from_agent else "server", "RST")
            return
        seglen = plen + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        if flags & SYN:
            self.syn_seen = True
            if me.isn is not None and me.isn == seq:
                me.retransmissions += 1
                me.first_retrans_frame = me.first_retrans_frame or frame
            me.isn = seq
            me.nxt = (seq + seglen) & _M
        elif me.nxt is None:
            me.nxt = (seq + seglen) & _M
            new_data = plen > 0
        else:
            delta = _signed(seq - me.nxt)
            if delta == 0:
                me.nxt = (seq + seglen) & _M
                new_data = plen > 0
            elif delta > 0:
                me.capture_loss += 1
                me.first_loss_frame = me.first_loss_frame or frame
                me.nxt = (seq + seglen) & _M
                new_data = plen > 0
            elif delta == -1 and plen <= 1 and not flags & FIN:
                me.keepalives += 1
                keepalive = True
            elif seglen:
                me.retransmissions += 1
                me.first_retrans_frame = me.first_retrans_frame or frame
                if _signed(seq + seglen - me.nxt) > 0:  # overlaps and extends: the new part still counts
                    me.nxt = (seq + seglen) & _M
        if flags & ACK:
            if peer.nxt is not None and _signed(ack - peer.nxt) > 0:
                peer.capture_loss += 1
                peer.first_loss_frame = peer.first_loss_frame or frame
                peer.nxt = ack
            if (
                plen == 0
                and not keepalive
                and not flags & (SYN | FIN)
                and ack == me.last_ack
                and window == me.last_win
                and peer.nxt is not None
                and _signed(peer.nxt - ack) > 0
            ):
                me.dup_acks += 1
            me.last_ack, me.last_win = ack, window
        if window == 0 and not flags & (SYN | FIN):
            me.zero_windows += 1
            me.first_zero_window_frame = me.first_zero_window_frame or frame
        if flags & FIN and me.fin_ts is None:
            me.fin_ts, me.fin_frame = ts, frame
            if self.closed_ts is None and self.closed:
                self.closed_ts = ts
            if not self.tls.decided:
                self.tls.on_close(ts, "agent" if from_agent else "server", "FIN")
        if not new_data:
            return
        me.data_segments += 1
        if not self.tls.decided:
            self.tls.on_data(ts, from_agent, head)
        if from_agent:
            last = self.last_ping_ts
            if last is None:
                self.burst_start_ts = ts
            elif ts >= last:
                silence = ts - last
                if silence > self.burst_window:
                    self.cadence.add(ts - self.burst_start_ts)
                    self.burst_start_ts = ts
                if self.longest_gap is None or silence > self.longest_gap.duration:
                    self.longest_gap = Gap(last, ts, self.last_ping_frame)
                if silence > self.gap_threshold:
                    self._keep_gap(Gap(last, ts, self.last_ping_frame))
            self.last_ping_ts, self.last_ping_frame = ts, frame

    def _keep_gap(self, gap: Gap) -> None:
        if len(self.gaps) < MAX_GAPS_KEPT:
            self.gaps.append(gap)
        else:
            self.gaps_dropped += 1

    def finish(self, capture_end: float) -> None:
        """Close the books at the end of the capture: a silence that is still running counts too."""
        self.tls.on_capture_end()
        if self.closed or self.last_ping_ts is None:
            return
        silence = capture_end - self.last_ping_ts
        if silence <= 0:
            return
        trailing = Gap(self.last_ping_ts, capture_end, self.last_ping_frame, trailing=True)
        if self.longest_gap is None or silence > self.longest_gap.duration:
            self.longest_gap = trailing
        if silence > self.gap_threshold:
            self._keep_gap(trailing)
