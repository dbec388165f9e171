"""Link, IP and TCP headers -> one `Segment`, decoded by hand because this is the hot path.

Only what the heartbeat analysis needs is decoded: addresses (raw bytes, turned into text once per flow),
ports, sequence and acknowledgement numbers, flags, window, payload length (from the IP header, so a
short snaplen does not hide data) and the first payload bytes (enough to recognise a TLS record header).
Anything else — other ports, other protocols, non-first IP fragments, headers cut by the snaplen — is None.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

# pcap LINKTYPE_* values (tcpdump.org/linktypes.html)
LINK_NULL = 0
LINK_ETHERNET = 1
LINK_RAW = 101
LINK_RAW_ALT = (12, 14)  # DLT_RAW on some BSDs
LINK_LOOP = 108
LINK_SLL = 113
LINK_IPV4 = 228
LINK_IPV6 = 229
LINK_SLL2 = 276
LINK_NAMES = {
    LINK_NULL: "null/loopback",
    LINK_ETHERNET: "ethernet",
    LINK_RAW: "raw-ip",
    12: "raw-ip",
    14: "raw-ip",
    LINK_LOOP: "openbsd-loop",
    LINK_SLL: "linux-sll",
    LINK_IPV4: "ipv4",
    LINK_IPV6: "ipv6",
    LINK_SLL2: "linux-sll2",
}
SUPPORTED_LINKS = frozenset(LINK_NAMES)

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
HEAD_BYTES = 6  # a TLS record header (5) plus the handshake message type

_ETH_IPV4, _ETH_IPV6, _ETH_VLANS = 0x0800, 0x86DD, (0x8100, 0x88A8, 0x9100)
_AF_INET6 = (10, 24, 28, 30)  # Linux, BSD, FreeBSD, macOS values seen in DLT_NULL headers
_IPV6_EXT = (0, 43, 60)  # hop-by-hop, routing, destination options
_TCP = struct.Struct("!HHIIHH")
_U16 = struct.Struct("!H")


class Segment(NamedTuple):
    src: bytes
    sport: int
    dst: bytes
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload_len: int
    head: bytes  # first payload bytes actually captured (may be shorter than HEAD_BYTES)


def ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _network_offset(linktype: int, data: bytes) -> tuple[int, int]:
    """Return (offset of the IP header, IP version or 0 when it is not IP)."""
    if linktype == LINK_ETHERNET:
        if len(data) < 14:
            return 0, 0
        off = 12
        etype = _U16.unpack_from(data, off)[0]
        while etype in _ETH_VLANS and len(data) >= off + 6:
            off += 4
            etype = _U16.unpack_from(data, off)[0]
        off += 2
    elif linktype == LINK_SLL:
        if len(data) < 16:
            return 0, 0
        etype, off = _U16.unpack_from(data, 14)[0], 16
    elif linktype == LINK_SLL2:
        if len(data) < 20:
            return 0, 0
        etype, off = _U16.unpack_from(data, 0)[0], 20
    elif linktype in (LINK_NULL, LINK_LOOP):
        if len(data) < 4:
            return 0, 0
        family = data[0] or data[3]  # host byte order of the writer; the family fits in one byte
        return 4, 4 if family == 2 else 6 if family in _AF_INET6 else 0
    elif linktype == LINK_RAW or linktype in LINK_RAW_ALT or linktype == LINK_IPV4 or linktype == LINK_IPV6:
        if not data:
            return 0, 0
        return 0, data[0] >> 4
    else:
        return 0, 0
    return off, 4 if etype == _ETH_IPV4 else 6 if etype == _ETH_IPV6 else 0


def decode_segment(linktype: int, data: bytes, origlen: int, port: int) -> Segment | None:
    """Decode one captured frame into a TCP `Segment` if either port equals `port`, else None."""
    off, version = _network_offset(linktype, data)
    if version == 4:
        if len(data) < off + 20:
            return None
        ihl = (data[off] & 0x0F) * 4
        if data[off + 9] != 6 or ihl < 20 or (_U16.unpack_from(data, off + 6)[0] & 0x1FFF):
            return None  # not TCP, bad header, or a non-first fragment
        ip_len = _U16.unpack_from(data, off + 2)[0] or (origlen - off)  # 0 under TSO: trust the wire length
        src = data[off + 12 : off + 16]
        dst = data[off + 16 : off + 20]
        tcp = off + ihl
        l4_len = ip_len - ihl
    elif version == 6:
        if len(data) < off + 40:
            return None
        l4_len = _U16.unpack_from(data, off + 4)[0]
        nxt = data[off + 6]
        src = data[off + 8 : off + 24]
        dst = data[off + 24 : off + 40]
        tcp = off + 40
        while nxt != 6:
            if nxt in _IPV6_EXT or nxt == 51:
                if len(data) < tcp + 2:
                    return None
                ext_len = (data[tcp + 1] + 2) * 4 if nxt == 51 else (data[tcp + 1] + 1) * 8
            elif nxt == 44:  # fragment header: only the first fragment carries the TCP header
                if len(data) < tcp + 8 or (_U16.unpack_from(data, tcp + 2)[0] & 0xFFF8):
                    return None
                ext_len = 8
            else:
                return None
            nxt = data[tcp]
            tcp += ext_len
            l4_len -= ext_len
    else:
        return None
    if len(data) < tcp + 20:
        return None
    sport, dport, seq, ack, off_flags, window = _TCP.unpack_from(data, tcp)
    if sport != port and dport != port:
        return None
    thl = (off_flags >> 12) * 4
    payload = tcp + thl
    plen = l4_len - thl
    if plen < 0 or thl < 20:
        return None
    return Segment(src, sport, dst, dport, seq, ack, off_flags & 0x1FF, window, plen, data[payload : payload + HEAD_BYTES] if plen else b"")
