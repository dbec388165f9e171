"""Open a csdiag bundle, a sosreport (folder or tarball) or any evidence archive as a local directory tree.

Why: `analyze` walks directories. Folders are used in place; archives are unpacked safely (extract.py) into a
private temporary directory that lives only as long as the `with` block. From a sosreport only what csdiag reads
is unpacked (logs, memory/kernel/processor/numa/virsh output, hostname), not its 100k other files. A csdiag bundle
is checked against its manifest while it unpacks, so a tampered member shows up as an error of the analysis.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.bundle.archive import ArchiveError, archive_format, has_archive_name, iter_members
from diagnostics.bundle.extract import ExtractLimits, safe_extract
from diagnostics.bundle.layout import is_sosreport_member, role_of
from diagnostics.bundle.manifest import MANIFEST_NAME, ManifestError, parse

SOS_MARKERS = ("sos_commands", "sos_reports", "sos_logs")
_SOS_NAME = re.compile(r"^sosreport-(?P<host>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{8,}|[0-9a-f]{6,}$)")
_HOSTNAME_FILES = ("hostname", "sos_commands/general/hostname", "sos_commands/host/hostname", "etc/hostname")


class EvidenceError(Exception):
    """The evidence cannot be opened at all (one line naming the path)."""


@dataclass(slots=True)
class EvidenceTree:
    """A local directory to analyse, and what is known about where it came from."""

    root: Path
    kind: str  # csdiag-bundle | sosreport | archive
    source: str
    manifest: dict[str, Any] | None = None
    hostname: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def display_path(self, path: str | Path) -> str:
        """How to name a file of this tree to people: `case.tar.gz:files/x/management-server.log`.

        The temporary unpack folder means nothing to the reader and is gone after the analysis; for folders used in
        place the real path is returned unchanged.
        """
        p = Path(path)
        if self.kind != "archive" and Path(self.source).is_dir():
            return str(p)
        try:
            rel = p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)
        return f"{self.source}:{rel}"

    def files_by_role(self) -> dict[str, list[Path]]:
        """Evidence files under root grouped by role ("management-log", "free", "dmesg", ...), sorted by path."""
        roles: dict[str, list[Path]] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                role = role_of(path.relative_to(self.root).as_posix())
                if role is not None:
                    roles.setdefault(role, []).append(path)
        return roles


def _is_sos_dir(path: Path) -> bool:
    return any((path / marker).is_dir() for marker in SOS_MARKERS)


def _bundle_manifest_in(path: Path) -> dict[str, Any] | None:
    candidate = path / MANIFEST_NAME
    try:
        if candidate.is_file() and candidate.stat().st_size < (64 << 20):
            return parse(candidate.read_bytes(), str(path))
    except (OSError, ManifestError):
        return None
    return None


def _single_top(path: Path) -> Path:
    """An archive usually holds one top folder (`sosreport-kvm01-.../`, `csdiag-bundle-.../`): descend into it."""
    try:
        entries = [e for e in path.iterdir() if not e.name.startswith(".")]
    except OSError:
        return path
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return path


def sos_hostname(root: Path) -> str | None:
    """From the sosreport's hostname file, else from its folder name `sosreport-<host>-<date>...`."""
    for rel in _HOSTNAME_FILES:
        candidate = root / rel
        try:
            if candidate.is_file() and os.path.realpath(candidate).startswith(os.path.realpath(root) + os.sep):
                text = candidate.read_text(encoding="utf-8", errors="replace")[:512].strip().splitlines()
                if text and text[0].strip():
                    return text[0].strip()
        except OSError:
            continue
    m = _SOS_NAME.match(root.name)
    return m.group("host") if m else None


def is_bundle(path: str) -> bool:
    """Should `path` be opened with `open_evidence`? True for archives, sosreport folders and bundle folders.

    A file named like an archive counts even when damaged, so that opening it reports the damage; plain log files,
    rotated `.gz` logs and ordinary folders are False (they are read directly).
    """
    p = Path(path)
    try:
        if p.is_dir():
            return _is_sos_dir(p) or _bundle_manifest_in(p) is not None
        if not p.is_file():
            return False
    except OSError:
        return False
    return has_archive_name(path) or archive_format(path) is not None


