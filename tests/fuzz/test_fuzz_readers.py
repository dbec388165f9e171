"""Fuzzing the readers of untrusted bytes (bounded examples so CI stays fast): whatever the bytes, the pcap/pcapng
reader, the archive reader and the redactor end with their documented one-line errors, never another exception."""

from __future__ import annotations

import io
import struct
import tarfile
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.bundle.archive import ArchiveError, iter_members
from diagnostics.bundle.evidence import EvidenceError, open_evidence
from diagnostics.bundle.extract import ExtractLimits, safe_extract
from diagnostics.bundle.redact import Redactor, redact_text
from diagnostics.bundle.verify import verify_bundle
from diagnostics.heartbeat.capture_analysis import analyze_capture
from diagnostics.heartbeat.capture_file import CaptureInfo, read_records

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _frame(seq: int) -> bytes:
    """Ethernet (explicit MACs) / IPv4 127.0.0.1 -> 127.0.0.2 / TCP to 8250 with a few payload bytes."""
    payload = b"\x00\x01seq" + seq.to_bytes(4, "big")
    tcp = struct.pack(">HHIIBBHHH", 40000, 8250, seq, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2]))
    return b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + ip + tcp


def pcap_bytes(n: int = 6) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(n):
        frame = _frame(i)
        out.append(struct.pack("<IIII", 1741615200 + i * 60, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


def pcapng_bytes(n: int = 6) -> bytes:
    def block(kind: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        total = 12 + len(body)
        return struct.pack("<II", kind, total) + body + struct.pack("<I", total)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)), block(1, struct.pack("<HHI", 1, 0, 65535))]
    for i in range(n):
        frame = _frame(i)
        ts = (1741615200 + i * 60) * 1_000_000
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame))
    return b"".join(out)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(max_size=64))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


def _one_line_problems(problems: list[str], path: str) -> None:
    for p in problems:
        assert "\n" not in p and p.startswith(path), p


@FUZZ
@given(st.one_of(mutated(pcap_bytes()), mutated(pcapng_bytes()), st.binary(max_size=512)))
def test_the_capture_reader_never_raises_on_any_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "capture.pcap")
        Path(path).write_bytes(data)
        info = CaptureInfo(path)
        with open(path, "rb") as fh:
            records = list(read_records(fh, info))
        assert len(records) == info.records or info.records == 0 or len(records) <= info.records
        _one_line_problems(info.problems, path)
        report = analyze_capture(path)
        _one_line_problems(report.problems, path)


def _tar_gz() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (("case/manifest.json", b'{"format": "x"}'), ("case/management-server.log", b"2025-03-10 15:00:00,000 INFO  x\n" * 20)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("case/copy.log")
        link.type, link.linkname = tarfile.LNKTYPE, "case/management-server.log"
        tf.addfile(link)
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("case/agent.log", b"2025-03-10 15:00:00,000 INFO  y\n" * 20)
        zf.writestr("case/free.txt", b"Mem: 1 2 3\n")
    return buf.getvalue()


@FUZZ
@given(st.one_of(mutated(_tar_gz()).map(lambda d: ("a.tar.gz", d)), mutated(_zip()).map(lambda d: ("a.zip", d))))
def test_the_archive_reader_ends_with_one_line_whatever_the_bytes(case: tuple[str, bytes]) -> None:
    name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / name)
        Path(path).write_bytes(data)
        try:
            for member in iter_members(path):
                if member.open is not None:
                    with member.open() as f:
                        while f.read(1 << 16):
                            pass
        except ArchiveError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(path)
        dest = Path(tmp) / "dest"
        dest.mkdir()
        result = safe_extract(path, dest, limits=ExtractLimits(max_total_bytes=1 << 20))
        assert all("\n" not in e for e in result.errors)
        try:
            with open_evidence(path, workdir=tmp) as tree:
                assert tree.root.is_dir()
        except EvidenceError as exc:
            assert "\n" not in str(exc)
        verification = verify_bundle(path)
        assert verification.status in ("ok", "mismatch", "unreadable")
        assert all("\n" not in p for p in verification.problems)


_PIECES = st.sampled_from([
    "password=", "apiKey=", "&signature=", '"password":"', '\\"secretkey\\":\\"', "details[0].key=secretkey&details[0].value=",
    "%3A%2F%2F", "://u:", "@", "userdata=", "chpasswd:", "  list: |", "    root:", "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----", "X-Auth-Token: ", "Bearer ", "\\u0027", "%25", "\\", '"', "'", "=", "&", "\n",
    "2025-03-10 15:00:00,000 DEBUG ", "I2Nsb3VkLWNvbmZpZwpjaHBhc3N3ZDo=", "\udcff", "\x1b[31m",
])


@FUZZ
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40))
def test_the_redactor_never_raises_and_keeps_every_line(parts: list[str]) -> None:
    text = "".join(parts)
    out = redact_text(text)
    assert out.count("\n") == text.count("\n")
    r = Redactor()
    for line in text.encode("utf-8", "surrogateescape").split(b"\n"):
        r.line(line.decode("utf-8", "surrogateescape") + "\n")
