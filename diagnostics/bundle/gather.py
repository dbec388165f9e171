"""Decide which files go into a bundle and under which name, before anything is read.

Why a plan first: pseudonymisation needs a learning pass over the same files, the manifest must list inputs that
could not be read, and the output (or its temporary file) must never be collected into itself. Layout inside the
bundle: `files/<input name>/...` for logs and copies, `probes/<folder>/...` for probe folders (kept as they are,
with their own manifest.json), `reports/` for the analysis.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.bounded import loads_json
from diagnostics.bundle.layout import role_of

PROBE_FORMAT_PREFIX = "csdiag-probe"
DEFAULT_MAX_FILES = 20_000


@dataclass(slots=True)
class PlannedFile:
    origin: Path
    arcname: str  # relative to the bundle's top folder
    role: str | None
    probe: bool = False
    shown_as: str | None = None  # origin for people when `origin` is inside a temporary unpack folder

@dataclass(slots=True)
class Plan:
    files: list[PlannedFile] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (origin, one-line error)
    notes: list[str] = field(default_factory=list)
    probe_folders: list[Path] = field(default_factory=list)


def probe_manifest(folder: Path) -> dict | None:
    """The folder's manifest.json if it is a probe folder (one host) or a probe run (several hosts)."""
    try:
        doc = loads_json((folder / "manifest.json").read_bytes(), source=str(folder / "manifest.json"), max_bytes=64 << 20)
    except (OSError, UnicodeDecodeError, ValueError):  # BoundedValueError is a ValueError: not a probe folder
        return None
    if isinstance(doc, dict) and str(doc.get("format", "")).startswith(PROBE_FORMAT_PREFIX):
        return doc
    return None


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def plan_inputs(
    paths: list[str], exclude: list[Path], max_files: int = DEFAULT_MAX_FILES, unpacked: dict[str, tuple[str, Path]] | None = None
) -> Plan:
    """Walk the given files and folders (links are not followed) into a list of files to stage.

    `unpacked` maps an archive given as input to (its name, the folder it was safely unpacked to): its files are
    planned under `files/<archive name>/` and shown as `<archive>:<member>`.
    """
    plan = Plan()
    unpacked = unpacked or {}
    taken: set[str] = set()
    excluded = {os.path.realpath(p) for p in exclude}
    for raw in paths:
        path = Path(raw)
        if raw in unpacked:
            name, root = unpacked[raw]
            before = len(plan.files)
            _walk(root, _unique(f"files/{name}", taken), False, plan, set(), max_files)
            for planned in plan.files[before:]:
                planned.shown_as = f"{raw}:{planned.origin.relative_to(root).as_posix()}"
            continue
        try:
            if path.is_symlink() and not path.exists():
                plan.failures.append((raw, "broken symbolic link"))
                continue
            if path.is_dir():
                probe = probe_manifest(path) is not None or any(
                    probe_manifest(child) is not None for child in _subdirs(path)
                )
                top = "probes" if probe else "files"
                label = _unique(f"{top}/{path.resolve().name or 'root'}", taken)
                if probe:
                    plan.probe_folders.append(path)
                _walk(path, label, probe, plan, excluded, max_files)
            elif path.is_file():
                if os.path.realpath(path) in excluded:
                    plan.failures.append((raw, "is the bundle being written; left out"))
                    continue
                arc = _unique(f"files/{path.name}", taken)
                plan.files.append(PlannedFile(path, _strip_gz(arc), role_of(path.name)))
            elif path.exists():
                plan.failures.append((raw, "not a regular file or folder; left out"))
            else:
                plan.failures.append((raw, "no such file or folder"))
        except OSError as exc:
            plan.failures.append((raw, exc.strerror or str(exc)))
        if len(plan.files) > max_files:
            plan.failures.append((raw, f"more than {max_files} files; the rest was left out"))
            del plan.files[max_files:]
            break
    return plan


def _is_temporary_of(filename: str, excluded: set[str]) -> bool:
    """The hidden `.<out>.XXXX.tmp` file a concurrent or interrupted run of ours is writing."""
    return filename.startswith(".") and filename.endswith(".tmp") and any(
        filename.startswith("." + os.path.basename(e) + ".") for e in excluded
    )


def _subdirs(path: Path) -> list[Path]:
    try:
        return [child for child in path.iterdir() if child.is_dir() and not child.is_symlink()]
    except OSError:
        return []


def _strip_gz(arcname: str) -> str:
    """Compressed logs are stored decompressed (they are redacted line by line), so the name loses `.gz`."""
    return arcname[:-3] if arcname.endswith(".gz") and not arcname.endswith((".tar.gz", ".pcap.gz")) else arcname


def _walk(root: Path, label: str, probe: bool, plan: Plan, excluded: set[str], max_files: int) -> None:
    def onerror(exc: OSError) -> None:
        plan.failures.append((str(exc.filename or root), exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".csdiag-bundle-") and os.path.realpath(os.path.join(dirpath, d)) not in excluded
        )
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            rel = full.relative_to(root).as_posix()
            if os.path.realpath(full) in excluded or filename.startswith(".csdiag-bundle-") or _is_temporary_of(filename, excluded):
                continue
            if full.is_symlink():
                plan.notes.append(f"{full}: symbolic link, not followed")
                continue
            if not full.is_file():
                plan.notes.append(f"{full}: not a regular file, left out")
                continue
            plan.files.append(PlannedFile(full, _strip_gz(f"{label}/{rel}"), role_of(rel), probe))
            if len(plan.files) > max_files:
                return