@contextlib.contextmanager
def open_evidence(path: str, *, limits: ExtractLimits | None = None, workdir: str | None = None) -> Iterator[EvidenceTree]:
    """Yield an EvidenceTree for a bundle/sosreport archive or folder; temporary files are gone after the block.

    Raises EvidenceError when nothing usable can be opened (not found, not an archive, damaged at the start).
    Refused members, damage later in the archive and manifest mismatches go to `.errors` instead.
    """
    p = Path(path)
    if p.is_dir():
        yield _open_dir(p, path)
        return
    if not p.is_file():
        raise EvidenceError(f"{path}: no such file or folder")
    if not os.access(p, os.R_OK):
        raise EvidenceError(f"{path}: permission denied")
    if limits is None:
        try:
            limits = ExtractLimits.from_env()
        except ValueError as exc:
            raise EvidenceError(f"{path}: not unpacked: {exc}") from None
    tmp = Path(tempfile.mkdtemp(prefix="csdiag-evidence-", dir=workdir))
    try:
        yield _open_archive(p, path, tmp, limits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _open_dir(p: Path, source: str) -> EvidenceTree:
    manifest = _bundle_manifest_in(p)
    if manifest is not None:
        tree = EvidenceTree(root=p, kind="csdiag-bundle", source=source, manifest=manifest)
        tree.hostname = _single_host(manifest)
        return tree
    if _is_sos_dir(p):
        return EvidenceTree(root=p, kind="sosreport", source=source, hostname=sos_hostname(p))
    return EvidenceTree(root=p, kind="archive", source=source)


def _single_host(manifest: dict[str, Any]) -> str | None:
    hosts = manifest.get("hosts")
    return hosts[0] if isinstance(hosts, list) and len(hosts) == 1 and isinstance(hosts[0], str) else None


def _peek_kind(p: Path) -> str:
    """"sosreport" or "archive", from the name and the first members only (a sosreport starts `sosreport-*/`)."""
    name = p.name.lower()
    if name.startswith(("sosreport", "sos-collector")):
        return "sosreport"
    seen = 0
    try:
        for _index, member in zip(range(50), iter_members(str(p))):
            seen += 1
            parts = member.name.replace("\\", "/").strip("/").split("/")
            if parts and parts[0].startswith("sosreport-"):
                return "sosreport"
            if any(part in SOS_MARKERS for part in parts):
                return "sosreport"
    except ArchiveError as exc:
        if not seen:
            raise EvidenceError(str(exc)) from None  # nothing readable at all; later damage is reported by unpacking
    return "archive"


def _open_archive(p: Path, source: str, tmp: Path, limits: ExtractLimits) -> EvidenceTree:
    guess = _peek_kind(p)
    want = is_sosreport_member if guess == "sosreport" else None
    dest = tmp / "tree"
    dest.mkdir(mode=0o700)
    result = safe_extract(str(p), dest, want=want, limits=limits)
    if result.files == 0 and not result.complete:
        raise EvidenceError(result.errors[0] if result.errors else f"{source}: nothing could be unpacked")
    root = _single_top(dest)
    tree = EvidenceTree(root=root, kind="archive", source=source, errors=list(result.errors))
    if not result.complete:
        tree.notes.append(f"{source}: unpacked {result.files} file(s) before the archive ended; evidence is partial")
    if guess == "sosreport":
        tree.notes.append(f"{source}: sosreport; unpacked {result.files} relevant file(s), left out {result.skipped}")
    manifest = _bundle_manifest_in(root)
    if manifest is not None:
        tree.kind, tree.manifest, tree.hostname = "csdiag-bundle", manifest, _single_host(manifest)
        top = root.relative_to(dest).as_posix()
        prefix = "" if top == "." else top + "/"
        tree.errors.extend(_check_against_manifest(manifest, result.digests, prefix, source))
    elif guess == "sosreport" or _is_sos_dir(root):
        tree.kind, tree.hostname = "sosreport", sos_hostname(root)
    return tree


def _check_against_manifest(manifest: dict[str, Any], digests: dict[str, tuple[str, int]], prefix: str, source: str) -> list[str]:
    errors: list[str] = []
    for entry in manifest["files"]:
        got = digests.get(prefix + entry["name"])
        if got is None:
            errors.append(f"{source}: {entry['name']} is listed in the manifest but missing or refused")
        elif got != (entry["sha256"], entry["size"]):
            errors.append(f"{source}: {entry['name']} does not match its sha256 in the manifest (modified?)")
    return errors
