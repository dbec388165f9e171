"""open_evidence: bundles and sosreports for analysis; hostile archives are refused member by member."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from bundle_inputs import AGENT_LOG, FREE_OUTPUT, MGMT_LOG

from diagnostics.bundle import BundleOptions, EvidenceError, ExtractLimits, create_bundle, is_bundle, open_evidence
from diagnostics.bundle.extract import safe_extract

DMESG = "[    0.000000] Linux version 6.1.0-18-amd64\n[12345.678901] Out of memory: Killed process 4242 (qemu-kvm)\n"


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _node(name: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.devmajor, info.devminor = 8, 0
    return info, None


def _outside_untouched(tmp_path: Path) -> set[str]:
    return {p.name for p in tmp_path.parent.iterdir()} | {p.name for p in Path("/tmp").iterdir() if p.name.startswith("evil")}


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_file("../evil.txt", b"x"), "path goes up with '..'"),
        (_file("ok/../../evil.txt", b"x"), "path goes up with '..'"),
        (_file("/tmp/evil-abs.txt", b"x"), "absolute path"),
        (_link("case/evil-link", "/etc/passwd"), "symlink to '/etc/passwd' points outside the archive"),
        (_link("case/evil-link", "../../etc/passwd"), "symlink to '../../etc/passwd' points outside the archive"),
        (_link("case/evil-hard", "/etc/passwd", tarfile.LNKTYPE), "hardlink to '/etc/passwd' points outside the archive"),
        (_link("case/evil-hard", "../outside", tarfile.LNKTYPE), "hardlink to '../outside' points outside the archive"),
        (_node("case/sda", tarfile.BLKTYPE), "device node"),
        (_node("case/tty", tarfile.CHRTYPE), "device node"),
        (_node("case/pipe", tarfile.FIFOTYPE), "fifo node"),
    ],
)
def test_dangerous_tar_members_are_refused_and_the_rest_unpacks(tmp_path: Path, member, reason: str) -> None:
    archive = _tar(tmp_path / "hostile.tar.gz", [_file("case/agent.log", AGENT_LOG.encode()), member, _file("case/free.txt", FREE_OUTPUT.encode())])
    before = _outside_untouched(tmp_path)
    with open_evidence(str(archive)) as tree:
        assert (tree.root / "agent.log").read_text() == AGENT_LOG
        assert (tree.root / "free.txt").is_file()
        assert tree.errors == [f"{archive}: refused member {member[0].name!r}: {reason}" if "node" not in reason
                               else f"{archive}: refused member {member[0].name!r}: {reason} (only files, folders and internal links are unpacked)"]
        assert not any(p.is_symlink() and not str(p.resolve()).startswith(str(tree.root)) for p in tree.root.rglob("*"))
        root = tree.root
    assert not root.exists()
    assert _outside_untouched(tmp_path) == before
    assert not Path("/tmp/evil-abs.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_links_inside_the_tree_are_kept(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "sos.tar.xz", [
        _file("sosreport-kvm01-2025-03-10-abcdef/sos_commands/memory/free", FREE_OUTPUT.encode()),
        _link("sosreport-kvm01-2025-03-10-abcdef/free", "sos_commands/memory/free"),
        _link("sosreport-kvm01-2025-03-10-abcdef/sos_commands/memory/free_copy", "sosreport-kvm01-2025-03-10-abcdef/sos_commands/memory/free", tarfile.LNKTYPE),
    ], mode="w:xz")
    with open_evidence(str(archive)) as tree:
        assert tree.errors == []
        assert (tree.root / "free").read_text() == FREE_OUTPUT
        assert (tree.root / "sos_commands/memory/free_copy").read_text() == FREE_OUTPUT


def test_a_symlinked_folder_cannot_be_used_to_write_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _tar(tmp_path / "a.tar.gz", [_link("case/dir", str(outside)), _file("case/dir/pwned.txt", b"x"),
                                           _link("case/up", "../.."), _file("case/up/pwned2.txt", b"x"),
                                           _link("case/root", ".."), _file("case/root/inside.txt", b"x")])
    with open_evidence(str(archive)) as tree:
        assert [e.split("refused member ")[1].split(":")[0] for e in tree.errors] == ["'case/dir'", "'case/up'"]
        # the refused links were never created, so their names became plain folders inside the tree
        assert (tree.root / "case/dir/pwned.txt").is_file() and not (tree.root / "case/dir").is_symlink()
        assert (tree.root / "inside.txt").is_file()  # `case/root` -> `..` stays inside the tree: allowed
    assert list(outside.iterdir()) == []


def test_a_decompression_bomb_is_refused_by_size_caps(tmp_path: Path) -> None:
    big = b"\0" * (3 << 20)
    archive = _tar(tmp_path / "bomb.tar.gz", [_file("case/small.log", b"ok\n"), _file("case/huge.bin", big)])
    assert archive.stat().st_size < 20_000  # 3 MiB of zeros compress to a few KiB
    with open_evidence(str(archive), limits=ExtractLimits(max_member_bytes=1 << 20)) as tree:
        assert tree.errors == [f"{archive}: refused member 'case/huge.bin': declared size {3 << 20} bytes exceeds the cap of {1 << 20}"]
        assert not (tree.root / "huge.bin").exists() and (tree.root / "small.log").is_file()
    with open_evidence(str(archive), limits=ExtractLimits(max_total_bytes=2 << 20)) as tree:
        assert "total unpacked size would exceed" in tree.errors[0]


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("case/zeros.bin", b"\0" * (8 << 20))
        zf.writestr("case/agent.log", AGENT_LOG)
    with open_evidence(str(archive)) as tree:
        assert len(tree.errors) == 1 and "looks like a decompression bomb" in tree.errors[0]
        assert (tree.root / "agent.log").read_text() == AGENT_LOG


def test_a_zip_whose_data_is_larger_than_declared_is_stopped(tmp_path: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("case/a.log", b"A" * 4096)
    raw = bytearray(archive.read_bytes())
    # Lower the declared uncompressed size in the central directory to 16 bytes.
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (16).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    dest = tmp_path / "dest"
    dest.mkdir()
    result = safe_extract(str(archive), dest)
    assert result.files == 0 and result.errors
    assert not (dest / "case" / "a.log").exists()


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("case/agent.log", AGENT_LOG)
        zf.writestr("../../evil-zip.txt", "x")
        zf.writestr("/abs-evil.txt", "x")
        zf.writestr("..\\..\\evil-win.txt", "x")
    with open_evidence(str(archive)) as tree:
        assert [e.split(": refused member ")[1] for e in tree.errors] == [
            "'../../evil-zip.txt': path goes up with '..'",
            "'/abs-evil.txt': absolute path",
            "'..\\\\..\\\\evil-win.txt': path goes up with '..'",
        ]
        assert (tree.root / "agent.log").is_file()
    assert not (tmp_path.parent / "evil-zip.txt").exists() and not Path("/abs-evil.txt").exists()


def test_a_truncated_archive_keeps_what_came_before_the_damage(tmp_path: Path) -> None:
    members = [_file(f"case/agent.log.{i}", os.urandom(64 << 10)) for i in range(6)]
    full = _tar(tmp_path / "full.tar.gz", members)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    with open_evidence(str(cut)) as tree:
        unpacked = sorted(p.name for p in tree.root.iterdir())
        assert 1 <= len(unpacked) < 6
        assert len(tree.errors) == 1 and "damaged or truncated" in tree.errors[0] and tree.errors[0].startswith(str(cut))
        assert "evidence is partial" in tree.notes[0]


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"\x1f\x8b\x08\x00garbage"])
def test_an_archive_broken_from_the_start_raises_one_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(content)
    assert is_bundle(str(bad))  # named like an archive: opening it must report the damage
    with pytest.raises(EvidenceError) as info:
        with open_evidence(str(bad)):
            pass
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)
    assert not [p for p in Path("/tmp").glob("csdiag-evidence-*") if p.stat().st_mtime > bad.stat().st_mtime]


def _sosreport(root: Path) -> Path:
    sos = root / "sosreport-kvm01-2025-03-10-abcdef"
    files = {
        "sos_commands/memory/free": FREE_OUTPUT,
        "sos_commands/memory/free_-m": FREE_OUTPUT,
        "sos_commands/kernel/dmesg": DMESG,
        "sos_commands/processor/lscpu": "Architecture: x86_64\nCPU(s): 64\n",
        "sos_commands/numa/numactl_--hardware": "available: 2 nodes (0-1)\n",
        "sos_commands/general/hostname": "kvm01.example.net\n",
        "sos_commands/networking/ip_-d_address": "1: lo: <LOOPBACK,UP>\n",
        "var/log/cloudstack/agent/agent.log": AGENT_LOG,
        "var/log/cloudstack/management/management-server.log": MGMT_LOG,
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\n",
    }
    for rel, text in files.items():
        (sos / rel).parent.mkdir(parents=True, exist_ok=True)
        (sos / rel).write_text(text)
    return sos


def test_a_sosreport_folder_is_used_in_place_and_its_layout_recognised(tmp_path: Path) -> None:
    sos = _sosreport(tmp_path)
    assert is_bundle(str(sos))
    with open_evidence(str(sos)) as tree:
        assert (tree.kind, tree.root, tree.hostname, tree.manifest) == ("sosreport", sos, "kvm01.example.net", None)
        roles = {role: [p.relative_to(sos).as_posix() for p in paths] for role, paths in tree.files_by_role().items()}
    assert roles == {
        "free": ["sos_commands/memory/free", "sos_commands/memory/free_-m"],
        "dmesg": ["sos_commands/kernel/dmesg"],
        "lscpu": ["sos_commands/processor/lscpu"],
        "numactl": ["sos_commands/numa/numactl_--hardware"],
        "hostname": ["sos_commands/general/hostname"],
        "agent-log": ["var/log/cloudstack/agent/agent.log"],
        "management-log": ["var/log/cloudstack/management/management-server.log"],
    }
    assert sos.is_dir()  # nothing was removed


def test_a_sosreport_tarball_unpacks_only_what_csdiag_reads(tmp_path: Path) -> None:
    sos = _sosreport(tmp_path / "src")
    archive = tmp_path / "sosreport-kvm01-2025-03-10-abcdef.tar.xz"
    with tarfile.open(archive, "w:xz") as tf:
        tf.add(sos, arcname=sos.name)
    with open_evidence(str(archive)) as tree:
        assert tree.kind == "sosreport" and tree.hostname == "kvm01.example.net"
        assert tree.root.name == sos.name
        assert (tree.root / "sos_commands/kernel/dmesg").read_text() == DMESG
        assert not (tree.root / "etc/passwd").exists() and not (tree.root / "sos_commands/networking").exists()
        assert tree.notes == [f"{archive}: sosreport; unpacked 8 relevant file(s), left out 2"]


def test_sosreport_hostname_falls_back_to_the_folder_name(tmp_path: Path) -> None:
    sos = tmp_path / "sosreport-kvm-07-2025-03-10-abcdef"
    (sos / "sos_commands").mkdir(parents=True)
    with open_evidence(str(sos)) as tree:
        assert tree.hostname == "kvm-07"


def test_a_csdiag_bundle_opens_with_its_manifest_and_tampering_is_an_error(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.gz"
    create_bundle(BundleOptions(out=out, paths=[str(incident)], reports=False))
    assert is_bundle(str(out))
    with open_evidence(str(out)) as tree:
        assert tree.kind == "csdiag-bundle" and tree.errors == []
        assert tree.manifest is not None and tree.manifest["format"] == "csdiag-bundle"
        assert "PLANTED" not in (tree.root / "files/incident/management/management-server.log").read_text()
        assert tree.files_by_role()["agent-log"] == [tree.root / "files/incident/agent/agent.log"]
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(out) as tin, tarfile.open(tampered, "w:gz") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
            if m.name.endswith("agent/agent.log"):
                data = data.replace(b"Lost connection", b"Kept connection")  # type: ignore[union-attr]
            tout.addfile(m, io.BytesIO(data) if data is not None else None)
    with open_evidence(str(tampered)) as tree:
        assert tree.errors == [f"{tampered}: files/incident/agent/agent.log does not match its sha256 in the manifest (modified?)"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: (p / "agent.log").write_text(AGENT_LOG) and p / "agent.log", False),
        (lambda p: _gz(p / "management-server.log.2025-03-09.gz"), False),
        (lambda p: (p / "logs").mkdir() or p / "logs", False),
        (lambda p: p / "missing.tar.gz", False),
        (lambda p: _tar(p / "evidence.tgz", [_file("a/agent.log", b"x")]), True),
        (lambda p: _tar(p / "no-suffix", [_file("a/agent.log", b"x")]), True),
    ],
)
def test_is_bundle_tells_archives_from_logs(tmp_path: Path, make, expected: bool) -> None:
    assert is_bundle(str(make(tmp_path))) is expected


def _gz(path: Path) -> Path:
    import gzip

    with gzip.open(path, "wt") as f:
        f.write(MGMT_LOG)
    return path


def test_files_of_an_unpacked_archive_are_named_after_the_archive(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.gz"
    create_bundle(BundleOptions(out=out, paths=[str(incident / "agent")], reports=False))
    with open_evidence(str(out)) as tree:
        assert tree.display_path(tree.root / "files/agent/agent.log") == f"{out}:files/agent/agent.log"
    sos = _sosreport(tmp_path / "src")
    with open_evidence(str(sos)) as tree:
        assert tree.display_path(sos / "sos_commands/kernel/dmesg") == str(sos / "sos_commands/kernel/dmesg")


_NAME_PART = st.sampled_from(["..", ".", "a", "b", "", "/", "\\", "C:", "~", "x\\..\\.."])


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.lists(_NAME_PART, min_size=1, max_size=5).map("/".join), min_size=1, max_size=6),
       links=st.lists(st.tuples(st.lists(_NAME_PART, min_size=1, max_size=4).map("/".join),
                                st.lists(_NAME_PART, min_size=1, max_size=4).map("/".join), st.booleans()), max_size=4))
def test_no_member_name_or_link_ever_lands_outside_the_destination(names: list[str], links: list[tuple[str, str, bool]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="csdiag-fuzz-") as tmp:
        base = Path(tmp)
        archive = base / "fuzz.tar"
        members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        for name, target, hard in links:
            members.append(_link(name, target, tarfile.LNKTYPE if hard else tarfile.SYMTYPE))
        members += [_file(name, b"payload") for name in names]
        _tar(archive, members, mode="w")
        dest = base / "dest"
        dest.mkdir()
        safe_extract(str(archive), dest)
        outside = [p for p in base.rglob("*") if dest not in p.parents and p not in (dest, archive)]
        assert outside == []
        for p in dest.rglob("*"):
            assert os.path.realpath(p).startswith(str(dest.resolve()))


def test_a_member_that_collides_with_an_earlier_one_is_reported_not_fatal(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "clash.tar.gz", [_file("case/a", b"file"), _file("case/a/b", b"wants a folder"),
                                               _file("case/a", b"again"), _file("case/agent.log", AGENT_LOG.encode())])
    with open_evidence(str(archive)) as tree:
        assert len(tree.errors) == 2
        assert tree.errors[1] == f"{archive}: refused member 'case/a': duplicate member name (the first one is kept)"
        assert tree.errors[0].startswith(f"{archive}: cannot unpack member 'case/a/b': ")
        assert (tree.root / "a").read_bytes() == b"file" and (tree.root / "agent.log").is_file()
