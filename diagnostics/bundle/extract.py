"""Unpack an untrusted archive into a private directory, refusing anything that could escape it or fill the disk.

Why not `tarfile.extractall`: a customer's archive is untrusted input. Each dangerous member is refused with one
line naming it and the reason, and the rest still unpacks, so an analysis can go on with what is safe:
- names that are absolute, contain `..` or a drive letter (tar path traversal, zip-slip);
- symlinks or hardlinks whose target lies outside the tree (checked lexically and again after creation);
- device nodes and FIFOs;
- members larger than a cap, a total larger than a cap, too many members, or (zip) an absurd compression ratio,
  with the actual bytes counted while copying because declared sizes can lie (decompression bombs).
Files are created with O_EXCL|O_NOFOLLOW, so a member can never write through a link planted by an earlier one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.bundle.archive import ArchiveError, Member, clean_name, iter_members, link_escapes, unsafe_name

GiB = 1 << 30
CHUNK = 1 << 20


@dataclass(slots=True, frozen=True)
class ExtractLimits:
    """Caps against decompression bombs; generous for real multi-GB logs, absurd sizes are refused."""

    max_member_bytes: int = 16 * GiB
    max_total_bytes: int = 64 * GiB
    max_members: int = 500_000
    max_zip_ratio: float = 1000.0


@dataclass(slots=True)
class ExtractResult:
    """What was unpacked, what was left out on purpose (`skipped`) and what was refused (`errors`)."""

    files: int = 0
    bytes: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (sha256, size) of regular files
    complete: bool = True


class _Refused(Exception):
    pass


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def safe_extract(
    archive: str,
    dest: Path,
    *,
    want: Callable[[str], bool] | None = None,
    limits: ExtractLimits = ExtractLimits(),
) -> ExtractResult:
    """Unpack the members of `archive` that `want(name)` accepts into the existing directory `dest`.

    Raises nothing for bad members (they go to `errors`); a damaged archive stops the walk with one error and
    `complete=False`, keeping what was unpacked before the damage.
    """
    result = ExtractResult()
    root_real = os.path.realpath(dest)
    count = 0
    try:
        for member in iter_members(archive):
            count += 1
            if count > limits.max_members:
                result.errors.append(f"{archive}: more than {limits.max_members} members; stopped unpacking")
                result.complete = False
                break
            reason = unsafe_name(member.name)
            if reason:
                result.errors.append(f"{archive}: refused member {member.name!r}: {reason}")
                continue
            name = clean_name(member.name)
            if name in (".", ""):
                continue
            if want is not None and not want(name):
                result.skipped += member.type != "dir"
                continue
            try:
                _extract_one(archive, member, name, dest, root_real, limits, result)
            except _Refused as refused:
                result.errors.append(f"{archive}: refused member {member.name!r}: {refused}")
                if "total" in str(refused):
                    result.complete = False
                    break
            except OSError as exc:  # e.g. `a` is a file and `a/b` wants it to be a folder
                result.errors.append(f"{archive}: cannot unpack member {member.name!r}: {exc.strerror or exc}")
    except ArchiveError as exc:
        result.errors.append(str(exc))
        result.complete = False
    return result


def _extract_one(
    archive: str, member: Member, name: str, dest: Path, root_real: str, limits: ExtractLimits, result: ExtractResult
) -> None:
    target = dest / name
    if not _inside(root_real, str(target.parent)):
        raise _Refused("its folder is a link that leads outside the archive")
    if member.type == "dir":
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        return
    if member.type in ("device", "fifo", "other"):
        raise _Refused(f"{member.type} node (only files, folders and internal links are unpacked)")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.path.lexists(target):
        raise _Refused("duplicate member name (the first one is kept)")
    if member.type == "symlink":
        link = member.linkname
        if not link and member.open is not None:  # zip keeps the link target as the member's content
            with member.open() as f:
                link = f.read(4096).decode("utf-8", "replace")
        if link_escapes(name, link):
            raise _Refused(f"symlink to {link!r} points outside the archive")
        os.symlink(link, target)
        if not _inside(root_real, str(target)):
            os.unlink(target)
            raise _Refused(f"symlink to {link!r} resolves outside the archive")
        return
    if member.type == "hardlink":
        if unsafe_name(member.linkname) or link_escapes("", member.linkname):
            raise _Refused(f"hardlink to {member.linkname!r} points outside the archive")
        source = dest / clean_name(member.linkname)
        if not source.is_file() or source.is_symlink() or not _inside(root_real, str(source)):
            raise _Refused(f"hardlink to {member.linkname!r}, which is not a file unpacked from this archive")
        shutil.copyfile(source, target, follow_symlinks=False)
        result.files += 1
        return
    _copy_file(archive, member, name, target, limits, result)


def _copy_file(archive: str, member: Member, name: str, target: Path, limits: ExtractLimits, result: ExtractResult) -> None:
    if member.size > limits.max_member_bytes:
        raise _Refused(f"declared size {member.size} bytes exceeds the cap of {limits.max_member_bytes}")
    if result.bytes + member.size > limits.max_total_bytes:
        raise _Refused(f"total unpacked size would exceed the cap of {limits.max_total_bytes} bytes")
    if member.compressed_size is not None and member.size > CHUNK:
        ratio = member.size / max(member.compressed_size, 1)
        if ratio > limits.max_zip_ratio:
            raise _Refused(f"compression ratio {ratio:.0f}:1 looks like a decompression bomb")
    if member.open is None:
        raise _Refused("cannot be read")
    allowed = min(member.size, limits.max_member_bytes, limits.max_total_bytes - result.bytes)
    digest = hashlib.sha256()
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, member.open() as src:
            while True:
                block = src.read(CHUNK)
                if not block:
                    break
                written += len(block)
                if written > allowed:
                    raise _Refused(f"holds more bytes than its declared size {member.size} (decompression bomb?)")
                digest.update(block)
                out.write(block)
    except _Refused:
        os.unlink(target)
        raise
    except ArchiveError:
        os.unlink(target)
        raise
    except Exception as exc:  # damaged data inside one member: the stream cannot go on
        os.unlink(target)
        raise ArchiveError(f"{archive}: member {name!r} is damaged ({type(exc).__name__}: {exc})") from None
    result.files += 1
    result.bytes += written
    result.digests[name] = (digest.hexdigest(), written)
