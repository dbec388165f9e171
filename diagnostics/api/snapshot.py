"""The snapshot folder on disk: one JSON file per call plus `manifest.json`, written all at once or not at all.

Each list answer is stored as CloudStack sent it (`{"listhostsresponse": {"count": N, "host": [...]}}`) but
with one item per line, so a fact can cite `listHosts.json:3` and a reader sees the exact record. The
manifest (shaped like the probe's: format, tool, started/ended, one entry per call with status, duration_s,
bytes, output, note) records the endpoint without credentials, each call's parameters (never apiKey/signature),
its error if any, the sha256 of each file, and whether the snapshot is complete. Writing goes to a hidden sibling folder
that is renamed into place, so a crash or an error leaves no half snapshot behind. The folder stays 0700:
it describes the cloud's inventory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from diagnostics import __version__
from diagnostics.api.collect import CallResult, Collection, Target

MANIFEST = "manifest.json"
FORMAT = "csdiag-api-snapshot"
FORMAT_VERSION = 1


class SnapshotWriteError(Exception):
    """The folder could not be written; one line naming the path."""


def render_call(call: CallResult) -> str:
    """The file text of one call: the CloudStack envelope with one item per line (item i on line i + 2)."""
    envelope = json.dumps(call.command.lower() + "response")
    if call.item_key is None:
        return "{" + envelope + ": " + json.dumps(call.body, sort_keys=True) + "}\n"
    head = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in call.extra.items() if k != call.item_key]
    head.append(json.dumps(call.item_key) + ": [")
    lines = ["{" + envelope + ": {" + ", ".join(head)]
    lines.extend(json.dumps(item, sort_keys=True) + ("," if i < len(call.items) - 1 else "")
                 for i, item in enumerate(call.items))
    lines.append("]}}")
    return "\n".join(lines) + "\n"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def build_manifest(collection: Collection, endpoint: str, source: str, target: Target,
                   started: datetime, finished: datetime, files: dict[str, str]) -> dict[str, Any]:
    """Everything needed to trust or question the snapshot, without a secret in it."""
    calls = []
    for call in collection.calls:
        entry: dict[str, Any] = {
            "name": call.name, "command": call.command, "params": call.params,
            "status": "ok" if call.ok else "error",
            "output": f"{call.name}.json" if call.ok else None,
            "items": len(call.items) if call.ok and call.item_key else None,
            "pages": call.pages, "bytes": call.size, "duration_s": round(call.duration_s, 3),
            "answered_at": _iso(call.answered_at), "http_status": call.http_status,
            "error": call.error, "error_code": call.error_code, "truncated": call.truncated, "note": call.note,
        }
        if call.ok:
            entry["sha256"] = files[call.name]
        calls.append(entry)
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "tool": "csdiag", "tool_version": __version__,
        "endpoint": endpoint, "credentials": source,
        "target": {"vm": target.vm, "offering": target.offering, "job": target.job},
        "vm_uuid": collection.vm.get("id") if collection.vm else None,
        "current_offering_id": collection.current_offering_id,
        "requested_offering_id": collection.requested_offering_id,
        "started": _iso(started), "ended": _iso(finished),
        "complete": collection.complete, "warnings": collection.warnings, "calls": calls,
    }


def write_snapshot(out: Path, collection: Collection, endpoint: str, source: str, target: Target,
                   started: datetime, finished: datetime) -> Path:
    """Write the folder atomically; refuse to replace anything that already exists at `out`."""
    out = out.expanduser()
    if out.exists():
        raise SnapshotWriteError(f"{out}: already exists; choose a new --out folder")
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise SnapshotWriteError(f"{parent}: cannot create the snapshot folder ({exc.strerror or exc})") from None
    try:
        files: dict[str, str] = {}
        for call in collection.calls:
            if call.ok:
                data = render_call(call).encode("utf-8")
                files[call.name] = hashlib.sha256(data).hexdigest()
                _write(tmp / f"{call.name}.json", data)
        manifest = build_manifest(collection, endpoint, source, target, started, finished, files)
        _write(tmp / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SnapshotWriteError(f"{out}: cannot write the snapshot ({exc.strerror or exc})") from None
    return out


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
