"""Benign rules silence only the record they name: an unknown ERROR next to known-harmless WARNs still surfaces.

The harmless lines are the negative controls' real text (tests/corpus 019, 022, 023); the unknown words are random.
"""

from __future__ import annotations

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from diagnostics.cli import app

WORDS = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=10), min_size=3, max_size=8).map(" ".join)

HARMLESS = [
    "2018-05-04 16:45:33,690 WARN  [c.c.a.d.ParamGenericValidationWorker] (qtp788117692-323:ctx-9c5a250d ctx-83e49862) (logid:87d0fc5a) Received unknown parameters for command listNics. Unknown parameters : projectid",
    "2022-09-21 12:39:34,773 WARN  [resource.virtualnetwork.VirtualRoutingResource] (agentRequest-Handler-4:null) (logid:d5969a8f) <b>Expected 1 answers while executing SetMonitorServiceCommand but received 3</b>",
    '2024-02-28 15:48:59,350 WARN  [o.a.c.a.ProjectRoleBasedApiAccessChecker] (qtp1278254413-352:ctx-5219e9e4 ctx-3aeefedf) (logid:15f58092) Project is null, ProjectRoleBasedApiAccessChecker only applies to projects, returning API [importUnmanagedInstance] for user [User {"username":"admin","uuid":"683bac0e-d606-11ee-8b6a-0050568d528d"}.] as allowed.',
]
UNKNOWN = "2024-02-28 15:49:00,100 ERROR [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-9:ctx-1a2b3c4d job-1310/job-1311 ctx-2b3c4d5e) (logid:0f1e2d3c) {message}"


def _analyze(tmp_path, text: str) -> tuple[dict, int]:
    path = tmp_path / "management-server.log"
    path.write_text(text + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--format", "json", "--tz", "UTC"])
    return json.loads(result.stdout), result.exit_code


def test_the_harmless_lines_alone_raise_nothing(tmp_path):
    doc, _ = _analyze(tmp_path, "\n".join(HARMLESS))
    assert [f["rule"] for f in doc["findings"] if f["severity"] in ("warning", "critical")] == []
    assert {f["rule"] for f in doc["findings"] if f["benign"]} >= {
        "benign.api-unknown-parameters", "benign.vr-expected-answers", "benign.project-access-checker-not-project"}


@settings(max_examples=10, deadline=None)
@given(words=WORDS)
def test_an_unknown_error_among_harmless_lines_still_surfaces(tmp_path_factory, words):
    tmp = tmp_path_factory.mktemp("mixed")
    doc, code = _analyze(tmp, "\n".join(HARMLESS + [UNKNOWN.format(message=words.capitalize())]))
    assert code in (1, 2)
    loud = [f for f in doc["findings"] if f["severity"] in ("warning", "critical")]
    assert any(e["line"] == len(HARMLESS) + 1 for f in loud for e in f["evidence"]), doc["findings"]
