"""The fast keyword scanner must give exactly the facts of the exact reader, on any file."""

from __future__ import annotations

import gzip
import os
import sys
from datetime import timezone

import pytest

from diagnostics.facts import facts_from_records
from diagnostics.facts.scan import available, can_scan, scan_facts
from diagnostics.logs.reader import LogStats, ReadOptions, read_records

pytestmark = pytest.mark.skipif(not available(), reason="Hyperscan is not available on this machine")
SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
OPTS = ReadOptions(tz=timezone.utc, tz_name="UTC")


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

    import diagnostics.facts.scan as scan

    path = tmp_path / "management-server.log"
    build(str(path), 3 << 20, profile="busy")
    monkeypatch.setattr(scan, "CHUNK", 64 * 1024)  # many block boundaries, records split across reads
    exact, fast = both(str(path))
    assert len(exact) > 1000 and fast == exact
    gz = tmp_path / "management-server.log.2025-03-09.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    unzipped = [{**f.to_dict(), "path": str(path)} for f in scan_facts(str(gz), OPTS, LogStats(str(gz)))]
    assert unzipped == exact
