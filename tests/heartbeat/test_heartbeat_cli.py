"""`csdiag heartbeat` as a user runs it: a real process, exit codes, stdout/stderr, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from heartbeat_builders import SAMPLES

from diagnostics.heartbeat.capture_report import VERDICTS


def csdiag(*args: str, color: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if not color:
        env["NO_COLOR"] = "1"
    env["COLUMNS"] = "120"
    return subprocess.run([sys.executable, "-m", "diagnostics", "heartbeat", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    "name,code,verdicts",
    [("healthy", 0, ["HEALTHY"]), ("gap", 2, ["GAP"]), ("reset-reconnect", 1, ["RESET", "HEALTHY"]), ("tls-failed", 2, ["TLS_FAILED"])],
)
def test_exit_code_and_table_per_sample(name, code, verdicts):
    run = csdiag(str(SAMPLES / f"heartbeat-{name}.pcap"), "--ping-interval", "2")
    assert run.returncode == code, run.stderr
    assert run.stderr == ""
    shown = [line.split()[-2] for line in run.stdout.splitlines() if line.startswith("Connection ")]
    assert shown == verdicts
    assert "\x1b[" not in run.stdout  # NO_COLOR respected


def test_colour_when_allowed():
    run = csdiag(str(SAMPLES / "heartbeat-gap.pcap"), "--ping-interval", "2", color=True)
    assert run.returncode == 2  # rich decides on a non-terminal; the words alone carry the verdict
    assert "GAP (critical)" in run.stdout


def test_json_output_is_the_report():
    run = csdiag(str(SAMPLES / "heartbeat-reset-reconnect.pcap"), "--ping-interval", "2", "--format", "json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert doc["severity"] == "warning" and doc["gap_threshold_s"] == 5.0 and doc["port"] == 8250
    assert [f["verdict"] for f in doc["flows"]] == ["reset", "healthy"]
    assert all(f["verdict"] in VERDICTS for f in doc["flows"])
    assert doc["reconnects"][0]["count"] == 1 and doc["flows"][0]["rst_by"] == "agent"


def test_default_interval_and_port_option():
    assert csdiag(str(SAMPLES / "heartbeat-gap.pcap")).returncode == 0  # 9 s is nothing at 60 s x 2.5
    other_port = csdiag(str(SAMPLES / "heartbeat-healthy.pcap"), "--port", "9090")
    assert other_port.returncode == 3
    assert other_port.stderr.strip() == f"csdiag: {SAMPLES / 'heartbeat-healthy.pcap'}: no TCP segments on port 9090 in 35 packet(s)"


PCAP_HEADER = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + bytes(8) + b"\xff\xff\x00\x00\x01\x00\x00\x00"


@pytest.mark.parametrize(
    "content",
    [b"", b"not a capture at all", PCAP_HEADER + bytes(8) + b"\xff" * 8],
    ids=["empty", "text", "record-length-ffffffff"],
)
def test_bad_files_exit_3_with_one_line_and_no_traceback(tmp_path, content):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    run = csdiag(str(path))
    assert run.returncode == 3
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"csdiag: {path}: ")
    assert "Traceback" not in run.stderr + run.stdout


def test_missing_file_and_bad_settings(tmp_path):
    missing = csdiag(str(tmp_path / "none.pcap"))
    assert missing.returncode == 3 and missing.stderr.strip() == f"csdiag: {tmp_path / 'none.pcap'}: cannot read (No such file or directory)"
    zero = csdiag(str(SAMPLES / "heartbeat-healthy.pcap"), "--ping-interval", "0")
    assert zero.returncode == 3 and zero.stderr.strip() == "csdiag: ping interval must be a positive number, not 0.0"
    wrong = csdiag(str(SAMPLES / "heartbeat-healthy.pcap"), "--format", "xml")
    assert wrong.returncode == 3 and "Traceback" not in wrong.stderr


def test_truncated_capture_still_reports_and_warns(tmp_path):
    data = (SAMPLES / "heartbeat-healthy.pcap").read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-30])
    run = csdiag(str(path), "--ping-interval", "2")
    assert run.returncode == 0  # one packet lost at the end does not change the verdict
    assert run.stderr.startswith(f"csdiag: {path}: last record truncated at byte ")
    assert "HEALTHY" in run.stdout
