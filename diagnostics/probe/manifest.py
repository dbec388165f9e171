"""What a probe leaves behind and how others read it back.

Layout: OUT/manifest.json lists the hosts; OUT/<host>/manifest.json lists every command (line, rc, timing,
bytes, truncation, stderr excerpt, output file) plus the host key and the clock offset, like sos's manifest.
`read_probe_folder` is what analyze and bundle use to find evidence files by command name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from diagnostics import __version__
from diagnostics.probe.clock import ClockOffset

MANIFEST = "manifest.json"
FORMAT = "csdiag-probe/1"
STDERR_EXCERPT_CHARS = 2000

HOST_STATUSES = ("ok", "partial", "unreachable", "refused", "error", "cancelled")


def iso_utc(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def epoch_of(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(slots=True, kw_only=True)
class CommandResult:
    """One command's outcome. status: ok, failed, timed_out, truncated (ok but cut at the byte cap), error."""

    name: str
    command: str
    status: str
    rc: int | None
    duration_s: float
    bytes: int
    truncated: bool
    timed_out: bool
    started_at: float
    ended_at: float
    stderr_excerpt: str = ""
    output: str | None = None
    sudo: bool = False
    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "truncated")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "command": self.command,
            "status": self.status,
            "rc": self.rc,
            "duration_s": round(self.duration_s, 6),
            "bytes": self.bytes,
            "truncated": self.truncated,
            "timed_out": self.timed_out,
            "start": iso_utc(self.started_at),
            "end": iso_utc(self.ended_at),
            "stderr_excerpt": self.stderr_excerpt,
            "output": self.output,
            "sudo": self.sudo,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, doc: dict) -> "CommandResult":
        return cls(
            name=str(doc["name"]),
            command=str(doc.get("command", "")),
            status=str(doc.get("status", "error")),
            rc=doc.get("rc"),
            duration_s=float(doc.get("duration_s") or 0.0),
            bytes=int(doc.get("bytes") or 0),
            truncated=bool(doc.get("truncated")),
            timed_out=bool(doc.get("timed_out")),
            started_at=epoch_of(doc.get("start")) or 0.0,
            ended_at=epoch_of(doc.get("end")) or 0.0,
            stderr_excerpt=str(doc.get("stderr_excerpt") or ""),
            output=doc.get("output"),
            sudo=bool(doc.get("sudo")),
            note=doc.get("note"),
        )


@dataclass(slots=True, kw_only=True)
class HostResult:
    """One host's outcome. status: ok (every command ok), partial, unreachable, refused, error, cancelled."""

    host: str
    address: str
    port: int
    user: str
    folder: Path
    status: str
    error: str | None = None
    host_key_type: str | None = None
    host_key_fingerprint: str | None = None
    accepted_new_host_key: bool = False
    started_at: float = 0.0
    ended_at: float = 0.0
    clock: ClockOffset | None = None
    remote_uid: int | None = None
    sudo_available: bool | None = None
    sudo_note: str | None = None
    since_seconds: int | None = None
    commands: list[CommandResult] = field(default_factory=list)
    cleanup_note: str | None = None  # what the final sweep of remote processes found (None: nothing was left)

    @property
    def failed_commands(self) -> list[CommandResult]:
        return [command for command in self.commands if command.failed]

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "tool": "csdiag",
            "tool_version": __version__,
            "host": self.host,
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "status": self.status,
            "error": self.error,
            "host_key": {"type": self.host_key_type, "fingerprint": self.host_key_fingerprint, "accepted_new": self.accepted_new_host_key},
            "started": iso_utc(self.started_at),
            "ended": iso_utc(self.ended_at),
            "clock": None if self.clock is None else {"offset_s": self.clock.offset_s, "uncertainty_s": self.clock.uncertainty_s},
            "remote_uid": self.remote_uid,
            "sudo": {"available": self.sudo_available, "note": self.sudo_note},
            "since_seconds": self.since_seconds,
            "commands": [command.to_json() for command in self.commands],
            "cleanup": self.cleanup_note,
        }


def run_manifest(results: list[HostResult], started_at: float, ended_at: float, settings: dict | None = None) -> dict:
    """The run's index: settings (never a password) and one line per host with its folder and status."""
    return {
        "format": FORMAT,
        "tool": "csdiag",
        "tool_version": __version__,
        "started": iso_utc(started_at),
        "ended": iso_utc(ended_at),
        "settings": settings or {},
        "hosts": [
            {
                "host": result.host,
                "folder": result.folder.name,
                "status": result.status,
                "error": result.error,
                "commands": len(result.commands),
                "failed_commands": [command.name for command in result.failed_commands],
            }
            for result in results
        ],
    }


@dataclass(slots=True, kw_only=True)
class ProbeFolder:
    """A probe host folder as analyze sees it: which evidence file holds which command's output."""

    path: Path
    host: str
    status: str
    started_at: float | None
    ended_at: float | None
    clock_offset_s: float | None
    clock_uncertainty_s: float | None
    files: dict[str, Path]
    commands: dict[str, CommandResult]


def read_probe_folder(path: str | Path) -> ProbeFolder | None:
    """Read OUT/<host>/manifest.json; None when `path` is not a readable probe host folder.

    `files` holds only outputs that exist and belong to the folder (a manifest cannot point outside it).
    """
    folder = Path(path)
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "host" not in doc or not isinstance(doc.get("commands"), list):
        return None
    commands: dict[str, CommandResult] = {}
    files: dict[str, Path] = {}
    for entry in doc["commands"]:
        try:
            command = CommandResult.from_json(entry)
        except (KeyError, TypeError, ValueError):
            continue
        commands[command.name] = command
        if command.output and "/" not in command.output and command.output not in (".", ".."):
            candidate = folder / command.output
            if candidate.is_file():
                files[command.name] = candidate
    clock = doc.get("clock") if isinstance(doc.get("clock"), dict) else {}
    return ProbeFolder(
        path=folder,
        host=str(doc["host"]),
        status=str(doc.get("status", "")),
        started_at=epoch_of(doc.get("started")),
        ended_at=epoch_of(doc.get("ended")),
        clock_offset_s=_float_or_none(clock.get("offset_s")),
        clock_uncertainty_s=_float_or_none(clock.get("uncertainty_s")),
        files=files,
        commands=commands,
    )


def read_probe_run(path: str | Path) -> list[ProbeFolder]:
    """Every host folder of a probe run (OUT/), in the order of its top-level manifest."""
    root = Path(path)
    try:
        doc = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        names = [str(entry["folder"]) for entry in doc["hosts"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return []
    folders = (read_probe_folder(root / name) for name in names if "/" not in name and name not in (".", ".."))
    return [folder for folder in folders if folder is not None]


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
