"""Untrusted archives cannot fill the disk: every byte written counts (hardlinks, symlinks, sparse members, zip and
tar alike), a ratio check stops bombs early, depth and member caps hold; each ends with one line and the rest goes on."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from diagnostics.bundle import ExtractLimits, open_evidence
from diagnostics.bundle.extract import MiB, safe_extract

ROOT = Path(__file__).resolve().parents[2]
LOG = (ROOT / "samples" / "scale-dynamic-disabled" / "management-server.log").read_bytes()


def written(dest: Path) -> int:
    """Bytes actually on disk under `dest` (sparse files count by their allocated blocks)."""
    return sum(p.lstat().st_blocks * 512 for p in dest.rglob("*"))


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def hardlink_bomb(path: Path, links: int) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        _add(tf, "case/management-server.log", LOG)
        _add(tf, "case/zeros.bin", b"\0" * MiB)
        for i in range(links):
            info = tarfile.TarInfo(f"case/copy{i}.bin")
            info.type, info.linkname = tarfile.LNKTYPE, "case/zeros.bin"
            tf.addfile(info)
    return path


def test_a_hardlink_bomb_writes_at_most_the_cap_and_stops_with_one_line(tmp_path: Path) -> None:
    archive = hardlink_bomb(tmp_path / "links.tar.gz", 600)
    assert archive.stat().st_size < 200_000
    dest = tmp_path / "dest"
    dest.mkdir()
    result = safe_extract(str(archive), dest, limits=ExtractLimits(max_total_bytes=16 * MiB))
    assert written(dest) <= 16 * MiB + 64 * 1024
    assert result.bytes <= 16 * MiB
    assert len(result.errors) == 1 and "total cap of 16777216 bytes" in result.errors[0]
    assert (dest / "case" / "management-server.log").read_bytes() == LOG


def test_default_limits_stop_a_hardlink_bomb_by_its_ratio(tmp_path: Path) -> None:
    """Before the fix, a 10 KB tar.gz wrote 1.6 GiB whatever the cap: hardlink copies were never counted."""
    archive = hardlink_bomb(tmp_path / "links.tar.gz", 2000)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = safe_extract(str(archive), dest)
    assert written(dest) <= ExtractLimits().ratio_floor + 2 * MiB
    assert len(result.errors) == 1 and "decompression bomb" in result.errors[0]
    assert not result.complete


def sparse_tar(tmp_path: Path, size: int) -> Path:
    folder = tmp_path / "src" / "case"
    folder.mkdir(parents=True)
    (folder / "management-server.log").write_bytes(LOG)
    with open(folder / "disk.img", "wb") as f:
        f.truncate(size)
    archive = tmp_path / "sparse.tar.gz"
    subprocess.run(["tar", "-C", str(tmp_path / "src"), "-cSzf", str(archive), "case"], check=True, timeout=120)
    return archive


def test_a_sparse_bomb_declaring_10_gib_is_left_out_before_writing(tmp_path: Path) -> None:
    archive = sparse_tar(tmp_path, 10 << 30)
    assert archive.stat().st_size < 100_000
    with open_evidence(str(archive)) as tree:
        assert len(tree.errors) == 1 and "left out" in tree.errors[0] and "disk.img" in tree.errors[0]
        assert written(tree.root) <= 512 * MiB
        assert (tree.root / "management-server.log").read_bytes() == LOG


def test_a_sparse_member_under_the_cap_is_stopped_by_the_ratio(tmp_path: Path) -> None:
    archive = sparse_tar(tmp_path, 300 * MiB)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = safe_extract(str(archive), dest)
    assert result.bytes <= ExtractLimits().ratio_floor + MiB
    assert len(result.errors) == 1 and "decompression bomb" in result.errors[0]


def test_a_zip_of_many_small_dense_members_is_stopped_by_the_ratio(tmp_path: Path) -> None:
    """Each member is under the per-member ratio check (1 MiB); together they are a 3 GiB-style bomb."""
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("case/management-server.log", LOG)
        for i in range(120):
            zf.writestr(f"case/z{i}.bin", b"\0" * MiB)
    dest = tmp_path / "dest"
    dest.mkdir()
    result = safe_extract(str(archive), dest)
    assert result.bytes <= ExtractLimits().ratio_floor + MiB
    assert written(dest) <= ExtractLimits().ratio_floor + 2 * MiB
    assert len(result.errors) == 1 and "decompression bomb" in result.errors[0]
    assert (dest / "case" / "management-server.log").read_bytes() == LOG


def test_default_total_cap_is_at_most_512_mib_for_a_tiny_archive_and_a_fraction_of_free_space(tmp_path: Path) -> None:
    archive = tmp_path / "tiny.tar"
    archive.write_bytes(b"\0" * 10240)
    cap = ExtractLimits().total_for(str(archive), tmp_path)
    import shutil

    assert cap <= 512 * MiB
    assert cap <= shutil.disk_usage(tmp_path).free // 2
    assert ExtractLimits(max_total_bytes=7).total_for(str(archive), tmp_path) == 7


def deep_tar(path: Path, depth: int) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        _add(tf, "case/management-server.log", LOG)
        name = "case"
        for _ in range(depth):
            name += "/d"
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tf.addfile(info)
        _add(tf, name + "/deep.log", b"x\n")
    return path


def test_an_archive_nested_1500_folders_deep_refuses_the_deep_part_in_a_few_lines(tmp_path: Path) -> None:
    archive = deep_tar(tmp_path / "deep.tar.gz", 1500)
    with open_evidence(str(archive)) as tree:
        assert 1 <= len(tree.errors) <= 7
        assert "folders deep (the cap is 64)" in tree.errors[0]
        assert tree.errors[-1].endswith("more member(s) refused for the same reason (depth)")
        assert (tree.root / "management-server.log").read_bytes() == LOG


@pytest.mark.parametrize("make", [lambda p: hardlink_bomb(p / "bomb.tar.gz", 2000), lambda p: deep_tar(p / "deep.tar.gz", 1500)])
def test_analyze_names_the_bomb_in_one_line_and_still_analyses_the_rest(tmp_path: Path, make) -> None:
    archive = make(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "diagnostics", "analyze", "--tz", "UTC", "-f", "json", str(archive)],
        cwd=ROOT, capture_output=True, timeout=300, check=False, env={**os.environ, "COLUMNS": "200"},
    )
    err = done.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err
    assert done.returncode in (0, 1, 2, 3)
    import json

    doc = json.loads(done.stdout)
    assert any(i["path"].endswith("management-server.log") and i["records"] > 1000 for i in doc["inputs"])
    bomb_lines = [e for e in doc["errors"] if "decompression bomb" in str(e) or "folders deep" in str(e)]
    assert 1 <= len(bomb_lines) <= 6


def test_every_cap_is_overridable_from_the_environment_for_trusted_archives(tmp_path: Path, monkeypatch) -> None:
    limits = ExtractLimits.from_env({"CSDIAG_UNPACK_MAX_BYTES": "2G", "CSDIAG_UNPACK_MAX_DEPTH": "8",
                                     "CSDIAG_UNPACK_MAX_MEMBERS": "10", "CSDIAG_UNPACK_MAX_RATIO": "1000"})
    assert (limits.max_total_bytes, limits.max_depth, limits.max_members, limits.max_ratio) == (2 << 30, 8, 10, 1000.0)
    archive = deep_tar(tmp_path / "deep.tar.gz", 10)
    monkeypatch.setenv("CSDIAG_UNPACK_MAX_DEPTH", "4")
    with open_evidence(str(archive)) as tree:
        assert "(the cap is 4)" in tree.errors[0]
    monkeypatch.setenv("CSDIAG_UNPACK_MAX_BYTES", "9" * 400)
    from diagnostics.bundle import EvidenceError

    with pytest.raises(EvidenceError, match="CSDIAG_UNPACK_MAX_BYTES"):
        with open_evidence(str(archive)):
            pass
