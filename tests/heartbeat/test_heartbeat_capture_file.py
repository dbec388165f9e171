"""The streaming reader: every container variant tcpdump and friends write, and every way a file can be
damaged. Damage gives one line naming the file, keeps what was read, and never raises."""

from __future__ import annotations

import gzip
import struct

import pytest
from heartbeat_builders import T0, Conversation, healthy_link
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.utils import PcapReader

from diagnostics.heartbeat import analyze_capture
from diagnostics.heartbeat.capture_file import CaptureInfo, read_records


def _summary(report):
    return [(f.verdict, f.agent_data_segments, round(f.median_interval_s, 6), f.packets_agent, f.packets_server) for f in report.flows]


@pytest.mark.parametrize(
    "options",
    [dict(endianness="<"), dict(endianness=">"), dict(nano=True, endianness="<"), dict(nano=True, endianness=">"), dict(pcapng=True)],
    ids=["pcap-le", "pcap-be", "pcap-ns-le", "pcap-ns-be", "pcapng"],
)
def test_all_container_variants_give_the_same_analysis_and_timestamps(pcap, options):
    conv = healthy_link(pings=5, interval=60.0)
    path = pcap(conv.packets, name="variant.pcapng" if options.get("pcapng") else "variant.pcap", **options)
    report = analyze_capture(path)
    assert report.fmt == ("pcapng" if options.get("pcapng") else "pcap-ns" if options.get("nano") else "pcap")
    assert report.packets == len(conv.packets) and report.read_completely and not report.problems
    assert _summary(report) == _summary(analyze_capture(pcap(conv.packets)))
    ours = []
    with open(path, "rb") as fh:
        ours = [ts for ts, *_ in read_records(fh, CaptureInfo(path))]
    assert ours == pytest.approx([float(p.time) for p in PcapReader(path)], abs=1e-6)


def _pcapng_block(btype: int, body: bytes, endian: str) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(endian + "II", btype, length) + body + struct.pack(endian + "I", length)


def _pcapng(frames: list[tuple[int, bytes]], *, endian: str = "<", tsresol: int | None = None, linktype: int = 1) -> bytes:
    """Hand-built pcapng: SHB, one IDB (optionally with if_tsresol), EPBs with raw 64-bit tick counts."""
    shb = _pcapng_block(0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1), endian)
    options = b""
    if tsresol is not None:
        options = struct.pack(endian + "HH", 9, 1) + bytes([tsresol]) + b"\0\0\0" + struct.pack(endian + "HH", 0, 0)
    idb = _pcapng_block(1, struct.pack(endian + "HHI", linktype, 0, 262144) + options, endian)
    epbs = b"".join(
        _pcapng_block(6, struct.pack(endian + "IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data, endian)
        for ticks, data in frames
    )
    return shb + idb + epbs


@pytest.mark.parametrize("endian", ["<", ">"], ids=["little", "big"])
@pytest.mark.parametrize("tsresol,tick", [(None, 1e-6), (9, 1e-9), (0x80 | 10, 2**-10)], ids=["default-us", "ns", "binary"])
def test_pcapng_sections_honour_byte_order_and_timestamp_resolution(tmp_path, endian, tsresol, tick):
    conv = healthy_link(pings=6, interval=60.0)
    frames = [(round(float(p.time) / tick), bytes(p)) for p in conv.packets]
    path = tmp_path / "hand.pcapng"
    path.write_bytes(_pcapng(frames, endian=endian, tsresol=tsresol))
    report = analyze_capture(str(path))
    assert (report.fmt, report.packets, report.problems) == ("pcapng", len(frames), [])
    assert report.start.timestamp() == pytest.approx(float(conv.packets[0].time), abs=max(tick, 1e-6))
    assert report.flows[0].median_interval_s == pytest.approx(60.0, abs=1e-3)


def test_pcapng_simple_packet_blocks_are_counted_as_skipped(tmp_path):
    conv = healthy_link(pings=3)
    data = _pcapng([(round(float(p.time) * 1e6), bytes(p)) for p in conv.packets])
    spb = _pcapng_block(3, struct.pack("<I", 60) + bytes(60), "<")
    path = tmp_path / "spb.pcapng"
    path.write_bytes(data + spb)
    report = analyze_capture(str(path))
    assert report.packets == len(conv.packets) and report.read_completely
    assert report.problems == [f"{path}: 1 pcapng packet block(s) skipped (no timestamp, unknown interface or bad length)"]


def _good_capture(pcap) -> tuple[str, bytes, int]:
    conv = healthy_link(pings=6, interval=60.0)
    path = pcap(conv.packets, name="good.pcap")
    with open(path, "rb") as fh:
        return path, fh.read(), len(conv.packets)


@pytest.mark.parametrize(
    "damage,lost",
    [(lambda d: d[:-40], 1), (lambda d: d + bytes(3), 0), (lambda d: d + bytes(10), 0)],
    ids=["last-record-cut-in-its-data", "3-stray-bytes", "10-stray-bytes"],
)
def test_truncated_last_record_keeps_every_complete_packet(pcap, tmp_path, damage, lost):
    """tcpdump killed mid-write: the complete records still count, and the verdict still stands."""
    _, data, count = _good_capture(pcap)
    path = tmp_path / "cut.pcap"
    path.write_bytes(damage(data))
    report = analyze_capture(str(path))
    assert report.packets == count - lost
    assert report.truncated_last_record and report.read_completely
    assert len(report.problems) == 1 and report.problems[0].startswith(f"{path}: last record truncated at byte ")
    assert report.flows[0].verdict == "healthy" and report.severity == "ok"


def test_corrupt_record_length_mid_file_stops_there_and_keeps_what_came_before(pcap, tmp_path):
    _, data, count = _good_capture(pcap)
    offset, kept = 24, 0
    while kept < 10:  # walk the records to the 11th header
        caplen = struct.unpack_from("<I", data, offset + 8)[0]
        offset += 16 + caplen
        kept += 1
    damaged = bytearray(data)
    struct.pack_into("<I", damaged, offset + 8, 0x7FFFFFF0)
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(damaged))
    report = analyze_capture(str(path))
    assert report.packets == 10 and not report.read_completely
    assert report.problems == [f"{path}: corrupt record at byte {offset} (captured length {0x7FFFFFF0} > 262144); stopped after 10 packets"]
    assert report.flows and report.severity == "unknown"


def test_corrupt_pcapng_block_length_stops_with_one_line(tmp_path):
    conv = healthy_link(pings=3)
    data = bytearray(_pcapng([(round(float(p.time) * 1e6), bytes(p)) for p in conv.packets]))
    shb_idb = 28 + 20
    struct.pack_into("<I", data, shb_idb + 4, 13)  # the first EPB claims a length that is not a multiple of 4
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    report = analyze_capture(str(path))
    assert report.problems == [f"{path}: corrupt pcapng block at byte {shb_idb} (length 13); stopped after 0 packets"]
    assert report.severity == "unknown" and report.packets == 0


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "empty file"),
        (b"\xd4\xc3", "too short to be a capture (2 bytes)"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap file header truncated (6 of 24 bytes)"),
        ("2025-03-10 17:05:00,020 DEBUG [c.c.a.m.AgentManagerImpl] Ping timeout\n".encode(), "not a pcap or pcapng file (unknown magic 32 30 32 35)"),
        (b"\xff\xfe\x00\xc3\x28\xa0\xa1", "not a pcap or pcapng file (unknown magic ff fe 00 c3)"),
        (gzip.compress(b"\xd4\xc3\xb2\xa1" + bytes(40)), "not a pcap or pcapng file (a gzip file (decompress it first))"),
    ],
    ids=["empty", "tiny", "short-header", "log-file", "binary", "gzip"],
)
def test_files_that_are_not_captures_give_one_line(tmp_path, content, expected):
    path = tmp_path / "input.pcap"
    path.write_bytes(content)
    report = analyze_capture(str(path))
    assert report.problems == [f"{path}: {expected}"]
    assert (report.severity, report.flows, report.read_completely) == ("unknown", [], False)


