"""Never silent: a message no catalogue could know still gives a warning finding citing its line, and exit >= 1.

The words are generated at random, so no string table can pass these tests: only the mechanism (log level,
exception in the record, header-less trace) can.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

import json

from typer.testing import CliRunner

from diagnostics.cli import app

WORDS = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=10), min_size=3, max_size=8).map(" ".join)

LAYOUT_420 = "2025-03-10 15:21:01,100 {level} [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) (logid:0f1e2d3c) {message}"
LAYOUT_415 = "2024-06-11 09:14:52,331 {level} [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-9b1f3a2c) (logid:9b1f3a2c) {message}"
LAYOUT_OLD = "2016-02-01 10:00:00,123 {level} [cloud.vm.VirtualMachineManagerImpl] (Job-Executor-11:job-1076) {message}"
QUIET = "2025-03-10 15:21:00,000 DEBUG [c.c.a.ApiServlet] (qtp-1:[ctx-00000001]) (logid:00000001) ===START===  127.0.0.1 -- GET  command=listZones"


def _diagnose(tmp_path, text: str):
    path = tmp_path / "management-server.log"
    path.write_text(text + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--format", "json", "--tz", "UTC"])
    doc = json.loads(result.stdout)
    doc["exit"] = result.exit_code
    loud = [f for f in doc["findings"] if f["severity"] in ("warning", "critical")]
    return doc, loud, str(path)


def _cites(findings: list[dict], path: str, line: int) -> bool:
    return any(e["path"] == path and e["line"] == line for f in findings for e in f["evidence"])


@settings(max_examples=15, deadline=None)
@given(words=WORDS, layout=st.sampled_from([LAYOUT_420, LAYOUT_415, LAYOUT_OLD]), level=st.sampled_from(["ERROR", "WARN", "FATAL"]))
def test_an_unknown_error_line_is_a_warning_citing_its_line(tmp_path_factory, words, layout, level):
    tmp = tmp_path_factory.mktemp("unknown")
    doc, loud, path = _diagnose(tmp, QUIET + "\n" + layout.format(level=level, message=words.capitalize()))
    assert doc["exit"] in (1, 2)
    assert _cites(loud, path, 2), doc["findings"]


@settings(max_examples=15, deadline=None)
@given(words=WORDS, cls=st.text(alphabet=string.ascii_letters, min_size=3, max_size=12))
def test_an_exception_inside_a_debug_record_is_a_warning(tmp_path_factory, words, cls):
    tmp = tmp_path_factory.mktemp("debug")
    record = "\n".join([
        LAYOUT_415.format(level="DEBUG", message="Handled " + words),
        f"com.cloud.utils.exception.{cls.capitalize()}Exception: {words}",
        "\tat com.cloud.agent.manager.AgentManagerImpl.send(AgentManagerImpl.java:123)",
        "\tat java.base/java.lang.Thread.run(Thread.java:829)",
    ])
    doc, loud, path = _diagnose(tmp, QUIET + "\n" + record)
    assert doc["exit"] in (1, 2)
    assert _cites(loud, path, 2), doc["findings"]


@settings(max_examples=15, deadline=None)
@given(words=WORDS, cls=st.text(alphabet=string.ascii_letters, min_size=3, max_size=12))
def test_a_header_less_pasted_exception_is_a_warning(tmp_path_factory, words, cls):
    tmp = tmp_path_factory.mktemp("paste")
    paste = "\n".join([
        f"org.example.{cls.capitalize()}Exception: {words}",
        "\tat org.example.Thing.run(Thing.java:42)",
        f"Caused by: java.io.IOException: {words}",
        "\t... 12 more",
    ])
    doc, loud, path = _diagnose(tmp, paste)
    assert doc["exit"] in (1, 2)
    assert _cites(loud, path, 1), doc["findings"]


def test_a_quiet_log_stays_ok(tmp_path):
    doc, loud, _ = _diagnose(tmp_path, QUIET)
    assert loud == []
    assert doc["exit"] == 0


TIMELESS = [
    "... {level} c.c.v.VirtualMachineManagerImpl {message}",  # header elided by the writer
    "{level}  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-9b1f3a2c) (logid:9b1f3a2c) {message}",  # CONSOLE layout
    "{level}:root:{message}",  # the setup scripts' Python logging layout
]


@settings(max_examples=15, deadline=None)
@given(words=WORDS, layout=st.sampled_from(TIMELESS), level=st.sampled_from(["ERROR", "FATAL"]))
def test_an_unknown_error_in_a_record_without_a_time_is_a_warning(tmp_path_factory, words, layout, level):
    tmp = tmp_path_factory.mktemp("timeless")
    if layout.startswith("{level}:"):
        level = {"FATAL": "CRITICAL"}.get(level, level)
    doc, loud, path = _diagnose(tmp, "Pasted from the host:\n\n" + layout.format(level=level, message=words.capitalize()))
    assert doc["exit"] in (1, 2)
    assert _cites(loud, path, 3), doc["findings"]
