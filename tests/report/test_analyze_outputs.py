"""`csdiag analyze` for machines (csdiag/v1 JSON, validated against its schema), tickets (Markdown), terminals and
pagers, with Nagios exit codes."""

from __future__ import annotations

import json
import os
from importlib import resources

import jsonschema
import pytest

from diagnostics.cli import main

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
SCHEMA = json.loads(resources.files("diagnostics.report").joinpath("csdiag-v1.schema.json").read_text())


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("sample, status, code", [
    ("libvirt-memory-start", "CRITICAL", 2),
    ("scale-dynamic-disabled", "WARNING", 1),
    ("healthy-scale", None, None),
])
def test_json_is_valid_against_the_schema_and_exit_code_follows_status(sample, status, code, capsys):
    rc, out, _err = run(["analyze", os.path.join(SAMPLES, sample), "--format", "json", "--tz", "UTC"], capsys)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "csdiag/v1" and doc["timezone"] == "UTC"
    expected_rc = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[doc["summary"]["status"]]
    assert rc == expected_rc
    if status:
        assert doc["summary"]["status"] == status and rc == code
    else:
        assert doc["summary"]["status"] in ("OK", "WARNING") and not any(i["outcome"] == "failed" for i in doc["incidents"])
    for f in doc["findings"]:
        for e in f["evidence"]:
            assert os.path.exists(e["path"]) and e["line"] >= 1


def test_markdown_names_cause_step_and_evidence(capsys):
    rc, out, _ = run(["analyze", os.path.join(SAMPLES, "libvirt-memory-start"), "--format", "markdown", "--tz", "UTC"], capsys)
    assert rc == 2
    assert out.startswith("# csdiag analysis\n")
    assert "**Root cause:** " in out and "(libvirt\\_memory, confidence 85%)" in out and "**Failed step:** start" in out
    assert "**Next:** `ssh kvm01 free -m" in out
    assert "agent.log:" in out and "## Inputs" in out


def test_quiet_is_one_line_per_incident_and_text_respects_no_color(capsys, monkeypatch):
    rc, out, _ = run(["analyze", os.path.join(SAMPLES, "scale-dynamic-disabled"), "--quiet", "--tz", "UTC"], capsys)
    lines = out.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("WARNING I1") and "cause=scale_rejected" in lines[0]
    monkeypatch.setenv("NO_COLOR", "1")
    rc, out, _ = run(["analyze", os.path.join(SAMPLES, "scale-dynamic-disabled"), "--tz", "UTC"], capsys)
    assert "\x1b[" not in out and "root cause:" in out and "(scale_rejected, confidence" in out and "enable.dynamic.scale.vm" in out


def test_output_file_is_written_whole(tmp_path, capsys):
    target = tmp_path / "report.md"
    rc, out, _ = run(["analyze", os.path.join(SAMPLES, "ticket-paste"), "--format", "markdown", "-o", str(target)], capsys)
    assert rc == 1 and out == "" and target.read_text().startswith("# csdiag analysis")
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_incomplete_input_is_unknown_and_usage_error_is_not_critical(tmp_path, capsys):
    (tmp_path / "management-server.log").write_bytes(b"\x00\x01binary junk\xff" * 100)
    rc, out, err = run(["analyze", str(tmp_path), "--format", "json"], capsys)
    doc = json.loads(out)
    assert rc == 3 and doc["summary"]["status"] == "UNKNOWN" and "binary" in err
    rc, _, err = run(["analyze", str(tmp_path), "--format", "yaml"], capsys)
    assert rc == 3 and "Traceback" not in err
