"""`bundle verify` and `bundle inspect`: read a bundle in place (no unpacking) and compare it with its manifest.

Why streaming: verify hashes every member as the tar stream passes, so a multi-GB bundle needs no disk space and
constant memory. Outcomes are kept apart because people act differently on them: `mismatch` means the content
changed after creation (tampering, or an edit); `unreadable` means the archive is damaged (its first problem says
"archive damaged": ask for it again) or no bundle at all. A checksum only proves integrity against accidents: with `--key`, the
manifest's SSH signature (sign.py) proves that nobody rewrote members and their hashes together.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.bundle.archive import ArchiveError, iter_members, stream_damage
from diagnostics.bundle.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, ManifestError, parse
from diagnostics.bundle.sign import MAX_SIG_BYTES, SIG_NAME, SignError, verify_manifest
from diagnostics.bundle.stage import sha256_of
from diagnostics.sources.files import SourceError, open_regular, special_kind


@dataclass(slots=True)
class Verification:
    path: str
    status: str = "ok"  # ok | mismatch | unreadable (damaged archives too: their first problem says so)
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    archive_checksum: str | None = None  # "ok" | "mismatch" | None when there is no .sha256 beside the bundle
    signature: str = "unsigned"  # unsigned | not checked | good | bad
    signature_detail: str | None = None


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


def verify_bundle(path: str, key: Path | None = None) -> Verification:
    """Check every member against the manifest's sha256 and size, the `.sha256` file beside it (if any) and, with
    `key`, the manifest's signature. A damaged archive is reported as damaged, with what could be checked before."""
    result = Verification(path)
    p = Path(path)
    if not p.exists():
        result.status, result.problems = "unreadable", [f"{path}: no such file or folder"]
        return result
    seen: dict[str, tuple[str, int]] = {}
    others: list[str] = []
    raw_manifest: bytes | None = None
    signature: bytes | None = None
    damaged: str | None = None
    try:
        if p.is_dir():
            raw_manifest = _read_limited(p / MANIFEST_NAME, MAX_MANIFEST_BYTES, path)
            result.manifest = parse(raw_manifest, path)
            if (p / SIG_NAME).is_file():
                signature = _read_limited(p / SIG_NAME, MAX_SIG_BYTES, path)
            for dirpath, _dirs, files in os.walk(p):
                for filename in files:
                    full = Path(dirpath) / filename
                    rel = full.relative_to(p).as_posix()
                    if rel in (MANIFEST_NAME, SIG_NAME):
                        continue
                    try:
                        with open_regular(str(full)) as f:
                            seen[rel] = _hash_stream(f)
                    except SourceError:
                        others.append(f"{rel} ({special_kind(str(full)) or 'not a regular file'})")
        else:
            try:
                for member in iter_members(path):
                    _top, rel = _split_top(member.name)
                    if member.type == "dir":
                        continue
                    if member.type != "file" or member.open is None:
                        others.append(f"{member.name} ({member.type})")
                        continue
                    with member.open() as f:
                        if rel == MANIFEST_NAME and raw_manifest is None:
                            raw_manifest = f.read(MAX_MANIFEST_BYTES + 1)
                            result.manifest = parse(raw_manifest, path)
                        elif rel == SIG_NAME and signature is None:
                            signature = f.read(MAX_SIG_BYTES + 1)
                        else:
                            seen[rel] = _hash_stream(f)
            except ArchiveError as exc:
                if result.manifest is None:
                    raise
                damaged = str(exc)
            if result.manifest is None:
                raise ManifestError(f"{path}: no manifest.json (not a csdiag bundle)")
    except (ArchiveError, ManifestError) as exc:
        result.status, result.problems = "unreadable", [str(exc)]
        return result
    except OSError as exc:
        result.status, result.problems = "unreadable", [f"{path}: {exc.strerror or exc}"]
        return result
    _check_signature(result, raw_manifest, signature, key)
    listed = {entry["name"]: entry for entry in result.manifest["files"]}
    for name, entry in listed.items():
        got = seen.get(name)
        if got is None:
            if damaged is None:
                result.problems.append(f"{name}: listed in the manifest but missing from the bundle")
        elif got[0] != entry["sha256"]:
            result.problems.append(f"{name}: sha256 differs from the manifest (content changed)")
        elif got[1] != entry["size"]:
            result.problems.append(f"{name}: size {got[1]} differs from the manifest's {entry['size']}")
        else:
            result.checked += 1
    if damaged is not None:
        missing = sum(1 for name in listed if name not in seen)
        reached = f"; {missing} listed file(s) not reached before the damage" if missing else ""
        result.problems.insert(0, (damaged if "archive damaged" in damaged else f"{path}: archive damaged: {damaged}") + reached)
    for name in sorted(set(seen) - set(listed)):
        result.problems.append(f"{name}: in the bundle but not in the manifest (added later?)")
    for other in others:
        result.problems.append(f"{other}: a csdiag bundle holds only files and folders")
    if p.is_file() and damaged is None and result.problems:
        # Content differs: the compression format's own checksum tells damage in transit from an edit.
        broken = stream_damage(path)
        if broken is not None:
            damaged = broken
            result.problems.insert(0, f"{path}: archive damaged ({broken}); the differences below may come from it")
    sidecar = Path(path + ".sha256")
    if p.is_file() and sidecar.is_file():
        try:
            expected = sidecar.read_text(encoding="utf-8").split()[0].lower()
            result.archive_checksum = "ok" if sha256_of(p) == expected else "mismatch"
        except (OSError, UnicodeDecodeError, IndexError):
            result.archive_checksum = "mismatch"
        if result.archive_checksum == "mismatch":
            result.problems.append(f"{sidecar.name}: the archive's sha256 does not match this checksum file")
    if damaged is not None:
        result.status = "unreadable"  # damaged: ask for the archive again (the first problem says "archive damaged")
    elif result.problems:
        result.status = "mismatch"
    return result


def _read_limited(path: Path, limit: int, source: str) -> bytes:
    if not path.is_file():
        raise ManifestError(f"{source}: no {path.name} (not a csdiag bundle)" if path.name == MANIFEST_NAME else f"{source}: {path.name} is not a file")
    with open_regular(str(path)) as f:
        return f.read(limit + 1)


def _check_signature(result: Verification, manifest: bytes | None, signature: bytes | None, key: Path | None) -> None:
    if signature is None:
        result.signature = "unsigned"
        if key is not None:
            result.problems.append(f"not signed: no {SIG_NAME}, so --key cannot prove who made this bundle")
        return
    if key is None:
        result.signature = "not checked"
        return
    try:
        good, message = verify_manifest(manifest or b"", signature, key)
    except SignError as exc:
        result.signature = "not checked"
        result.problems.append(f"signature not checked: {exc}")
        return
    result.signature = "good" if good else "bad"
    result.signature_detail = message
    if not good:
        result.problems.append(f"{SIG_NAME}: the signature does not verify with {key} ({message}): the manifest was changed or signed by another key")
