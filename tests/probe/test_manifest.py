"""Reading probe folders back (what analyze and bundle rely on), and never leaving half-written files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.cli.common import ExitCode
from diagnostics.cli.probe import exit_code
from diagnostics.probe import ClockOffset, CommandResult, HostResult, read_probe_folder, read_probe_run
from diagnostics.probe.atomic_files import atomic_file
from diagnostics.probe.manifest import MANIFEST, run_manifest


def command(name: str, output: str | None, status: str = "ok") -> CommandResult:
    return CommandResult(
        name=name, command=f"timeout 20 sh -c {name}", status=status, rc=0 if status == "ok" else 1, duration_s=0.05,
        bytes=3, truncated=False, timed_out=False, started_at=1763934000.0, ended_at=1763934000.05, output=output,
    )


def host_folder(root: Path, name: str = "kvm01", commands: list[CommandResult] | None = None, status: str = "ok") -> HostResult:
    folder = root / name
    folder.mkdir(parents=True)
    result = HostResult(
        host=name, address=name, port=22, user="root", folder=folder, status=status,
        started_at=1763934000.0, ended_at=1763934002.5, clock=ClockOffset(offset_s=-1.25, uncertainty_s=0.004),
        commands=commands if commands is not None else [command("free_b", "free-b.txt"), command("sensors", None, "failed")],
    )
    for each in result.commands:
        if each.output:
            (folder / each.output).write_text("abc")
    (folder / MANIFEST).write_text(json.dumps(result.to_json()))
    return result


def test_a_host_folder_reads_back_with_files_by_command_and_the_clock_offset(tmp_path):
    written = host_folder(tmp_path)

    folder = read_probe_folder(written.folder)

    assert folder.host == "kvm01" and folder.status == "ok"
    assert folder.files == {"free_b": written.folder / "free-b.txt"}
    assert folder.clock_offset_s == -1.25 and folder.clock_uncertainty_s == 0.004
    assert folder.commands["sensors"].status == "failed" and folder.commands["free_b"].started_at == pytest.approx(1763934000.0)
    assert folder.ended_at - folder.started_at == pytest.approx(2.5)


def test_a_run_folder_lists_its_hosts_in_manifest_order(tmp_path):
    results = [host_folder(tmp_path, "kvm02"), host_folder(tmp_path, "kvm01", status="unreachable", commands=[])]
    (tmp_path / MANIFEST).write_text(json.dumps(run_manifest(results, 0.0, 1.0)))
    assert [folder.host for folder in read_probe_run(tmp_path)] == ["kvm02", "kvm01"]


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\xff\xfe", b"\xff{\"host\": 1}", b"[1, 2]", b"{\"format\": \"other\", \"host\": \"x\", \"commands\": []}", b"{\"format\": \"csdiag-probe/1\", \"host\": \"x\"", b"{}"],
    ids=["empty", "binary", "non-utf8", "list", "foreign", "truncated", "no-fields"],
)
def test_anything_but_a_probe_manifest_is_none(tmp_path, content):
    (tmp_path / MANIFEST).write_bytes(content)
    assert read_probe_folder(tmp_path) is None
    assert read_probe_run(tmp_path) == []


def test_a_missing_folder_is_none(tmp_path):
    assert read_probe_folder(tmp_path / "absent") is None


def test_a_manifest_cannot_point_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    written = host_folder(tmp_path / "run", commands=[command("free_b", "../../secret.txt"), command("lscpu", "lscpu.txt")])
    assert read_probe_folder(written.folder).files == {"lscpu": written.folder / "lscpu.txt"}


def test_an_output_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "dmesg.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target) as stream:
            stream.write(b"half of the kernel log")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_file(target) as stream:
        stream.write(b"the whole kernel log")
    assert [path.name for path in tmp_path.iterdir()] == ["dmesg.txt"] and target.read_bytes() == b"the whole kernel log"


@pytest.mark.parametrize(
    "statuses, code",
    [(["ok", "ok"], ExitCode.OK), (["ok", "partial"], ExitCode.WARNING), (["partial", "unreachable"], ExitCode.UNKNOWN), (["refused"], ExitCode.UNKNOWN), (["ok", "cancelled"], ExitCode.UNKNOWN)],
)
def test_exit_codes(tmp_path, statuses, code):
    results = [HostResult(host=f"h{i}", address="h", port=22, user="root", folder=tmp_path, status=s) for i, s in enumerate(statuses)]
    assert exit_code(results) == code
