"""Unpack an untrusted archive into a private directory, refusing anything that could escape it or fill the disk.

Why not `tarfile.extractall`: a customer's archive is untrusted input. Each dangerous member is refused with one
line naming it and the reason (a few lines per reason, then a count), and the rest still unpacks, so an analysis
can go on with what is safe:
- names that are absolute, contain `..` or a drive letter (tar path traversal, zip-slip), or nest too deep;
- symlinks or hardlinks whose target lies outside the tree (checked lexically and again after creation);
- device nodes and FIFOs;
- bytes beyond the caps: every byte written counts *before* it is written (regular files, hardlink copies, sparse
  members as expanded, links and folders at a header's worth), and once past a floor the bytes written may not
  exceed `max_ratio` times the compressed bytes read, so a bomb stops early whatever its members declare.
Files are created with O_EXCL|O_NOFOLLOW, so a member can never write through a link planted by an earlier one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from diagnostics.bounded import parse_int, parse_number, parse_size
from diagnostics.bundle.archive import ArchiveError, Member, clean_name, iter_members, link_escapes, unsafe_name
from diagnostics.untrusted import for_terminal

MiB = 1 << 20
GiB = 1 << 30
CHUNK = 1 << 20
LINK_BYTES = 512  # what a link or folder costs against the total cap (a header's worth), so millions of them count


@dataclass(slots=True, frozen=True)
class ExtractLimits:
    """Caps against decompression bombs; each is overridable, None means "derive a sane default".

    Every byte written counts against `max_total_bytes`: regular files, hardlink copies, sparse members expanded,
    links. Defaults: the total is 512 MiB, or 20x the archive's size when that is more (a real 2 GB sosreport may
    hold 40 GB of logs), but never more than half the free space where it unpacks. `max_ratio` stops a bomb
    early: once more than `ratio_floor` bytes are written, at most `max_ratio` bytes per compressed byte read.
    """

    max_member_bytes: int | None = None
    max_total_bytes: int | None = None
    max_members: int = 200_000
    max_depth: int = 64
    max_ratio: float = 200.0
    ratio_floor: int = 64 * MiB
    free_fraction: float = 0.5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExtractLimits:
        """Defaults, overridden by CSDIAG_UNPACK_MAX_BYTES (512M, 20G...), _MAX_MEMBERS, _MAX_DEPTH, _MAX_RATIO.

        Why the environment: archives are opened by every command (analyze, timeline, runbook, bundle create), and a
        trusted archive larger than the default cap must be openable without an option on each of them.
        Raises BoundedValueError (one line) for a value that is not a sane number.
        """
        env = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        if env.get("CSDIAG_UNPACK_MAX_BYTES"):
            changes["max_total_bytes"] = parse_size(env["CSDIAG_UNPACK_MAX_BYTES"], what="CSDIAG_UNPACK_MAX_BYTES")
        for name, attr in (("CSDIAG_UNPACK_MAX_MEMBERS", "max_members"), ("CSDIAG_UNPACK_MAX_DEPTH", "max_depth")):
            if env.get(name):
                changes[attr] = parse_int(env[name], what=name, max_digits=9)
        if env.get("CSDIAG_UNPACK_MAX_RATIO"):
            changes["max_ratio"] = parse_number(env["CSDIAG_UNPACK_MAX_RATIO"], what="CSDIAG_UNPACK_MAX_RATIO", max_digits=6)
        return replace(cls(), **changes)

    def total_for(self, archive: str, dest: Path) -> int:
        """The total cap for unpacking `archive` into `dest`."""
        if self.max_total_bytes is not None:
            return self.max_total_bytes
        try:
            size = os.path.getsize(archive)
        except OSError:
            size = 0
        cap = max(512 * MiB, 20 * size)
        try:
            cap = min(cap, int(shutil.disk_usage(dest).free * self.free_fraction))
        except OSError:
            pass
        return cap


@dataclass(slots=True)
class ExtractResult:
    """What was unpacked, what was left out on purpose (`skipped`) and what was refused (`errors`)."""

    files: int = 0
    bytes: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (sha256, size) of regular files
    complete: bool = True
    refused: dict[str, int] = field(default_factory=dict)  # reason kind -> members refused beyond the lines shown
    shown: dict[str, int] = field(default_factory=dict)  # reason kind -> lines shown


class _Refused(Exception):
    def __init__(self, message: str, kind: str = "member", stop: bool = False) -> None:
        super().__init__(message)
        self.kind, self.stop = kind, stop


MAX_LINES_PER_REASON = 5  # a hostile archive can refuse 100k members: show a few, then count


@dataclass(slots=True)
class _Budget:
    """Bytes still allowed, and the ratio check against compressed bytes read."""

    total: int
    member: int
    limits: ExtractLimits
    written: int = 0

    def take(self, n: int, consumed: int) -> None:
        """Account `n` more bytes *before* they are written; raises _Refused(stop=True) when a cap would be passed."""
        if self.written + n > self.total:
            raise _Refused(f"unpacking would pass the total cap of {self.total} bytes ({self.written} written); "
                           "stopped (if this archive is trusted, raise it with CSDIAG_UNPACK_MAX_BYTES)", "total", stop=True)
        after = self.written + n
        if after > self.limits.ratio_floor and after > self.limits.max_ratio * max(consumed, 1):
            raise _Refused(f"decompression bomb: {after} bytes from {consumed} compressed bytes (more than "
                           f"{self.limits.max_ratio:.0f}:1); stopped (CSDIAG_UNPACK_MAX_RATIO raises the limit)", "ratio", stop=True)
        self.written = after


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

    Raises nothing for bad members (they go to `errors`, a few lines per reason and then a count); a damaged
    archive or a cap reached stops the walk with one line and `complete=False`, keeping what was unpacked before.
    """
    result = ExtractResult()
    root_real = os.path.realpath(dest)
    total = limits.total_for(archive, dest)
    budget = _Budget(total, min(total, limits.max_member_bytes or total), limits)
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
                _refuse(result, archive, member.name, reason, "name")
                continue
            name = clean_name(member.name)
            if name in (".", ""):
                continue
            depth = name.count("/") + 1
            if depth > limits.max_depth:
                _refuse(result, archive, member.name, f"nested {depth} folders deep (the cap is {limits.max_depth})", "depth")
                continue
            if want is not None and not want(name):
                result.skipped += member.type != "dir"
                continue
            try:
                _extract_one(archive, member, name, dest, root_real, budget, result)
            except _Refused as refused:
                if refused.stop:
                    result.errors.append(f"{archive}: {refused} (at member {_quoted(member.name)})")
                    result.complete = False
                    break
                _refuse(result, archive, member.name, str(refused), refused.kind)
            except OSError as exc:  # e.g. `a` is a file and `a/b` wants it to be a folder
                _refuse(result, archive, member.name, str(exc.strerror or exc), "oserror", "cannot unpack member")
    except ArchiveError as exc:
        result.errors.append(str(exc))
        result.complete = False
    result.bytes = budget.written
    for kind, more in result.refused.items():
        result.errors.append(f"{archive}: {more} more member(s) refused for the same reason ({kind})")
    return result


