"""Copy one input into the staging folder: decompress, keep the time window, redact, pseudonymise, cap the size.

Why bytes in, bytes out: logs are not always UTF-8 (a Latin-1 VM name, a binary blob in a trace). Lines are decoded
with `surrogateescape`, so every byte no rule touched comes out exactly as it went in, and line count and order are
kept, so `path:line` in the reports inside the bundle points at the same text.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from diagnostics.bundle.layout import LOG4J_ROLES, is_secret_file
from diagnostics.bundle.pseudonymize import Pseudonymizer
from diagnostics.bundle.redact import Redactor
from diagnostics.bundle.window import WindowFilter, copy_tail
from diagnostics.sources.files import SourceError, open_regular

MAX_LINE = 8 << 20  # longer lines are processed in pieces of this size (line structure is still kept)
SNIFF = 8192
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")


class StageError(Exception):
    """One input could not be staged (one line naming it)."""


@dataclass(slots=True)
class Staged:
    path: Path
    size: int
    sha256: str
    source_size: int
    truncation: list[str] = field(default_factory=list)
    lines_dropped: int = 0
    redactions: int = 0
    text: bool = True


def open_source(path: Path) -> BinaryIO:
    """Open for reading, gunzipping when the content (not the name) is gzip."""
    try:
        f = open_regular(str(path))  # never blocks on a FIFO swapped in after planning
    except SourceError as exc:
        raise StageError(str(exc)) from None
    head = f.read(2)
    f.seek(0)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    return f


def _head(path: Path) -> bytes:
    with open_source(path) as f:
        return f.read(SNIFF)


def is_binary(path: Path) -> bool:
    head = _head(path)
    return head.startswith(PCAP_MAGICS) or b"\x00" in head


def is_capture(path: Path) -> bool:
    return _head(path).startswith(PCAP_MAGICS)


def iter_lines(f: BinaryIO) -> Iterator[bytes]:
    while True:
        line = f.readline(MAX_LINE)
        if not line:
            return
        yield line


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage_file(
    origin: Path,
    target: Path,
    *,
    role: str | None,
    since: datetime | None,
    cap: int,
    redact: bool,
    pseudonymizer: Pseudonymizer | None,
) -> Staged:
    """Stage `origin` at `target`; raises StageError (one line) when the input cannot be read."""
    if redact and is_secret_file(origin.as_posix()):
        raise StageError(f"{origin}: a secret as a whole (key file or key store); left out (use --no-redact to include it)")
    try:
        source_size = origin.stat().st_size
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_binary(origin):
            if redact and not is_capture(origin):
                # A heap dump, core file or archive cannot be redacted line by line: leaving it out is the only
                # way to keep the promise that a redacted bundle holds no secrets.
                raise StageError(f"{origin}: binary file cannot be redacted; left out (use --no-redact to include it)")
            return _stage_binary(origin, target, source_size, cap)
        return _stage_text(origin, target, role, since, cap, redact, pseudonymizer, source_size)
    except StageError:
        raise
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        for leftover in (target, target.with_name(target.name + ".part")):
            leftover.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        raise StageError(f"{origin}: cannot read ({reason})") from None


def _stage_binary(origin: Path, target: Path, source_size: int, cap: int) -> Staged:
    if cap and source_size > cap:
        raise StageError(f"{origin}: binary file of {source_size} bytes exceeds the per-file cap of {cap}; left out")
    shutil.copyfile(origin, target)
    size = target.stat().st_size
    return Staged(target, size, sha256_of(target), source_size, text=False)


def _stage_text(
    origin: Path,
    target: Path,
    role: str | None,
    since: datetime | None,
    cap: int,
    redact: bool,
    pseudonymizer: Pseudonymizer | None,
    source_size: int,
) -> Staged:
    part = target.with_name(target.name + ".part")
    redactor = Redactor()
    window = WindowFilter(since) if since is not None and role in LOG4J_ROLES else None
    with open_source(origin) as src, open(part, "wb") as out:
        lines = iter_lines(src)
        if window is not None:
            lines = window.apply(lines)
        for raw in lines:
            text = raw.decode("utf-8", "surrogateescape")
            if redact:
                text = redactor.line(text)
            if pseudonymizer is not None:
                text = pseudonymizer.line(text)
            out.write(text.encode("utf-8", "surrogateescape"))
    staged = Staged(target, 0, "", source_size, redactions=redactor.count)
    if window is not None and window.dropped_lines:
        staged.truncation.append("since")
        staged.lines_dropped += window.dropped_lines
    size = part.stat().st_size
    if cap and size > cap:
        with open(part, "rb") as src, open(target, "wb") as out:
            cut = copy_tail(src, size, out, cap)
        part.unlink()
        staged.truncation.append("size-cap")
        staged.lines_dropped += cut.lines_dropped
    else:
        os.replace(part, target)
    staged.size = target.stat().st_size
    staged.sha256 = sha256_of(target)
    return staged


def learn_names(origin: Path, pseudonymizer: Pseudonymizer) -> None:
    """First pass for pseudonymisation: collect host and account names from a text input."""
    if is_binary(origin):
        return
    with open_source(origin) as src:
        for raw in iter_lines(src):
            pseudonymizer.learn(raw.decode("utf-8", "surrogateescape"))