def test_missing_file_and_directory_give_one_line(tmp_path):
    missing = analyze_capture(str(tmp_path / "nope.pcap"))
    assert missing.problems == [f"{tmp_path / 'nope.pcap'}: cannot read (No such file or directory)"]
    directory = analyze_capture(str(tmp_path))
    assert directory.problems == [f"{tmp_path}: cannot read (Is a directory)"]
    assert missing.severity == directory.severity == "unknown"


def test_unsupported_link_type_is_named(pcap):
    conv = Conversation()
    conv.handshake(T0)
    path = pcap(conv.packets, linktype=147)
    report = analyze_capture(path)
    assert report.linktypes == ("unsupported link type 147",)
    assert f"{path}: link type 147 is not supported; its packets were skipped" in report.problems
    assert report.severity == "unknown"


def test_settings_that_make_no_sense_are_refused(pcap):
    path = pcap(healthy_link(pings=2).packets)
    for kwargs in (dict(ping_interval=0), dict(ping_timeout=-1), dict(port=0), dict(ping_interval=float("nan"))):
        with pytest.raises(ValueError):
            analyze_capture(path, **kwargs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=400), header=st.sampled_from([b"", b"pcap", b"pcapng"]))
def test_arbitrary_bytes_never_raise(tmp_path, tail, header):
    if header == b"pcap":
        prefix = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    elif header == b"pcapng":
        prefix = _pcapng([])
    else:
        prefix = b""
    path = tmp_path / "fuzz.pcap"
    path.write_bytes(prefix + tail)
    report = analyze_capture(str(path))
    for problem in report.problems:
        assert problem.startswith(f"{path}: ") and "\n" not in problem
    assert report.severity in ("ok", "warning", "critical", "unknown")


def test_pcapng_cut_inside_the_last_block_keeps_the_rest(tmp_path):
    conv = healthy_link(pings=5)
    data = _pcapng([(round(float(p.time) * 1e6), bytes(p)) for p in conv.packets])
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[:-20])
    report = analyze_capture(str(path))
    assert report.packets == len(conv.packets) - 1 and report.truncated_last_record and report.read_completely
    assert len(report.problems) == 1 and report.problems[0].startswith(f"{path}: last block truncated at byte ")
    assert report.flows[0].verdict == "healthy"