def _refuse(result: ExtractResult, archive: str, name: str, reason: str, kind: str, verb: str = "refused member") -> None:
    """One line per refused member for the first few of each kind, then only a count (summed up at the end)."""
    if result.shown.get(kind, 0) < MAX_LINES_PER_REASON:
        result.errors.append(f"{archive}: {verb} {_quoted(name)}: {reason}")
        result.shown[kind] = result.shown.get(kind, 0) + 1
    else:
        result.refused[kind] = result.refused.get(kind, 0) + 1


def _quoted(name: str) -> str:
    """A member name for a one-line message: controls and newlines visible, at most 200 characters."""
    short = name if len(name) <= 200 else name[:200] + "..."
    return for_terminal(repr(short))


def _extract_one(
    archive: str, member: Member, name: str, dest: Path, root_real: str, budget: _Budget, result: ExtractResult
) -> None:
    target = dest / name
    consumed = member.consumed() if member.consumed is not None else 0
    if not _inside(root_real, str(target.parent)):
        raise _Refused("its folder is a link that leads outside the archive", "link")
    if member.type == "dir":
        budget.take(LINK_BYTES, consumed)
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        return
    if member.type in ("device", "fifo", "other"):
        raise _Refused(f"{member.type} node (only files, folders and internal links are unpacked)", "special")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.path.lexists(target):
        raise _Refused("duplicate member name (the first one is kept)", "duplicate")
    if member.type == "symlink":
        link = member.linkname
        if not link and member.open is not None:  # zip keeps the link target as the member's content
            with member.open() as f:
                link = f.read(4096).decode("utf-8", "replace")
        if link_escapes(name, link):
            raise _Refused(f"symlink to {_quoted(link)} points outside the archive", "link")
        budget.take(LINK_BYTES + len(link), consumed)
        os.symlink(link, target)
        if not _inside(root_real, str(target)):
            os.unlink(target)
            raise _Refused(f"symlink to {_quoted(link)} resolves outside the archive", "link")
        return
    if member.type == "hardlink":
        if unsafe_name(member.linkname) or link_escapes("", member.linkname):
            raise _Refused(f"hardlink to {_quoted(member.linkname)} points outside the archive", "link")
        source = dest / clean_name(member.linkname)
        if not source.is_file() or source.is_symlink() or not _inside(root_real, str(source)):
            raise _Refused(f"hardlink to {_quoted(member.linkname)}, which is not a file unpacked from this archive", "link")
        # A copy, not a link (a link would let a later member write through it): its bytes count like any file's.
        size = source.stat().st_size
        if size > budget.member:
            raise _Refused(f"hardlink copy of {size} bytes exceeds the per-member cap of {budget.member}", "size")
        budget.take(size, consumed)
        with open(source, "rb") as src:
            _write_stream(archive, name, target, src, size, budget, None, result)
        return
    _copy_file(archive, member, name, target, budget, result)


