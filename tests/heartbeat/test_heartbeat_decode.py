"""The hand-written header decoder against scapy's dissection, on every supported link type and on the
recorded samples: same addresses, ports, sequence numbers, flags, window and payload length."""

from __future__ import annotations

import pytest
from heartbeat_builders import SAMPLES, T0, Conversation, Side
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Ether, Loopback
from scapy.packet import Raw
from scapy.utils import PcapReader, RawPcapReader

from diagnostics.heartbeat import analyze_capture
from diagnostics.heartbeat.packet_decode import decode_segment, ip_text


def ether():
    """Explicit addresses: with none, scapy would resolve the destination MAC on the network."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _rewrap(pkt, link: str):
    """The same IP packet behind another link-layer header, as tcpdump would write it."""
    net = pkt[IP] if IP in pkt else pkt[IPv6]
    v6 = IPv6 in pkt
    proto = 0x86DD if v6 else 0x0800
    wrapped = {
        "ethernet": lambda: ether() / net,
        "vlan": lambda: ether() / Dot1Q(vlan=42) / net,
        "sll": lambda: CookedLinux(proto=proto) / net,
        "sll2": lambda: CookedLinuxV2(proto=proto) / net,
        "null": lambda: Loopback(type=10 if v6 else 2) / net,  # scapy dissects the Linux AF_INET6 value only
        "raw": lambda: net,
    }[link]()
    wrapped.time = pkt.time
    return wrapped


LINKS = {"ethernet": 1, "vlan": 1, "sll": 113, "sll2": 276, "null": 0, "raw": 101}


def _conversation(ipv6: bool) -> Conversation:
    if ipv6:
        conv = Conversation(agent=Side("2001:db8::21", 41000, 1000), server=Side("2001:db8::5", 8250, 5000), ipv6=True)
    else:
        conv = Conversation()
    t = conv.tls_handshake(conv.handshake(T0) + 0.01)
    last = conv.pings(t + 0.1, 3, 60.0)
    conv.pings(last + 160.0, 2, 60.0)
    conv.rst(last + 200.0, True)
    return conv


def _scapy_fields(pkt):
    net = pkt[IP] if IP in pkt else pkt[IPv6]
    tcp = pkt[TCP]
    return (net.src, tcp.sport, net.dst, tcp.dport, tcp.seq, tcp.ack, int(tcp.flags), tcp.window, len(bytes(tcp.payload)))


def _our_fields(seg):
    return (ip_text(seg.src), seg.sport, ip_text(seg.dst), seg.dport, seg.seq, seg.ack, seg.flags, seg.window, seg.payload_len)


@pytest.mark.parametrize("ipv6", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("link", sorted(LINKS))
def test_every_link_type_decodes_like_scapy_and_gives_the_same_verdicts(pcap, link, ipv6):
    conv = _conversation(ipv6)
    path = pcap([_rewrap(p, link) for p in conv.packets], linktype=LINKS[link])
    decoded = [decode_segment(LINKS[link], data, meta.wirelen, 8250) for data, meta in RawPcapReader(path)]
    assert [_our_fields(s) for s in decoded] == [_scapy_fields(p) for p in PcapReader(path)]
    report = analyze_capture(path)
    baseline = analyze_capture(pcap(conv.packets))
    assert [(f.verdict, f.severity, f.agent_ip, len(f.gaps), f.rst_by) for f in report.flows] == [
        (f.verdict, f.severity, f.agent_ip, len(f.gaps), f.rst_by) for f in baseline.flows
    ]
    assert report.flows[0].verdict == "reset" and report.flows[0].gaps  # the 160 s gap is seen behind every link


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.pcap")))
def test_recorded_samples_decode_exactly_like_scapy(name):
    path = str(SAMPLES / name)
    ours = []
    for data, meta in RawPcapReader(path):
        seg = decode_segment(1, data, meta.wirelen, 8250)
        assert seg is not None
        ours.append(_our_fields(seg))
    theirs = [_scapy_fields(p) for p in PcapReader(path)]
    assert ours == theirs and len(ours) > 5


def test_ipv6_extension_headers_are_skipped():
    pkt = ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / TCP(sport=40000, dport=8250, seq=7) / Raw(b"\x17\x03\x03abc")
    seg = decode_segment(1, bytes(pkt), len(pkt), 8250)
    assert seg is not None and (seg.seq, seg.payload_len, seg.head) == (7, 6, b"\x17\x03\x03abc")


def test_not_first_fragments_other_protocols_and_ports_are_skipped():
    tcp = TCP(sport=40000, dport=8250) / Raw(b"x" * 10)
    frag = ether() / IP(src="192.0.2.1", dst="192.0.2.2", frag=100, proto=6) / Raw(bytes(tcp))
    v6frag = ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=10, nh=6) / Raw(bytes(tcp))
    udp = ether() / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40000, dport=8250)
    other = ether() / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40000, dport=443)
    for pkt in (frag, v6frag, udp, other):
        assert decode_segment(1, bytes(pkt), len(pkt), 8250) is None, pkt.summary()


def test_a_snaplen_cut_keeps_the_payload_length_from_the_ip_header():
    pkt = ether() / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40000, dport=8250) / Raw(b"\x17\x03\x03" + bytes(997))
    seg = decode_segment(1, bytes(pkt)[:60], len(pkt), 8250)
    assert seg.payload_len == 1000 and seg.head == b"\x17\x03\x03\x00\x00\x00"


@pytest.mark.parametrize("cut", [0, 5, 13, 20, 33, 53])
def test_frames_cut_inside_a_header_are_skipped_not_misread(cut):
    pkt = ether() / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40000, dport=8250) / Raw(b"abc")
    assert decode_segment(1, bytes(pkt)[:cut], len(pkt), 8250) is None


@pytest.mark.parametrize("family", [b"\x18\x00\x00\x00", b"\x1c\x00\x00\x00", b"\x00\x00\x00\x1e", b"\x0a\x00\x00\x00"])
def test_null_link_accepts_the_bsd_and_macos_ipv6_families_in_either_byte_order(family):
    net = IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=40000, dport=8250, seq=99)
    seg = decode_segment(0, family + bytes(net), 4 + len(net), 8250)
    assert seg is not None and seg.seq == 99 and ip_text(seg.dst) == "2001:db8::2"


@pytest.mark.parametrize("net", [IP(dst="192.0.2.5"), IPv6(dst="2001:db8::5")], ids=["arp", "nd"])
def test_the_no_resolution_guard_holds(net):
    """The conftest guard: a frame without MAC addresses fails here instead of asking the network."""
    with pytest.raises(Exception, match="resolve a link-layer address"):
        bytes(Ether() / net)
