"""Builders for the heartbeat tests: a scripted TCP conversation that scapy writes to a real pcap file
(any link type, byte order, micro/nanosecond, pcapng), and where the recorded samples live.

The scripted conversation keeps sequence and acknowledgement numbers consistent the way a TCP stack
would, so a test states only the event it is about ("the server retransmits", "a segment is missing
from the capture") and the rest of the file is a normal heartbeat link.
Addresses are documentation ranges (192.0.2.0/24, 2001:db8::/32) with fixed MACs: they only appear inside
files, nothing is sent. (A uniquely named module, not conftest, so imports never collide across test folders.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "captures"
T0 = 1_763_900_000.0  # 2025-11-23, an arbitrary fixed epoch

CLIENT_HELLO = b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03" + bytes(40)
SERVER_HELLO = b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + bytes(40)
CHANGE_CIPHER = b"\x14\x03\x03\x00\x01\x01"
ALERT = b"\x15\x03\x03\x00\x02\x02\x30"  # fatal, unknown_ca
PING = b"\x17\x03\x03\x00\x40" + bytes(64)  # an encrypted framed PingCommand
ANSWER = b"\x17\x03\x03\x00\x50" + bytes(80)


@dataclass
class Side:
    ip: str
    port: int
    seq: int
    window: int = 65535


@dataclass
class Conversation:
    """One TCP connection between an agent and a management server, as a list of timed scapy packets."""

    agent: Side = field(default_factory=lambda: Side("192.0.2.21", 41000, 1000))
    server: Side = field(default_factory=lambda: Side("192.0.2.5", 8250, 500000))
    ipv6: bool = False
    packets: list[Packet] = field(default_factory=list)

    def _sides(self, from_agent: bool) -> tuple[Side, Side]:
        return (self.agent, self.server) if from_agent else (self.server, self.agent)

    def _emit(self, t: float, from_agent: bool, flags: str, payload: bytes = b"", *, seq: int | None = None,
              ack: int | None = None, window: int | None = None) -> Packet:
        me, peer = self._sides(from_agent)
        net = IPv6(src=me.ip, dst=peer.ip) if self.ipv6 else IP(src=me.ip, dst=peer.ip)
        tcp = TCP(sport=me.port, dport=peer.port, flags=flags, seq=(me.seq if seq is None else seq) & 0xFFFFFFFF,
                  ack=(peer.seq if ack is None else ack) & 0xFFFFFFFF, window=me.window if window is None else window)
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / net / tcp
        if payload:
            pkt = pkt / Raw(payload)
        pkt.time = t
        self.packets.append(pkt)
        return pkt

    def handshake(self, t: float) -> float:
        self._emit(t, True, "S")
        self.agent.seq += 1
        self._emit(t + 0.0005, False, "SA")
        self.server.seq += 1
        self._emit(t + 0.001, True, "A")
        return t + 0.001

    def data(self, t: float, from_agent: bool, payload: bytes, *, ack_after: float | None = 0.0002) -> None:
        """Send `payload`; the peer ACKs it `ack_after` seconds later (None: no ACK)."""
        me, _ = self._sides(from_agent)
        self._emit(t, from_agent, "PA", payload)
        me.seq += len(payload)
        if ack_after is not None:
            self._emit(t + ack_after, not from_agent, "A")

    def tls_handshake(self, t: float) -> float:
        self.data(t, True, CLIENT_HELLO)
        self.data(t + 0.002, False, SERVER_HELLO + CHANGE_CIPHER)
        self.data(t + 0.004, True, CHANGE_CIPHER + PING[:20])
        return t + 0.004

    def ping(self, t: float) -> None:
        """An agent ping and the management server's answer."""
        self.data(t, True, PING)
        self.data(t + 0.003, False, ANSWER)

    def pings(self, start: float, count: int, interval: float) -> float:
        for i in range(count):
            self.ping(start + i * interval)
        return start + (count - 1) * interval

    def retransmit_last(self, t: float, from_agent: bool, payload: bytes) -> None:
        me, _ = self._sides(from_agent)
        self._emit(t, from_agent, "PA", payload, seq=me.seq - len(payload))

    def lose_from_capture(self, from_agent: bool, nbytes: int) -> None:
        """Bytes the sender sent that the capture did not record (the next segment jumps ahead)."""
        me, _ = self._sides(from_agent)
        me.seq += nbytes

    def pure_ack(self, t: float, from_agent: bool, *, window: int | None = None, ack: int | None = None) -> None:
        self._emit(t, from_agent, "A", window=window, ack=ack)

    def keepalive(self, t: float, from_agent: bool) -> None:
        me, _ = self._sides(from_agent)
        self._emit(t, from_agent, "A", seq=me.seq - 1)

    def rst(self, t: float, from_agent: bool) -> None:
        self._emit(t, from_agent, "RA")

    def fin(self, t: float, from_agent: bool) -> None:
        me, _ = self._sides(from_agent)
        self._emit(t, from_agent, "FA")
        me.seq += 1
        self._emit(t + 0.0002, not from_agent, "A")


def write_pcap(path: Path, packets: list[Packet], *, linktype: int | None = None, nano: bool = False,
               endianness: str = "", pcapng: bool = False) -> Path:
    """Write packets (sorted by time) with scapy's own writers."""
    ordered = sorted(packets, key=lambda p: float(p.time))
    if pcapng:
        writer = PcapNgWriter(str(path))
    else:
        writer = PcapWriter(str(path), linktype=linktype, nano=nano, endianness=endianness, sync=True)
    for pkt in ordered:
        writer.write(pkt)
    writer.close()
    return path


def healthy_link(pings: int = 6, interval: float = 60.0, *, start: float = T0, **kwargs) -> Conversation:
    conv = Conversation(**kwargs)
    t = conv.handshake(start)
    t = conv.tls_handshake(t + 0.01)
    conv.pings(t + 0.1, pings, interval)
    return conv
