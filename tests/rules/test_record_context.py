"""What the log_record fact carries beyond the message: the agent command named in the NDC (VmwareResource's
`<host>, <job>, cmd: <Command>`), so that a rule can tell which operation an exception interrupted."""

from __future__ import annotations

from datetime import timezone

from diagnostics.analysis import analyze_paths


def _records(tmp_path, text: str):
    path = tmp_path / "management-server.log"
    path.write_text(text, encoding="utf-8")
    analysis = analyze_paths([str(path)], tz=timezone.utc)
    return analysis, [f for f in analysis.collected.facts if f.kind == "log_record"]


def test_the_ndc_command_is_a_field_of_the_record(tmp_path) -> None:
    _, records = _records(tmp_path, (
        "2023-05-02 09:14:11,020 ERROR [c.c.h.v.r.VmwareResource] (DirectAgent-7:ctx-0a1b2c3d vc02.lab, job-77/job-78,"
        " cmd: CopyCommand) (logid:0a1b2c3d) Unable to copy volume: the datastore is not accessible\n"
        "2023-05-02 09:14:12,020 ERROR [c.c.h.v.r.VmwareResource] (DirectAgent-7:ctx-0a1b2c3d vc02.lab,"
        " cmd: ScaleVmCommand) (logid:0a1b2c3d) Unable to scale the VM: the host refused\n"
        "2023-05-02 09:14:13,020 ERROR [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-1b2c3d4e) (logid:1b2c3d4e)"
        " Unable to load the command context: cmd: none\n"
    ))
    assert [r.command for r in sorted(records, key=lambda r: r.line)] == ["CopyCommand", "ScaleVmCommand", None]


def test_an_error_inside_a_storage_command_is_a_storage_failure(tmp_path) -> None:
    analysis, _ = _records(tmp_path, (
        "2023-05-02 09:14:11,020 ERROR [c.c.h.v.r.VmwareResource] (DirectAgent-7:ctx-0a1b2c3d vc02.lab, job-77/job-78,"
        " cmd: ResizeVolumeCommand) (logid:0a1b2c3d) Catch Exception java.lang.IllegalStateException due to"
        " java.lang.IllegalStateException\n"
    ))
    hits = [f for f in analysis.findings if f.rule_id == "storage.storage-command-error"]
    assert [(f.category, f.severity) for f in hits] == [("storage", "warning")]
    assert "ResizeVolumeCommand" in hits[0].message


def test_an_error_inside_another_command_is_not(tmp_path) -> None:
    analysis, _ = _records(tmp_path, (
        "2023-05-02 09:14:11,020 ERROR [c.c.h.v.r.VmwareResource] (DirectAgent-7:ctx-0a1b2c3d vc02.lab, job-77/job-78,"
        " cmd: StartCommand) (logid:0a1b2c3d) Catch Exception java.lang.IllegalStateException due to"
        " java.lang.IllegalStateException\n"
    ))
    assert not [f for f in analysis.findings if f.rule_id == "storage.storage-command-error"]
