"""Writing the archive and the files beside it; every write is to a new file, renamed only when complete.

Why normalised tar headers: owner names, uids and modes of the collecting machine say nothing about the incident
and may identify people, so every member is root-owned, 0644, with the creation time as mtime.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics.bundle.manifest import MANIFEST_NAME, dump
from diagnostics.bundle.sign import SIG_NAME


def _tarinfo(name: str, size: int, mtime: float, is_dir: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if is_dir else size
    info.mtime = int(mtime)
    info.mode = 0o755 if is_dir else 0o644
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_archive(tmp: Path, mode: str, tree: Path, top: str, manifest: dict[str, Any], sign: Callable[[bytes], bytes] | None = None) -> None:
    """Write the whole archive to `tmp` (created here, exclusively) and flush it to disk; the caller renames it.

    With `sign`, its signature of the exact manifest bytes follows the manifest as manifest.json.sig.
    """
    now = time.time()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        kwargs: dict[str, Any] = {"compresslevel": 6} if mode == "w:gz" else {}
        with tarfile.open(fileobj=raw, mode=mode, **kwargs) as tf:  # type: ignore[call-overload]
            tf.addfile(_tarinfo(top, 0, now, is_dir=True))
            data = dump(manifest)
            tf.addfile(_tarinfo(f"{top}/{MANIFEST_NAME}", len(data), now), io.BytesIO(data))
            if sign is not None:
                signature = sign(data)
                tf.addfile(_tarinfo(f"{top}/{SIG_NAME}", len(signature), now), io.BytesIO(signature))
            for name in sorted((e["name"] for e in manifest["files"]), key=lambda n: (not n.startswith("reports/"), n)):
                path = tree / name
                with open(path, "rb") as f:
                    tf.addfile(_tarinfo(f"{top}/{name}", path.stat().st_size, now), f)
        raw.flush()
        os.fsync(raw.fileno())


def write_private(path: Path, text: str, mode: int) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
