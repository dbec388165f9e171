"""The bundle manifest: what is inside, where it came from, what is missing, and how to check it.

Why a manifest (sos `manifest.json` as the model): a bundle travels between people who never saw the source
systems. The manifest makes it self-describing (tool version, creation time, hosts, options), honest (every file's
truncated flag and reason, every input or probe command that failed) and verifiable (sha256 and size per file).
It is the first member of the archive, so `inspect` reads it without decompressing the rest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from diagnostics.bounded import BoundedValueError, loads_json

FORMAT = "csdiag-bundle"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20


class ManifestError(Exception):
    """The manifest is missing, not JSON, or not a csdiag bundle manifest (one line)."""


@dataclass(slots=True, kw_only=True)
class FileEntry:
    """One member of the bundle. `name` is relative to the bundle's top folder."""

    name: str
    role: str | None
    origin: str
    size: int
    sha256: str
    source_size: int | None = None
    truncated: bool = False
    truncation: list[str] = field(default_factory=list)  # "since", "size-cap"
    lines_dropped: int = 0  # lines left out by the window and the size cap (a size cap alone cuts only the start)
    redactions: int = 0
    redacted: bool = True  # False for binary members (pcaps), which are copied as they are
    note: str | None = None


@dataclass(slots=True, kw_only=True)
class Failure:
    """An input that could not be collected, and why (one line)."""

    origin: str
    error: str


_STR_OR_NULL = {"type": ["string", "null"]}
_COMMAND = {
    "type": "object",
    "required": ["name", "rc", "duration_s"],
    "properties": {"name": _STR_OR_NULL, "command": _STR_OR_NULL, "status": _STR_OR_NULL,
                   "rc": {"type": ["integer", "null"]}, "duration_s": {"type": ["number", "null"]}},
}
# The manifest's contract, for readers in other tools (checked by tests/bundle with jsonschema).
MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "csdiag bundle manifest",
    "type": "object",
    "required": ["format", "format_version", "tool", "created", "hosts", "options", "files", "failures", "excluded",
                 "probes", "reports"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": FORMAT_VERSION},
        "tool": {"type": "object", "required": ["name", "version"]},
        "created": {"type": "string", "format": "date-time"},
        "hosts": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object", "required": ["since", "window_start", "max_file_bytes", "redaction", "pseudonymized"]},
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "role", "origin", "size", "sha256", "truncated", "truncation", "lines_dropped",
                         "redactions", "redacted"],
            "properties": {
                "name": {"type": "string", "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$"},
                "role": _STR_OR_NULL,
                "origin": {"type": "string"},
                "size": {"type": "integer", "minimum": 0},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "source_size": {"type": ["integer", "null"]},
                "truncated": {"type": "boolean"},
                "truncation": {"type": "array", "items": {"enum": ["since", "size-cap"]}},
                "lines_dropped": {"type": "integer", "minimum": 0},
                "redactions": {"type": "integer", "minimum": 0},
                "redacted": {"type": "boolean"},
                "note": _STR_OR_NULL,
            },
        }},
        "failures": {"type": "array", "items": {"type": "object", "required": ["origin", "error"]}},
        "excluded": {"type": "array", "items": {"type": "object", "required": ["origin", "reason"]}},
        "probes": {"type": "array", "items": {
            "type": "object", "required": ["host", "status", "commands"],
            "properties": {"commands": {"type": "array", "items": _COMMAND}},
        }},
        "reports": {"type": "object", "required": ["produced"]},
    },
}


def dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def entry_dict(entry: FileEntry | Failure) -> dict[str, Any]:
    return asdict(entry)


def parse(data: bytes, source: str) -> dict[str, Any]:
    """Bytes -> a checked manifest dict; raises ManifestError naming `source`."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{source}: manifest.json is implausibly large ({len(data)} bytes)")
    try:
        doc = loads_json(data, source=f"{source}: manifest.json", max_bytes=MAX_MANIFEST_BYTES)
    except BoundedValueError as exc:
        raise ManifestError(str(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{source}: manifest.json is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ManifestError(f"{source}: manifest.json is not a csdiag bundle manifest")
    files = doc.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("sha256"), str)
        and isinstance(f.get("size"), int)
        for f in files
    ):
        raise ManifestError(f"{source}: manifest.json has no valid 'files' list")
    return doc
