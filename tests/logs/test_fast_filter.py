"""The fast filter must give exactly the facts of the exact reader, on any file."""

from __future__ import annotations

import gzip
import os
import sys
from datetime import timezone

import pytest

import diagnostics.logs.blocks as scan
from diagnostics.facts import facts_from_records
from diagnostics.facts.block_search import available
from diagnostics.logs.interest import default_interest
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.logs.stream import plain_log4j
from diagnostics.sources.files import open_binary

pytestmark = pytest.mark.skipif(not available(default_interest()), reason="Hyperscan is not available on this machine")
SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
OPTS = ReadOptions(tz=timezone.utc, tz_name="UTC")


def scan_facts(path: str, opts: ReadOptions, stats: LogStats):
    """The fast filter alone (logs.stream picks it for plain log4j input)."""
    stream, stats.read.compressed = open_binary(path)
    try:
        yield from scan.scan_facts(path, opts, stats, interest=default_interest(), stream=stream)
    finally:
        stream.close()


def can_scan(head_lines):
    return plain_log4j(head_lines, OPTS)


def both(path: str):
    exact = [f.to_dict() for f in facts_from_records(read_records(path, OPTS, LogStats(path)))]
    fast = [f.to_dict() for f in scan_facts(path, OPTS, LogStats(path))]
    return exact, fast


def sample_logs():
    for root, _dirs, files in os.walk(SAMPLES):
        for name in sorted(files):
            if name.startswith(("management-server.log", "agent.log")):
                yield os.path.join(root, name)


@pytest.mark.parametrize("path", list(sample_logs()) or ["<none>"])
def test_same_facts_on_every_plain_sample(path):
    if path == "<none>":
        pytest.skip("no samples")
    with open(path, "rb") as f:
        head = f.read(65536)
    if head[:2] == b"\x1f\x8b":
        head = gzip.decompress(open(path, "rb").read())[:65536]
    if not can_scan(head.decode("utf-8", "replace").splitlines()[:200]):
        pytest.skip("not a plain log4j file (journald, paste): the exact reader handles it")
    exact, fast = both(path)
    assert fast == exact


def test_same_facts_across_chunk_boundaries_and_gzip(tmp_path, monkeypatch):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "perf"))
    from make_log import build

    path = tmp_path / "management-server.log"
    build(str(path), 3 << 20, profile="busy")
    monkeypatch.setattr(scan, "CHUNK", 64 * 1024)  # many block boundaries, records split across reads
    exact, fast = both(str(path))
    assert len(exact) > 1000 and fast == exact
    gz = tmp_path / "management-server.log.2025-03-09.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    unzipped = [{**f.to_dict(), "path": str(path)} for f in scan_facts(str(gz), OPTS, LogStats(str(gz)))]
    assert unzipped == exact


def _header_lines(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.startswith(b"20"))


def _ping_log(path, hosts_late: int = 3) -> bytes:
    """Pings of 30 hosts every minute, three more hosts joining late, and the lines the ping filter must not lose."""
    out = []
    for minute in range(180):
        hosts = range(1, 31) if minute < 120 else range(1, 31 + hosts_late)
        for h in hosts:
            out.append(f"2025-03-10 {minute // 60:02d}:{minute % 60:02d}:{h:02d},{h:03d} DEBUG [c.c.a.m.AgentManagerImpl] "
                       f"(AgentManager-Handler-{h}:[]) (logid:) Ping from Routing host {h}(kvm{h:02d})")
        out.append(f"2025-03-10 {minute // 60:02d}:{minute % 60:02d}:59,000 DEBUG [c.c.a.HighAvailabilityManagerImpl] "
                   f"(AgentMonitor-1:[]) (logid:) Found the following agents behind on ping: {'[7]' if minute == 90 else '[]'}")
        if minute == 150:  # a host renamed: same id, new name -> a new identity
            out.append("2025-03-10 02:30:30,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-9:[]) (logid:) "
                       "Ping from Routing host 5(kvm05-new)")
            out.append("2025-03-10 02:30:31,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-9:[]) (logid:) "
                       "Ping from Routing host")
    data = ("\n".join(out) + "\n").encode()
    path.write_bytes(data)
    return data