def _copy_file(archive: str, member: Member, name: str, target: Path, budget: _Budget, result: ExtractResult) -> None:
    limits = budget.limits
    if member.size > budget.total:  # alone too big (a sparse or lying member): leave it out, go on with the rest
        raise _Refused(f"declared size {member.size} bytes: total unpacked size would exceed the cap of {budget.total} bytes; left out", "size")
    if member.size > budget.member:
        raise _Refused(f"declared size {member.size} bytes exceeds the cap of {budget.member}", "size")
    if budget.written + member.size > budget.total:
        raise _Refused(f"total unpacked size would exceed the cap of {budget.total} bytes", "total", stop=True)
    if member.compressed_size is not None and member.size > CHUNK:
        ratio = member.size / max(member.compressed_size, 1)
        if ratio > limits.max_ratio:
            raise _Refused(f"compression ratio {ratio:.0f}:1 looks like a decompression bomb", "ratio")
    if member.open is None:
        raise _Refused("cannot be read", "unreadable")
    with member.open() as src:
        _write_stream(archive, name, target, src, member.size, budget, member.consumed, result)


def _write_stream(
    archive: str, name: str, target: Path, src: Any, declared: int, budget: _Budget,
    consumed: Callable[[], int] | None, result: ExtractResult,
) -> None:
    """Copy `src` to a new file `target`, asking the budget before every block is written."""
    digest = hashlib.sha256()
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = src.read(CHUNK)
                if not block:
                    break
                written += len(block)
                if written > declared:
                    raise _Refused(f"holds more bytes than its declared size {declared} (decompression bomb?)", "size")
                if consumed is not None:  # hardlink copies were accounted whole before the first block
                    budget.take(len(block), consumed())
                digest.update(block)
                out.write(block)
    except (_Refused, ArchiveError):
        os.unlink(target)
        raise
    except Exception as exc:  # damaged data inside one member: the stream cannot go on
        os.unlink(target)
        raise ArchiveError(f"{archive}: member {_quoted(name)} is damaged ({type(exc).__name__}: {exc})") from None
    result.files += 1
    result.digests[name] = (digest.hexdigest(), written)
