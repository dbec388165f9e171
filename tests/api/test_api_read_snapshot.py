"""Reading a snapshot back: damaged folders give one warning per file and keep the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudstack_fake import FakeManagementServer, write_cmk_config
from diagnostics.api import facts_from_snapshot, is_snapshot_folder
from diagnostics.cli import main


@pytest.fixture
def snapshot(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path) -> Path:
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    with pytest.raises(SystemExit) as done:
        main(["api-snapshot", "--vm", "web01", "--offering", "Large", "--out", str(out)])
    assert done.value.code in (0, None)
    return out


def kinds(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fact in facts_from_snapshot(folder)[0]:
        counts[fact.kind] = counts.get(fact.kind, 0) + 1
    return counts


def test_truncated_answer_file_is_named_and_the_other_facts_stay(snapshot: Path) -> None:
    hosts = snapshot / "listHosts.json"
    hosts.write_bytes(hosts.read_bytes()[:200])
    facts, warnings = facts_from_snapshot(snapshot)
    (warning,) = warnings
    assert warning.startswith(f"{hosts}: unreadable (invalid JSON at line ") and warning.endswith(
        "; its facts are missing")
    assert not [f for f in facts if f.kind == "api_host"] and [f for f in facts if f.kind == "api_vm"]


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\xff", b"", "{\"x\": \"\u00e9\"}".encode("latin-1")])
def test_binary_empty_or_non_utf8_files_are_warnings(snapshot: Path, content: bytes) -> None:
    (snapshot / "listCapacity.json").write_bytes(content)
    facts, warnings = facts_from_snapshot(snapshot)
    assert len(warnings) == 1 and warnings[0].startswith(f"{snapshot / 'listCapacity.json'}: unreadable")
    assert "api_capacity" not in {f.kind for f in facts} and "api_host" in {f.kind for f in facts}


def test_missing_answer_file_is_a_warning(snapshot: Path) -> None:
    (snapshot / "listAccounts.json").unlink()
    facts, warnings = facts_from_snapshot(snapshot)
    assert len(warnings) == 1 and "listAccounts.json: unreadable" in warnings[0]
    limit = next(f for f in facts if f.kind == "api_limit" and f.resource_type == "memory")
    assert (limit.limit, limit.used) == (40960, None)  # the limit is known, the use no longer


def test_folder_without_our_manifest_is_not_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "sos"}))
    assert not is_snapshot_folder(tmp_path) and not is_snapshot_folder(tmp_path / "nope")
    facts, warnings = facts_from_snapshot(tmp_path)
    assert facts == [] and warnings == [f"{tmp_path / 'manifest.json'}: not a csdiag API snapshot manifest"]


def test_broken_manifest_is_one_warning(snapshot: Path) -> None:
    (snapshot / "manifest.json").write_text("{\"format\": \"csdiag-api-snapshot\", \"calls\": [")
    assert not is_snapshot_folder(snapshot)
    assert facts_from_snapshot(snapshot) == ([], [f"{snapshot / 'manifest.json'}: unreadable (invalid JSON at line 1 "
                                                  "column 45)"])


def test_snapshot_facts_are_the_same_after_a_copy(snapshot: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copied"
    shutil.copytree(snapshot, copy)
    assert kinds(copy) == kinds(snapshot) == {
        "api_vm": 1, "api_offering": 3, "api_host": 2, "api_capacity": 2, "api_setting": 10, "api_limit": 2,
        "api_job": 1, "api_scale_request": 1}