def test_pings_of_hosts_that_join_late_are_not_lost(tmp_path, monkeypatch):
    path = tmp_path / "management-server.log"
    data = _ping_log(path)
    monkeypatch.setattr(scan, "CHUNK", 16 * 1024)  # the filter learns the 30 hosts in the first blocks
    exact, fast = both(str(path))
    identities = {(f["host_id"], f["host_name"]) for f in fast if f["kind"] == "host_identity"}
    assert {(31, "kvm31"), (33, "kvm33"), (5, "kvm05-new")} <= identities and len(identities) == 34
    assert any(f.get("host_ids") == [7] for f in fast)
    assert fast == exact
    stats = LogStats(str(path))
    list(scan_facts(str(path), OPTS, stats))
    assert stats.records == _header_lines(data) and stats.read.lines == data.count(b"\n")


def test_record_and_line_counts_match_the_file(tmp_path, monkeypatch):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "perf"))
    from make_log import build

    path = tmp_path / "management-server.log"
    build(str(path), 1 << 20, profile="busy")
    # a stretch of domain XML (continuation lines only), a line starting with "2" that is no header, no final newline
    xml = "".join(f"  <memory unit='KiB'>{i}</memory>\n" for i in range(20000))
    path.write_bytes(path.read_bytes() + xml.encode() + b"2 is not a header\n" + b"2")
    data = path.read_bytes()
    for chunk in (8 << 20, 64 * 1024, 4096):
        monkeypatch.setattr(scan, "CHUNK", chunk)
        stats = LogStats(str(path))
        list(scan_facts(str(path), OPTS, stats))
        assert stats.records == _header_lines(data), chunk
        assert stats.read.lines == data.count(b"\n"), chunk


def test_a_10_mb_line_is_cut_once_and_the_next_record_keeps_its_line_number(tmp_path):
    done = ("2025-03-10 00:00:0{s},000 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-1:[ctx-1a2b3c4d, job-7{s}]) "
            "(logid:1a2b3c4d) Complete async job-7{s}, jobStatus: FAILED, resultCode: 530, result: null")
    path = tmp_path / "management-server.log"
    path.write_text(done.format(s=1) + " " + "x" * (10 * 1024 * 1024) + "\n" + done.format(s=2) + "\n")
    stats = LogStats(str(path))
    fast = [f.to_dict() for f in scan_facts(str(path), OPTS, stats)]
    assert stats.read.truncated_lines == 1 and stats.records == 2
    assert [(f["job_id"], f["line"]) for f in fast] == [(71, 1), (72, 2)]
    exact = [f.to_dict() for f in facts_from_records(read_records(str(path), OPTS, LogStats(str(path))))]
    assert [(f["job_id"], f["line"]) for f in exact] == [(71, 1), (72, 2)]


def test_a_truncated_gzip_keeps_every_record_before_the_cut(tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "perf"))
    from make_log import build

    plain = tmp_path / "plain.log"
    build(str(plain), 2 << 20, profile="busy")
    packed = gzip.compress(plain.read_bytes())
    cut = tmp_path / "management-server.log.2025-03-09.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    fast_stats, exact_stats = LogStats(str(cut)), LogStats(str(cut))
    fast = [f.to_dict() for f in scan_facts(str(cut), OPTS, fast_stats)]
    exact = [f.to_dict() for f in facts_from_records(read_records(str(cut), OPTS, exact_stats))]
    assert len(fast) > 100 and fast == exact
    assert fast_stats.read.lines == exact_stats.read.lines > 1000
    assert any("truncated gzip" in e for e in fast_stats.errors)
