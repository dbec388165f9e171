"""Where bytes come from: plain files, rotated `.gz` files (recognised by magic, not name) and stdin.

Reading is streamed with a cap on line length, so memory stays flat whatever the file (or one line) size.
Every failure becomes a `SourceError` with one line that names the file.
"""

from __future__ import annotations

import gzip
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

try:  # python-isal (ISA-L): ~3-4x faster gunzip than the stdlib's zlib; a third-party extra, the stdlib reads the same files
    from isal import igzip as _fast_gzip
    from isal.isal_zlib import error as _isal_error
except ImportError:
    _fast_gzip, _isal_error = None, None

GzipFile = _fast_gzip.IGzipFile if _fast_gzip is not None else gzip.GzipFile
# What reading a (possibly damaged) compressed stream may raise, whichever gzip reads it: caught per input, one line.
READ_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error) + ((_isal_error,) if _isal_error else ())

MAX_LINE = 1 << 20  # longer lines are cut here (the rest is skipped and counted)
SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class SourceError(Exception):
    """A one-line, user-facing problem with one input."""


@dataclass(slots=True)
class ReadStats:
    """What reading one input saw besides its lines."""

    bytes_read: int = 0
    lines: int = 0
    truncated_lines: int = 0
    decode_errors: int = 0
    compressed: bool = False
    errors: list[str] = field(default_factory=list)


_SPECIAL = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
            (stat.S_ISBLK, "block device"))


def special_kind(path: str) -> str | None:
    """What a non-regular, non-folder file is ("named pipe (FIFO)", "socket", ...), by stat alone (never blocks)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, kind in _SPECIAL:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "special file"


def open_regular(path: str) -> BinaryIO:
    """Open a regular file for reading, refusing FIFOs, sockets and devices without blocking on them.

    Why O_NONBLOCK and fstat: opening a FIFO for reading blocks until a writer appears (forever, in an analysed
    folder), and a check before `open` could race with the file being swapped; the opened descriptor is checked.
    Raises SourceError (one line) for anything but a regular file, OSError for the usual reasons.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _SPECIAL if test(mode)), "directory" if stat.S_ISDIR(mode) else "special file")
            raise SourceError(f"{path}: {kind}, not a regular file; skipped (only regular files are read)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def open_binary(path: str) -> tuple[BinaryIO, bool]:
    """Open `path` ('-' = stdin) for binary reading, transparently gunzipping; returns (stream, compressed)."""
    name = display_name(path)
    try:
        if path == "-":
            raw: BinaryIO = sys.stdin.buffer
            peek = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        else:
            if os.path.isdir(path):
                raise SourceError(f"{name}: is a directory")
            raw = open_regular(path)
            peek = raw.read(2)
            raw.seek(0)
    except SourceError:
        raise
    except PermissionError:
        raise SourceError(f"{name}: permission denied") from None
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{name}: cannot open ({exc.strerror or exc})") from None
    if peek == GZIP_MAGIC:
        return GzipFile(fileobj=raw, mode="rb"), True  # type: ignore[return-value]
    return raw, False


def _read_error(name: str, exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return f"{name}: truncated gzip stream (compressed file ended early); lines before the cut were read"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)) or _isal_error is not None and isinstance(exc, _isal_error):
        return f"{name}: corrupt gzip data ({exc}); lines before the damage were read"
    if isinstance(exc, OSError):
        return f"{name}: read error ({exc.strerror or exc}); lines before it were read"
    return f"{name}: read error ({exc})"


def iter_binary_lines(path: str, stats: ReadStats, max_line: int = MAX_LINE, stream: BinaryIO | None = None) -> Iterator[bytes]:
    """Yield raw lines (with their newline), cutting any line longer than `max_line`. `stream`: read this already
    opened (buffered) stream of `path` instead of opening it; it is closed at the end like an own one."""
    name = display_name(path)
    if stream is None:
        stream, stats.compressed = open_binary(path)
    try:
        readline = stream.readline
        while True:
            try:
                line = readline(max_line)
            except READ_ERRORS as exc:
                stats.errors.append(_read_error(name, exc))
                return
            if not line:
                return
            stats.bytes_read += len(line)
            stats.lines += 1
            if len(line) == max_line and not line.endswith(b"\n"):
                stats.truncated_lines += 1
                try:
                    while True:  # drop the rest of the over-long line without holding it
                        rest = readline(max_line)
                        stats.bytes_read += len(rest)
                        if not rest or rest.endswith(b"\n"):
                            break
                except READ_ERRORS as exc:
                    stats.errors.append(_read_error(name, exc))
                    yield line + b"\n"
                    return
                line += b"\n"
            yield line
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def iter_text_lines(path: str, stats: ReadStats, stream: BinaryIO | None = None) -> Iterator[str]:
    """Decoded lines without newline; invalid UTF-8 is replaced (and counted), never fatal."""
    for raw in iter_binary_lines(path, stats, stream=stream):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            stats.decode_errors += 1
            text = raw.decode("utf-8", "replace")
        yield text.rstrip("\r\n")


def sniff(path: str, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` (decompressed) bytes of a file, for content detection. Raises SourceError."""
    stream, _ = open_binary(path)
    try:
        return stream.read(size)
    except READ_ERRORS as exc:
        raise SourceError(_read_error(display_name(path), exc)) from None
    finally:
        stream.close()


def looks_binary(head: bytes) -> bool:
    """NUL bytes or mostly non-text: not a log, not command output."""
    if not head:
        return False
    if b"\x00" in head[:8192]:
        return True
    sample = head[:8192]
    text_like = sum(1 for b in sample if b in b"\t\n\r" or 32 <= b < 127 or b >= 0x80)
    return text_like < len(sample) * 0.85
