"""What the probe collects from a real sshd is evidence `csdiag analyze` reads directly: host, clock, facts."""

from __future__ import annotations

import os
import shutil
from datetime import timezone

import pytest

from diagnostics.analysis import analyze_paths
from diagnostics.probe import run_probe

pytestmark = pytest.mark.sshd
SAMPLE_AGENT_LOG = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "libvirt-memory-start", "kvm01", "agent.log")


def test_probe_folder_is_analysed_as_that_host(sshd, options, tmp_path):
    shutil.copy(SAMPLE_AGENT_LOG, options.agent_log_path)
    import dataclasses

    opts = dataclasses.replace(options, since=None) if hasattr(options, "since") else options
    [result] = run_probe([sshd.target], opts)
    host_dirs = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert len(host_dirs) == 1
    doc = analyze_paths([str(tmp_path / "out")], tz=timezone.utc, tz_name="UTC").document
    probe_inputs = [i for i in doc["inputs"] if i["kind"] == "probe"]
    assert len(probe_inputs) == 1
    probe = probe_inputs[0]
    assert probe["facts"] > 0 and "clock_offset_s" in probe and abs(probe["clock_offset_s"]) < 5
    facts = analyze_paths([str(host_dirs[0])], tz=timezone.utc).collected.facts
    memory = [f for f in facts if f.kind == "host_memory"]
    assert memory and all(f.host_name == probe["host"] for f in memory)
    assert memory[0].total and memory[0].total > 0
