"""Every JSON output has a published schema, and real output of every shipped sample validates against it."""

from __future__ import annotations

import json
import os
from importlib import resources

import jsonschema
import pytest

from cli_helpers import SAMPLES, run_process

SAMPLE_NAMES = sorted(d for d in os.listdir(SAMPLES) if os.path.isfile(os.path.join(SAMPLES, d, "expected.json")))
CAPTURES = sorted(os.path.join(SAMPLES, "captures", f) for f in os.listdir(os.path.join(SAMPLES, "captures")) if f.endswith(".pcap"))


def schema(name):
    doc = json.loads(resources.files("diagnostics.report").joinpath(f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


@pytest.mark.parametrize("capture", CAPTURES, ids=os.path.basename)
def test_heartbeat_json_follows_its_schema(capture):
    proc = run_process("heartbeat", capture, "-f", "json")
    doc = json.loads(proc.stdout)
    schema("heartbeat").validate(doc)
    assert proc.returncode == {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[doc["severity"]]


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_runbook_json_follows_its_schema(sample):
    proc = run_process("runbook", "change-offering", os.path.join(SAMPLES, sample), "-f", "json", "--tz", "UTC")
    schema("runbook").validate(json.loads(proc.stdout))


def test_plain_runbook_json_follows_its_schema():
    schema("runbook").validate(json.loads(run_process("runbook", "change-offering", "-f", "json").stdout))


@pytest.mark.parametrize("sample", ["libvirt-memory-start", "ticket-paste"])
def test_timeline_json_lines_follow_their_schema(sample):
    proc = run_process("timeline", os.path.join(SAMPLES, sample), "-f", "json", "--tz", "UTC")
    validator = schema("timeline")
    lines = proc.stdout.splitlines()
    assert len(lines) > 10
    for line in lines:
        validator.validate(json.loads(line))
    assert json.loads(lines[-1])["type"] == "summary"


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_analyze_json_of_every_sample_follows_csdiag_v1(sample):
    doc = json.loads(run_process("analyze", os.path.join(SAMPLES, sample), "-f", "json", "--tz", "UTC").stdout)
    schema("csdiag-v1").validate(doc)


def test_a_schema_rejects_what_it_should():
    """The schemas are not `{}`: a wrong type or a missing key is refused."""
    with pytest.raises(jsonschema.ValidationError):
        schema("heartbeat").validate({"path": "x", "flows": []})
    with pytest.raises(jsonschema.ValidationError):
        schema("timeline").validate({"type": "record", "ts": None, "path": "x", "line": "7", "level": None, "message": "", "facts": []})
