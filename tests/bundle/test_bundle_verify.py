"""`bundle verify` / `bundle inspect`: intact, tampered (2), unreadable (3) - read in place, never unpacked."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from diagnostics.bundle import BundleOptions, create_bundle
from diagnostics.bundle.verify import read_manifest, verify_bundle


@pytest.fixture
def bundle(tmp_path: Path, incident: Path, probe_run: Path) -> Path:
    out = tmp_path / "case.tar.gz"
    create_bundle(BundleOptions(out=out, paths=[str(incident), str(probe_run)], max_file_bytes=1024, reports=False))
    return out


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy a bundle member by member, letting `change(name, data)` return new bytes, None to drop, or a list to add."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w:gz") as tout:
        for member in tin.getmembers():
            data = tin.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            new = change(member.name, data) if member.isfile() else data
            if new is None and member.isfile():
                continue
            if member.isfile():
                member.size = len(new)
                tout.addfile(member, io.BytesIO(new))
            else:
                tout.addfile(member)


def _csdiag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


def test_an_intact_bundle_verifies(bundle: Path) -> None:
    result = verify_bundle(str(bundle))
    assert result.status == "ok" and result.problems == []
    assert result.checked == len(result.manifest["files"]) > 10  # type: ignore[index]
    assert result.archive_checksum == "ok"


def test_a_changed_member_is_a_mismatch(bundle: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(bundle, tampered, lambda name, data: data.replace(b"2025-03-10", b"2025-03-11") if name.endswith("management-server.log") else data)
    result = verify_bundle(str(tampered))
    assert result.status == "mismatch"
    assert result.problems == ["files/incident/management/management-server.log: sha256 differs from the manifest (content changed)"]


def test_a_removed_or_added_member_is_a_mismatch(bundle: Path, tmp_path: Path) -> None:
    removed = tmp_path / "removed.tar.gz"
    _rewrite(bundle, removed, lambda name, data: None if name.endswith("agent/agent.log") else data)
    assert verify_bundle(str(removed)).problems == ["files/incident/agent/agent.log: listed in the manifest but missing from the bundle"]

    added = tmp_path / "added.tar.gz"
    with tarfile.open(bundle) as tin, tarfile.open(added, "w:gz") as tout:
        top = tin.getmembers()[0].name
        for member in tin.getmembers():
            tout.addfile(member, tin.extractfile(member) if member.isfile() else None)
        extra = tarfile.TarInfo(f"{top}/files/planted.sh")
        extra.size = 5
        tout.addfile(extra, io.BytesIO(b"rm -r"))
    assert verify_bundle(str(added)).problems == ["files/planted.sh: in the bundle but not in the manifest (added later?)"]


def test_a_replaced_archive_does_not_match_its_checksum_file(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy" / bundle.name
    copy.parent.mkdir()
    _rewrite(bundle, copy, lambda name, data: data)  # same members, different archive bytes
    (copy.parent / (bundle.name + ".sha256")).write_text((tmp_path / (bundle.name + ".sha256")).read_text())
    result = verify_bundle(str(copy))
    assert result.status == "mismatch" and result.archive_checksum == "mismatch"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no-manifest", "bad-manifest", "missing"])
def test_unreadable_bundles_say_why_in_one_line(bundle: Path, tmp_path: Path, damage: str) -> None:
    target = tmp_path / f"{damage}.tar.gz"
    if damage == "truncated":
        data = bundle.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        target.write_bytes(os.urandom(4096))
    elif damage == "no-manifest":
        _rewrite(bundle, target, lambda name, data: None if name.endswith("/manifest.json") else data)
    elif damage == "bad-manifest":
        _rewrite(bundle, target, lambda name, data: b"{not json" if name.endswith("/manifest.json") else data)
    result = verify_bundle(str(target))
    assert result.status == "unreadable"
    (problem,) = result.problems
    assert problem.startswith(str(target)) and "\n" not in problem


def test_verify_and_inspect_exit_codes_and_no_tracebacks(bundle: Path, tmp_path: Path) -> None:
    ok = _csdiag("bundle", "verify", str(bundle))
    assert ok.returncode == 0 and "ok," in ok.stdout

    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(bundle, tampered, lambda name, data: data + b"x" if name.endswith("free.txt") else data)
    bad = _csdiag("bundle", "verify", str(tampered))
    assert bad.returncode == 2 and "MISMATCH probes/" in bad.stdout

    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(bundle.read_bytes()[:300])
    for command in ("verify", "inspect"):
        run = _csdiag("bundle", command, str(broken))
        assert run.returncode == 3 and "Traceback" not in run.stderr
        assert run.stderr.count("\n") == 1 and str(broken) in run.stderr


def test_inspect_lists_contents_truncation_failures_and_probe_commands(bundle: Path) -> None:
    run = _csdiag("bundle", "inspect", str(bundle))
    assert run.returncode == 0
    assert "files/incident/management/management-server.log  [management-log]" in run.stdout
    assert "TRUNCATED by size-cap" in run.stdout
    assert "probe kvm01.example.net: partial, 3 commands, 1 failed" in run.stdout
    assert "FAILED sensors: failed rc=1 after 0.02 s" in run.stdout
    as_json = json.loads(_csdiag("bundle", "inspect", "--json", str(bundle)).stdout)
    assert as_json == read_manifest(str(bundle))


def test_inspect_reads_only_the_start_of_the_archive(bundle: Path, tmp_path: Path) -> None:
    data = bundle.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: max(2048, len(data) // 3)])  # the manifest is the first member
    assert read_manifest(str(cut))["format"] == "csdiag-bundle"


def test_an_unpacked_bundle_folder_verifies_too(bundle: Path, tmp_path: Path) -> None:
    with tarfile.open(bundle) as tf:
        tf.extractall(tmp_path / "unpacked", filter="data")
    (top,) = (tmp_path / "unpacked").iterdir()
    assert verify_bundle(str(top)).status == "ok"
    (top / "files" / "incident" / "etc" / "db.properties").write_text("db.cloud.password=changed\n")
    assert verify_bundle(str(top)).status == "mismatch"


def test_create_exit_codes(tmp_path: Path, incident: Path) -> None:
    good = _csdiag("bundle", "create", "--out", str(tmp_path / "a.tar.gz"), "--no-reports", str(incident))
    assert good.returncode == 0, good.stderr
    assert "wrote " in good.stdout and "secrets redacted" in good.stdout
    partial = _csdiag("bundle", "create", "--out", str(tmp_path / "b.tar.gz"), "--no-reports", str(incident), str(tmp_path / "gone.log"))
    assert partial.returncode == 3 and (tmp_path / "b.tar.gz").is_file()
    assert f"not collected: {tmp_path / 'gone.log'}: no such file or folder" in partial.stderr
    refused = _csdiag("bundle", "create", "--out", str(tmp_path / "nodir" / "c.tar.gz"), str(incident))
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    bad_since = _csdiag("bundle", "create", "--out", str(tmp_path / "d.tar.gz"), "--since", "yesterday", str(incident))
    assert bad_since.returncode == 3 and "--since 'yesterday'" in bad_since.stderr
