"""Stream the records of a pcap or pcapng file without loading it.

scapy's `rdpcap` keeps every packet in memory (a 550 MB capture costs ~6 GB) and its dissection runs at
under 1k packets/s, so the hot path reads the record headers itself: fixed-size chunks, one slice per
packet, nothing kept behind. Damage never raises: the reader stops, keeps what it has yielded and leaves
one sentence in `problems` that names the file and the byte offset.

Formats: classic pcap in both byte orders with micro- or nanosecond timestamps; pcapng sections with
Interface Description Blocks (link type, snaplen, `if_tsresol`, `if_tsoffset`) and Enhanced Packet Blocks.
Simple Packet Blocks carry no timestamp and are counted as skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

CHUNK = 1 << 20
# Wireshark's limit for a sane record; larger lengths mean the file is damaged, not that a packet is huge.
MAX_RECORD = 262144
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, "pcap"),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6, "pcap"),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, "pcap-ns"),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9, "pcap-ns"),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
KNOWN_NON_PCAP = {
    b"\x1f\x8b": "a gzip file (decompress it first)",
    b"PK": "a zip archive",
}


@dataclass(slots=True)
class CaptureInfo:
    """What the reader learned about the file as a whole; filled in while it streams."""

    path: str
    fmt: str = "unknown"  # pcap | pcap-ns | pcapng
    snaplen: int | None = None
    linktypes: set[int] = field(default_factory=set)
    records: int = 0
    truncated_last_record: bool = False
    damaged: bool = False  # reading stopped before the end of the file (a cut last record is not damage)
    skipped_blocks: int = 0
    problems: list[str] = field(default_factory=list)


class _Chunks:
    """A forward-only byte window over a file: `need(n)` guarantees n bytes at `pos` or reports EOF."""

    __slots__ = ("fh", "buf", "pos", "base", "eof")

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.buf = b""
        self.pos = 0
        self.base = 0  # file offset of buf[0]
        self.eof = False

    def need(self, n: int) -> bool:
        if len(self.buf) - self.pos >= n:
            return True
        if self.eof:
            return False
        rest = self.buf[self.pos :]
        self.base += self.pos
        self.pos = 0
        parts = [rest]
        have = len(rest)
        while have < n:
            more = self.fh.read(max(CHUNK, n - have))
            if not more:
                self.eof = True
                break
            parts.append(more)
            have += len(more)
        self.buf = b"".join(parts)
        return have >= n

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def remaining_at_eof(self) -> int:
        return len(self.buf) - self.pos


def read_records(fh: BinaryIO, info: CaptureInfo) -> Iterator[tuple[float, int, bytes, int]]:
    """Yield (timestamp, link type, captured bytes, original length) for each packet record.

    Stops quietly on damage after writing one line to `info.problems`.
    """
    src = _Chunks(fh)
    if not src.need(4):
        size = src.remaining_at_eof()
        info.problems.append(f"{info.path}: empty file" if size == 0 else f"{info.path}: too short to be a capture ({size} bytes)")
        info.damaged = True
        return iter(())
    magic = src.buf[src.pos : src.pos + 4]
    if magic in PCAP_MAGICS:
        return _read_pcap(src, info, *PCAP_MAGICS[magic])
    if magic == PCAPNG_SHB:
        return _read_pcapng(src, info)
    what = KNOWN_NON_PCAP.get(bytes(magic[:2]), f"unknown magic {magic.hex(' ')}")
    info.problems.append(f"{info.path}: not a pcap or pcapng file ({what})")
    info.damaged = True
    return iter(())


def _read_pcap(src: _Chunks, info: CaptureInfo, endian: str, tick: float, fmt: str) -> Iterator[tuple[float, int, bytes, int]]:
    info.fmt = fmt
    if not src.need(24):
        info.problems.append(f"{info.path}: pcap file header truncated ({src.remaining_at_eof()} of 24 bytes)")
        info.damaged = True
        return
    _magic, major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack_from(endian + "IHHiIII", src.buf, src.pos)
    src.pos += 24
    linktype = network & 0x0FFFFFFF  # the upper bits may carry FCS information
    info.snaplen = snaplen
    info.linktypes.add(linktype)
    if major != 2:
        info.problems.append(f"{info.path}: unexpected pcap version {major} (reading it as version 2)")
    limit = max(snaplen, MAX_RECORD)
    rec = struct.Struct(endian + "IIII")
    unpack_from = rec.unpack_from
    count = 0
    while True:
        pos = src.pos
        buf = src.buf
        if len(buf) - pos >= 16:  # fast path: header and data already in the window
            sec, frac, caplen, origlen = unpack_from(buf, pos)
            end = pos + 16 + caplen
            if caplen <= limit and end <= len(buf):
                src.pos = end
                ts = sec + frac * tick
                count += 1
                yield ts, linktype, buf[pos + 16 : end], origlen
                continue
        if not src.need(16):
            left = src.remaining_at_eof()
            if left:
                info.truncated_last_record = True
                info.problems.append(
                    f"{info.path}: last record truncated at byte {src.offset} ({left} of 16 header bytes; capture stopped mid-write?)"
                )
            break
        sec, frac, caplen, origlen = unpack_from(src.buf, src.pos)
        if caplen > limit:
            info.problems.append(
                f"{info.path}: corrupt record at byte {src.offset} (captured length {caplen} > {limit}); stopped after {count} packets"
            )
            info.damaged = True
            break
        if not src.need(16 + caplen):
            info.truncated_last_record = True
            info.problems.append(
                f"{info.path}: last record truncated at byte {src.offset} ({src.remaining_at_eof() - 16} of {caplen} bytes; capture stopped mid-write?)"
            )
            break
        start = src.pos + 16
        data = src.buf[start : start + caplen]
        src.pos = start + caplen
        ts = sec + frac * tick
        count += 1
        yield ts, linktype, data, origlen
    info.records += count


def _ts_resolution(options: bytes, endian: str) -> tuple[float, float]:
    """Return (seconds per tick, offset in seconds) from IDB options (if_tsresol=9, if_tsoffset=14)."""
    tick, offset = 1e-6, 0.0
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        pos += 4
        value = options[pos : pos + length]
        pos += (length + 3) & ~3
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = value[0]
            tick = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        elif code == 14 and length >= 8:
            offset = float(struct.unpack_from(endian + "q", value)[0])
    return tick, offset


def _read_pcapng(src: _Chunks, info: CaptureInfo) -> Iterator[tuple[float, int, bytes, int]]:
    info.fmt = "pcapng"
    endian = "<"
    interfaces: list[tuple[int, float, float]] = []  # (linktype, tick, offset)
    count = 0
    while True:
        if not src.need(8):
            left = src.remaining_at_eof()
            if left:
                info.truncated_last_record = True
                info.problems.append(f"{info.path}: last block truncated at byte {src.offset} ({left} bytes of a block header)")
            break
        head = src.buf[src.pos : src.pos + 4]
        if head == PCAPNG_SHB:
            if not src.need(12):
                info.truncated_last_record = True
                info.problems.append(f"{info.path}: section header truncated at byte {src.offset}")
                break
            bom = src.buf[src.pos + 8 : src.pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                info.problems.append(f"{info.path}: bad pcapng byte-order magic {bom.hex(' ')} at byte {src.offset}; stopped after {count} packets")
                info.damaged = True
                break
            interfaces = []
        btype, blen = struct.unpack_from(endian + "II", src.buf, src.pos)
        if blen < 12 or blen % 4 or blen > MAX_RECORD + 4096:
            info.problems.append(f"{info.path}: corrupt pcapng block at byte {src.offset} (length {blen}); stopped after {count} packets")
            info.damaged = True
            break
        if not src.need(blen):
            info.truncated_last_record = True
            info.problems.append(
                f"{info.path}: last block truncated at byte {src.offset} ({src.remaining_at_eof()} of {blen} bytes; capture stopped mid-write?)"
            )
            break
        body = src.pos + 8
        end = src.pos + blen
        buf = src.buf
        src.pos = end
        if btype == 6:  # Enhanced Packet Block
            iface, hi, lo, caplen, origlen = struct.unpack_from(endian + "IIIII", buf, body)
            if iface >= len(interfaces) or 20 + caplen > blen - 12:
                info.skipped_blocks += 1  # reported once, at the end
                continue
            linktype, tick, offset = interfaces[iface]
            ts = ((hi << 32) | lo) * tick + offset
            count += 1
            yield ts, linktype, buf[body + 20 : body + 20 + caplen], origlen
        elif btype == 1:  # Interface Description Block
            linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, body)
            tick, offset = _ts_resolution(buf[body + 8 : end - 4], endian)
            interfaces.append((linktype, tick, offset))
            info.linktypes.add(linktype)
            info.snaplen = snaplen if info.snaplen is None else max(info.snaplen, snaplen)
        elif btype in (3, 2):  # Simple Packet Block (no timestamp), obsolete Packet Block
            info.skipped_blocks += 1
    info.records += count
    if info.skipped_blocks:
        info.problems.append(
            f"{info.path}: {info.skipped_blocks} pcapng packet block(s) skipped (no timestamp, unknown interface or bad length)"
        )
