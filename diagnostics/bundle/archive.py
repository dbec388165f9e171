"""Read the members of a .tar(.gz|.xz|.bz2) or .zip archive in place, one at a time, without unpacking to disk.

Why one layer: verify, inspect and safe unpacking all walk members the same way, and every one of them must treat
a corrupt or truncated archive as one clear error, not a traceback. Tar is read as a stream (`r|*`), so a
multi-GB bundle is never loaded whole and a truncated one is read up to the damage.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar")
ZIP_SUFFIXES = (".zip",)


class ArchiveError(Exception):
    """One line naming the archive and what is wrong with it."""


@dataclass(slots=True)
class Member:
    """One archive entry. `open()` streams a regular file's bytes; valid only while the iteration is at it."""

    name: str
    type: str  # file | dir | symlink | hardlink | device | fifo | other
    size: int
    linkname: str = ""
    compressed_size: int | None = None  # zip only
    open: Callable[[], IO[bytes]] | None = None
    consumed: Callable[[], int] | None = None  # compressed bytes of the archive read so far (for the ratio check)


class _Guarded:
    """A member's byte stream whose damage surfaces as ArchiveError naming the archive and the member."""

    def __init__(self, raw: IO[bytes], archive: str, name: str) -> None:
        self._raw, self._archive, self._name = raw, archive, name

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(n)
        except Exception as exc:  # tarfile.ReadError, zlib.error, EOFError, zipfile.BadZipFile, lzma errors...
            raise ArchiveError(
                f"{self._archive}: archive damaged: member {self._name!r} is damaged or truncated ({type(exc).__name__}: {exc})"
            ) from None

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "_Guarded":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _guard(opener: Callable[[], IO[bytes]], archive: str, name: str) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        try:
            raw = opener()
        except Exception as exc:  # noqa: BLE001 - same contract as read()
            raise ArchiveError(f"{archive}: member {name!r} cannot be opened ({type(exc).__name__}: {exc})") from None
        return _Guarded(raw, archive, name)  # type: ignore[return-value]

    return open_member


def archive_format(path: str) -> str | None:
    """'tar' or 'zip' by content (names lie: a rotated `agent.log.2025-01-01.gz` is gzip but no tar), or None."""
    try:
        if zipfile.is_zipfile(path):
            return "zip"
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return None
    if head[257:262] == b"ustar":
        return "tar"
    if head[:2] == b"\x1f\x8b" or head[:6] == b"\xfd7zXZ\x00" or head[:3] == b"BZh":
        try:  # a compressed stream: a tar only if its first block is a tar header
            with tarfile.open(path, mode="r|*") as tf:
                tf.next()
            return "tar"
        except Exception:  # noqa: BLE001 - any failure here just means "not a readable tar"
            return None
    return None


def has_archive_name(path: str) -> bool:
    low = path.lower()
    return low.endswith(TAR_SUFFIXES + ZIP_SUFFIXES)


def _tar_type(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.ischr() or info.isblk():
        return "device"
    if info.isfifo():
        return "fifo"
    return "other"


def _zip_type(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.is_dir():
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "file"


def iter_members(path: str) -> Iterator[Member]:
    """Yield members in archive order. Raises ArchiveError (naming `path`) on damage, also mid-way."""
    fmt = archive_format(path)
    if fmt is None and has_archive_name(path):
        fmt = "zip" if path.lower().endswith(ZIP_SUFFIXES) else "tar"  # read it anyway to name the damage
    if fmt is None:
        raise ArchiveError(f"{path}: not a tar or zip archive (or unreadable)")
    count = 0
    try:
        if fmt == "zip":
            with zipfile.ZipFile(path) as zf:
                read = 0
                for info in zf.infolist():
                    count += 1
                    read += info.compress_size + 30 + len(info.filename)  # data plus its local header
                    kind = _zip_type(info)
                    opener = _guard(lambda i=info: zf.open(i), path, info.filename) if kind in ("file", "symlink") else None
                    yield Member(info.filename, kind, info.file_size, "", info.compress_size, opener, lambda r=read: r)
            return
        with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tf:
            for info in tf:
                count += 1
                kind = _tar_type(info)
                opener = _guard(lambda i=info: tf.extractfile(i), path, info.name) if kind == "file" else None  # type: ignore[misc,arg-type,return-value]
                yield Member(info.name, kind, info.size, info.linkname, None, opener, raw.tell)  # type: ignore[arg-type]
            _check_tar_end(tf, path, count)
    except ArchiveError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
        where = f"after {count} member(s)" if count else "at the start"
        raise ArchiveError(f"{path}: archive damaged: corrupt or truncated {where} ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # lzma/bz2 raise their own error types on damaged streams
        where = f"after {count} member(s)" if count else "at the start"
        raise ArchiveError(f"{path}: archive damaged: cannot read {where} ({type(exc).__name__}: {exc})") from None


def _check_tar_end(tf: tarfile.TarFile, path: str, count: int) -> None:
    """tarfile ends a stream silently at a damaged header (after the first one): only zeros may follow the end.

    Reading to the end also lets gzip/xz check their CRC, so a flipped byte is damage, not just a hash mismatch.
    A damaged header early in a large archive is found at the first non-zero byte, so this reads little then.
    """
    stream = tf.fileobj
    while True:
        block = stream.read(1 << 16)  # type: ignore[union-attr]
        if not block:
            return
        if block.count(0) != len(block):
            raise ArchiveError(f"{path}: archive damaged after {count} member(s) (a damaged header ends the readable part)")


def stream_damage(path: str) -> str | None:
    """For a compressed archive: why its compressed stream is damaged (bad CRC, cut short), else None.

    tarfile reads raw deflate without the gzip trailer, so a flipped byte can decode into wrong content without any
    error; this full pass lets the compression format's own checksum tell damage from a deliberate edit.
    """
    import bz2
    import gzip
    import lzma

    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        return exc.strerror or str(exc)
    opener = gzip.open if head[:2] == b"\x1f\x8b" else lzma.open if head == b"\xfd7zXZ\x00" else bz2.open if head[:3] == b"BZh" else None
    if opener is None:
        return None
    try:
        with opener(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def unsafe_name(name: str) -> str | None:
    """Why a member name must not be unpacked (absolute, `..`, drive letter, NUL), or None if it is safe."""
    if not name or "\x00" in name:
        return "empty or NUL in name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if ".." in norm.split("/"):
        return "path goes up with '..'"
    return None


def clean_name(name: str) -> str:
    """`./a//b/` -> `a/b` (after `unsafe_name` said it is safe)."""
    return posixpath.normpath(name.replace("\\", "/")).lstrip("/")


def link_escapes(member_name: str, target: str) -> bool:
    """Would a link at `member_name` pointing to `target` resolve outside the archive root (lexically)?"""
    if not target or target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        return True
    base = posixpath.dirname(clean_name(member_name))
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    return resolved == ".." or resolved.startswith("../")
