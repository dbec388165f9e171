"""`bundle verify` and `bundle inspect`: read a bundle in place (no unpacking) and compare it with its manifest.

Why streaming: verify hashes every member as the tar stream passes, so a multi-GB bundle needs no disk space and
constant memory. Outcomes are kept apart because people act differently on them: `mismatch` means the content
changed after creation (tampering, or an edit); `unreadable` means the file is damaged or no bundle at all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.bundle.archive import ArchiveError, iter_members
from diagnostics.bundle.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, ManifestError, parse
from diagnostics.bundle.stage import sha256_of
from diagnostics.sources.files import SourceError, open_regular, special_kind


@dataclass(slots=True)
class Verification:
    path: str
    status: str = "ok"  # ok | mismatch | unreadable
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    archive_checksum: str | None = None  # "ok" | "mismatch" | None when there is no .sha256 beside the bundle


def _hash_stream(stream: Any) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def _split_top(name: str) -> tuple[str, str]:
    parts = name.replace("\\", "/").strip("/").split("/", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def read_manifest(path: str) -> dict[str, Any]:
    """The manifest of a bundle archive or folder, reading no further than needed; raises ManifestError/ArchiveError."""
    p = Path(path)
    if p.is_dir():
        candidate = p / MANIFEST_NAME
        if not candidate.is_file():
            raise ManifestError(f"{path}: no manifest.json (not a csdiag bundle)")
        return parse(candidate.read_bytes(), path)
    for member in iter_members(path):
        _top, rel = _split_top(member.name)
        if rel == MANIFEST_NAME and member.type == "file" and member.open is not None:
            with member.open() as f:
                return parse(f.read(MAX_MANIFEST_BYTES + 1), path)
    raise ManifestError(f"{path}: no manifest.json (not a csdiag bundle)")


def verify_bundle(path: str) -> Verification:
    """Check every member against the manifest's sha256 and size; also the `.sha256` file beside it, if any."""
    result = Verification(path)
    p = Path(path)
    if not p.exists():
        result.status, result.problems = "unreadable", [f"{path}: no such file or folder"]
        return result
    seen: dict[str, tuple[str, int]] = {}
    others: list[str] = []
    try:
        if p.is_dir():
            result.manifest = read_manifest(path)
            for dirpath, _dirs, files in os.walk(p):
                for filename in files:
                    full = Path(dirpath) / filename
                    rel = full.relative_to(p).as_posix()
                    if rel == MANIFEST_NAME:
                        continue
                    try:
                        with open_regular(str(full)) as f:
                            seen[rel] = _hash_stream(f)
                    except SourceError:
                        others.append(f"{rel} ({special_kind(str(full)) or 'not a regular file'})")
        else:
            for member in iter_members(path):
                _top, rel = _split_top(member.name)
                if member.type == "dir":
                    continue
                if member.type != "file" or member.open is None:
                    others.append(f"{member.name} ({member.type})")
                    continue
                with member.open() as f:
                    if rel == MANIFEST_NAME and result.manifest is None:
                        result.manifest = parse(f.read(MAX_MANIFEST_BYTES + 1), path)
                    else:
                        seen[rel] = _hash_stream(f)
            if result.manifest is None:
                raise ManifestError(f"{path}: no manifest.json (not a csdiag bundle)")
    except (ArchiveError, ManifestError) as exc:
        result.status, result.problems = "unreadable", [str(exc)]
        return result
    except OSError as exc:
        result.status, result.problems = "unreadable", [f"{path}: {exc.strerror or exc}"]
        return result
    listed = {entry["name"]: entry for entry in result.manifest["files"]}
    for name, entry in listed.items():
        got = seen.get(name)
        if got is None:
            result.problems.append(f"{name}: listed in the manifest but missing from the bundle")
        elif got[0] != entry["sha256"]:
            result.problems.append(f"{name}: sha256 differs from the manifest (content changed)")
        elif got[1] != entry["size"]:
            result.problems.append(f"{name}: size {got[1]} differs from the manifest's {entry['size']}")
        else:
            result.checked += 1
    for name in sorted(set(seen) - set(listed)):
        result.problems.append(f"{name}: in the bundle but not in the manifest (added later?)")
    for other in others:
        result.problems.append(f"{other}: a csdiag bundle holds only files and folders")
    sidecar = Path(path + ".sha256")
    if p.is_file() and sidecar.is_file():
        try:
            expected = sidecar.read_text(encoding="utf-8").split()[0].lower()
            result.archive_checksum = "ok" if sha256_of(p) == expected else "mismatch"
        except (OSError, UnicodeDecodeError, IndexError):
            result.archive_checksum = "mismatch"
        if result.archive_checksum == "mismatch":
            result.problems.append(f"{sidecar.name}: the archive's sha256 does not match this checksum file")
    if result.problems:
        result.status = "mismatch"
    return result
