"""Write-then-rename files: a reader (or an interrupted run) never sees a half-written output file."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary stream whose bytes appear at `path` only if the block finishes without error.

    The temp file sits in the same folder (rename is atomic only within one file system) and is removed
    on any exception, KeyboardInterrupt included.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def write_json_atomic(path: Path, document: object) -> None:
    with atomic_file(path) as stream:
        stream.write(json.dumps(document, indent=2, sort_keys=False).encode("utf-8") + b"\n")
