"""A bundle made by csdiag is analysed in place: same diagnosis as the folder, evidence named inside the archive."""

from __future__ import annotations

import json
import os

import pytest

from diagnostics.cli import main

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "libvirt-memory-start")


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_bundle_of_a_sample_gives_the_same_root_cause(tmp_path, capsys):
    bundle = tmp_path / "case.tar.gz"
    code, _, _ = run(["bundle", "create", "--out", str(bundle), SAMPLE], capsys)
    assert code == 0 and bundle.exists()
    code, out, err = run(["analyze", str(bundle), "--format", "json", "--tz", "UTC"], capsys)
    doc = json.loads(out)
    assert code == 2 and doc["errors"] == []
    (incident,) = [i for i in doc["incidents"] if i["outcome"] == "failed"]
    assert incident["root_cause"]["category"] == "libvirt_memory" and incident["failed_step"] == "start"
    paths = {e["path"] for f in doc["findings"] for e in f["evidence"]}
    assert paths and all(p.startswith(f"{bundle}:files/") for p in paths)
    assert "/tmp/" not in json.dumps(doc["incidents"]).replace(str(tmp_path), "")
