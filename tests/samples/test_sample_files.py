"""The sample incidents are well-formed: what samples/README.md promises holds for every folder.

These tests check the samples themselves (record counts counted independently of the generator, ids that
can be followed across files, vocabulary that exists in diagnostics.model, byte-identical regeneration);
whether csdiag diagnoses them correctly is the job of the sample tests proper.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from diagnostics.model import CATEGORIES, FACT_KINDS

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NOT_INCIDENTS = {"_generator", "captures", "__pycache__"}
INCIDENTS = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and p.name not in NOT_INCIDENTS)
STEPS = {"api_call", "stop", "change_offering", "start", "live_scale", "verify"}
GENERATIONS = {"log4j2", "log4j1-logid", "log4j1", "iso-t", "syslog", "paste"}

TS = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2},\d{3}"
HEADER_RE = re.compile(rf"^({TS}) (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \[")
SYSLOG_RE = re.compile(r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} \S+ [\w.-]+\[\d+\]: ")
SYSLOG_HEADER_RE = re.compile(SYSLOG_RE.pattern + r"(TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \[")


def text_of(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def count_records(path: Path) -> int:
    """Header lines only; continuation lines (stack frames, XML) belong to their record."""
    lines = text_of(path).splitlines()
    if any(SYSLOG_RE.match(line) for line in lines[:5]):
        return sum(1 for line in lines if SYSLOG_HEADER_RE.match(line))
    if path.name == "ticket.txt":
        return sum(1 for line in lines if line.startswith("> ") and HEADER_RE.match(line[2:]))
    return sum(1 for line in lines if HEADER_RE.match(line))


def expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text())


def test_there_are_the_nine_incidents_of_the_readme():
    readme = (SAMPLES / "README.md").read_text()
    names = {p.name for p in INCIDENTS}
    assert len(names) >= 9
    for name in names:
        assert f"`{name}`" in readme, f"samples/README.md does not describe {name}"


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_expected_json_has_the_agreed_shape(folder):
    exp = expected(folder)
    assert exp["schema"] == "csdiag-expected/v1"
    assert exp["format_generation"] in GENERATIONS
    assert re.fullmatch(r"\d+\.\d+\.\d+", exp["cloudstack_version"])
    assert exp["tz"] == "UTC" and exp["title"] and exp["vm"]
    for f in exp["findings"] + exp["absent_findings"]:
        assert f["category"] in CATEGORIES
    assert not {f["category"] for f in exp["findings"]} & {f["category"] for f in exp["absent_findings"]}
    rc = exp["root_cause"]
    if rc is not None:
        assert rc["category"] in CATEGORIES and rc["step"] in STEPS
        assert rc["category"] in {f["category"] for f in exp["findings"]}


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_facts_use_only_the_model_vocabulary(folder):
    for fact in expected(folder)["facts"]:
        kind = FACT_KINDS.get(fact["kind"])
        assert kind is not None, f"{folder.name}: unknown fact kind {fact['kind']}"
        unknown = set(fact) - {"kind"} - set(kind.field_names())
        assert not unknown, f"{folder.name}: {fact['kind']} has no field(s) {unknown}"


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_record_counts_match_the_files(folder):
    records = expected(folder)["records"]
    assert records, "no file listed"
    for rel, n in records.items():
        assert count_records(folder / rel) == n, f"{folder.name}/{rel}"


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_log_files_have_realistic_size_and_order(folder):
    for rel in expected(folder)["records"]:
        path = folder / rel
        lines = text_of(path).splitlines()
        if path.name != "ticket.txt":
            assert 200 <= len(lines) <= 2000, f"{rel}: {len(lines)} lines"
        stamps = [m.group(1) for m in map(HEADER_RE.match, lines) if m]
        times = [datetime.fromisoformat(s.replace(",", ".")) for s in stamps]
        assert times == sorted(times), f"{rel}: time goes backwards"


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_followed_commands_appear_in_every_named_file(folder):
    for follow in expected(folder)["follow"]:
        for rel in follow["files"]:
            text = text_of(folder / rel)
            if "seq" in follow:
                assert f"Seq {follow['seq']}:" in text, f"{rel} lacks Seq {follow['seq']}"
            if "logid" in follow:
                lines = [line for line in text.splitlines() if f"Seq {follow.get('seq', '')}" in line]
                assert any(f"(logid:{follow['logid']})" in line for line in lines), f"{rel}: Seq not under logid {follow['logid']}"


@pytest.mark.parametrize("folder", INCIDENTS, ids=lambda p: p.name)
def test_agent_and_management_clocks_agree_within_seconds(folder):
    """The agent's copy of a followed command is logged within a few seconds of the management server's."""
    for follow in expected(folder)["follow"]:
        if "seq" not in follow or len(follow["files"]) < 2:
            continue
        firsts = []
        for rel in follow["files"]:
            for line in text_of(folder / rel).splitlines():
                m = HEADER_RE.match(line)
                if m and f"Seq {follow['seq']}:" in line:
                    firsts.append(datetime.fromisoformat(m.group(1).replace(",", ".")))
                    break
        assert abs((firsts[0] - firsts[1]).total_seconds()) < 5


def test_generator_reproduces_the_committed_files(tmp_path):
    run = subprocess.run([sys.executable, str(SAMPLES / "_generator"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    for folder in INCIDENTS:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(SAMPLES)
            assert (tmp_path / rel).read_bytes() == path.read_bytes(), f"{rel} differs from what the generator writes"
