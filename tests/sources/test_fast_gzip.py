"""Rotated `.gz` logs are read by python-isal when it is installed and by the stdlib otherwise: the same bytes, the
same facts and the same one-line errors for a truncated or damaged file, whichever reads it."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from datetime import timezone

import pytest

from diagnostics.logs.reader import LogStats, ReadOptions
from diagnostics.logs.stream import stream_facts
from diagnostics.sources import files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "samples")


def _log_text(lines: int = 60_000) -> bytes:
    """A plain log4j log larger than one 4 MiB block, with a capacity failure in the middle."""
    rows = []
    for i in range(lines):
        rows.append(f"2025-03-10 10:{i // 1200 % 60:02d}:{i // 20 % 60:02d},{i % 1000:03d} DEBUG [c.c.a.m.AgentManagerImpl] "
                    f"(AgentManager-Handler-{i % 7}:[]) (logid:) Ping from Routing host {i % 40}(kvm{i % 40:02d}) "
                    f"and some padding text to make the line longer {i}")
        if i == lines // 2:
            rows.append("2025-03-10 10:25:00,000 WARN  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-1:[ctx-1, "
                        "job-9/job-10, ctx-2]) (logid:abc) Insufficient capacity \ncom.cloud.exception."
                        "InsufficientServerCapacityException: Unable to create a deployment for VM instance "
                        '{"id":5,"instanceName":"i-2-5-VM","uuid":"5b0c9f1e-2c3d-4e5f-8a9b-0c1d2e3f0005","type":"User",'
                        '"state":"Starting"}Scope=interface com.cloud.dc.DataCenter; id=1')
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def plain_and_gz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gz")
    data = _log_text()
    plain = folder / "management-server.log"
    plain.write_bytes(data)
    gz = folder / "management-server.log.2025-03-10.gz"
    gz.write_bytes(gzip.compress(data, 6))
    return plain, gz, data


def _facts(path, gzip_file=None, monkeypatch=None):
    if gzip_file is not None:
        monkeypatch.setattr(files, "GzipFile", gzip_file)
    stats = LogStats(str(path))
    facts = list(stream_facts(str(path), ReadOptions(tz=timezone.utc), stats))
    return [(type(f).__name__, f.ts, f.line, f.text) for f in facts], stats


def test_the_faster_gzip_is_used_when_installed():
    isal = pytest.importorskip("isal.igzip")
    assert files.GzipFile is isal.IGzipFile


def test_a_gz_log_gives_the_facts_of_the_plain_file_with_either_gzip(plain_and_gz, monkeypatch):
    plain, gz, data = plain_and_gz
    expected, plain_stats = _facts(plain)
    assert expected and any(kind == "InsufficientCapacity" for kind, *_ in expected)
    for reader in {files.GzipFile, gzip.GzipFile}:
        got, stats = _facts(gz, reader, monkeypatch)
        assert got == expected
        assert stats.read.compressed and stats.read.bytes_read == len(data) and not stats.read.errors
        assert stats.reader == plain_stats.reader == "fast"


def test_a_truncated_gz_is_one_error_line_and_keeps_what_came_before_the_cut(plain_and_gz, monkeypatch, tmp_path):
    _plain, gz, data = plain_and_gz
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gz.read_bytes()[: gz.stat().st_size * 3 // 4])
    for reader in {files.GzipFile, gzip.GzipFile}:
        got, stats = _facts(cut, reader, monkeypatch)
        assert stats.read.errors == [f"{cut}: truncated gzip stream (compressed file ended early); lines before the cut "
                                     "were read"]
        assert 0 < stats.read.bytes_read < len(data) and got


def test_damaged_deflate_data_is_one_error_line_whichever_gzip_reads_it(plain_and_gz, monkeypatch, tmp_path):
    _plain, gz, _data = plain_and_gz
    blob = gz.read_bytes()
    rng = random.Random(5)
    for attempt in range(40):
        damaged = bytearray(blob)
        for _ in range(8):
            damaged[rng.randrange(len(blob) // 3, len(blob) - 16)] ^= 0xFF
        bad = tmp_path / f"bad{attempt}.log.gz"
        bad.write_bytes(bytes(damaged))
        for reader in {files.GzipFile, gzip.GzipFile}:
            _got, stats = _facts(bad, reader, monkeypatch)
            assert len(stats.read.errors) == 1 and stats.read.errors[0].startswith(f"{bad}: corrupt gzip data (")


def test_without_python_isal_the_stdlib_reads_the_gz_and_the_cli_says_the_same(plain_and_gz):
    """A machine without the extra: `isal` cannot be imported, the analysis of a .gz is the same document."""
    _plain, gz, _data = plain_and_gz
    blocked = ("import sys, runpy; sys.modules['isal'] = None; sys.argv = ['csdiag'] + sys.argv[1:]; "
               "import diagnostics.sources.files as f; assert f.GzipFile.__module__ == 'gzip', f.GzipFile; "
               "runpy.run_module('diagnostics', run_name='__main__')")
    args = ["analyze", "--format", "json", "--tz", "UTC", "-j", "1", str(gz)]
    docs = []
    for argv in ([sys.executable, "-c", blocked, *args], [sys.executable, "-m", "diagnostics", *args]):
        run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode in (1, 2), run.stderr
        doc = json.loads(run.stdout)
        doc.pop("generated")
        docs.append(doc)
    assert docs[0] == docs[1] and docs[0]["summary"]["facts"] > 0


def test_a_gzipped_stdin_is_read_like_the_gz_file(plain_and_gz):
    """`zcat`-less pipes: `csdiag analyze - < x.gz` sniffs the gzip magic on stdin and reads the same facts."""
    _plain, gz, _data = plain_and_gz
    docs = []
    for args, stdin in ((["-"], gz.read_bytes()), ([str(gz)], None)):
        run = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", "--format", "json", "--tz", "UTC", *args],
                             cwd=ROOT, input=stdin, capture_output=True, timeout=300)
        assert run.returncode in (1, 2), run.stderr
        doc = json.loads(run.stdout)
        findings = [(f["rule"], f["message"], f["first"], f["last"]) for f in doc["findings"]]  # evidence names the input
        docs.append((doc["summary"], findings, doc["inputs"][0]["facts"], doc["inputs"][0].get("reader")))
    assert docs[0] == docs[1] and docs[0][2] > 0
