"""Paths given on the command line -> typed inputs, recognised by content rather than by file name.

A directory is walked at any depth (management-server.log*, agent.log*, host evidence, captures, probe folders,
API snapshots, sosreports); files inside a walked directory that are not recognised are listed as skipped, while a
file named explicitly that is not recognised is an error (the operator expected it to count).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from diagnostics.api import is_snapshot_folder, looks_like_api_text
from diagnostics.catalogue import load_catalogue
from diagnostics.host.detect import detect_kind
from diagnostics.host.hostname import host_from_path
from diagnostics.logs.paste import Material, scan_material
from diagnostics.logs.quoted import known_message
from diagnostics.sources.files import SNIFF_BYTES, SourceError, looks_binary, sniff, special_kind

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")
SKIP_DIRS = {".git", "__pycache__", "_generator", ".pytest_cache"}
SKIP_NAMES = {"expected.json", "README.md", "record.py"}
_LOG_NAME_RE = re.compile(r"^(management-server|agent|apilog|cloud|security_group|setupSystemVm)\.(log|out)(\.|$)|\.log(\.\d+)?(\.gz)?$")


@dataclass(slots=True)
class Input:
    path: str
    kind: str  # log | host | capture | probe | api (snapshot folder) | api_text (pasted answers, cmk output) | skipped
    host: str | None = None
    detail: str | None = None  # host evidence kind, why skipped, ...
    origin: str | None = None  # the bundle/sosreport it came from
    display: object = None  # how to name its files to people (a bundle member, not the temp folder)
    head: list[str] = field(default_factory=list)  # first lines, sniffed once here and reused downstream


@dataclass(slots=True)
class Discovery:
    inputs: list[Input] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _quotes_cloudstack(lines: list[str]) -> bool:
    """Text that quotes a CloudStack failure or benign message without its log header (a ticket, a mail, prose):
    the message catalogue or a rule knows the words (logs/quoted.py), so it is log input, not an unknown format."""
    catalogue = load_catalogue()
    return any(known_message(line, catalogue) for line in lines[:400])


def _material(lines: list[str]) -> Material:
    """Log material in the first lines, wherever it sits (pastes: quotes, fences, prefixes, prose around it)."""
    return scan_material(lines[:400])


def classify_file(path: str) -> tuple[str, str | None]:
    """(kind, detail) of one file by its first 64 KiB. Raises SourceError for unreadable files."""
    kind, detail, _lines = classify_head(sniff(path))
    return kind, detail


def classify_head(head: bytes) -> tuple[str, str | None, list[str]]:
    """(kind, detail, first lines) of content by its first bytes."""
    kind, detail = _classify(head)
    lines = head.decode("utf-8", "replace").splitlines() if kind == "log" else []
    if len(head) >= SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut by the sniff
    return kind, detail, lines


def _classify(head: bytes) -> tuple[str, str | None]:
    if not head:
        return "empty", "empty file"
    if head[:4] in PCAP_MAGICS:
        return "capture", None
    if looks_binary(head):
        return "unknown", "binary data, not a log or command output"
    text = head.decode("utf-8", "replace")
    lines = text.splitlines()
    material = _material(lines)
    if material.records or material.syslog_records:
        return "log", None
    kind = detect_kind(text)
    if kind:
        return "host", kind
    if looks_like_api_text(text):
        return "api_text", "CloudStack API answers (JSON or cmk output)"
    # "unknown" only when nothing is a log record, a trace or known host output: a header-less stack trace, a
    # journald excerpt without CloudStack lines or records pasted without their time are still log input
    if material.any:
        return "log", None
    return "unknown", "no CloudStack log records, stack traces, journald lines, API answers or known command output in the first 64 KiB"


def _special_dir(path: str) -> str | None:
    """A folder read as a whole: a probe host folder or an API snapshot."""
    manifest = os.path.join(path, "manifest.json")
    if not os.path.isfile(manifest):
        return None
    if is_snapshot_folder(path):
        return "api"
    from diagnostics.probe import read_probe_folder  # here, not at the top: the probe package loads paramiko

    if read_probe_folder(path) is not None:
        return "probe"
    return None


def discover(paths: list[str], host_evidence: dict[str, str] | None = None, explicit: bool = True) -> Discovery:
    """Expand and classify every path; never raises for a bad input (errors are collected)."""
    found = Discovery()
    for host, hpath in (host_evidence or {}).items():
        if os.path.isdir(hpath):
            before = len(found.inputs)
            _walk(found, hpath)
            for item in found.inputs[before:]:
                item.host = host  # the operator said whose evidence this folder is
        else:
            _add_file(found, hpath, explicit=True, host=host)
    for path in paths:
        if path == "-":
            found.inputs.append(Input("-", "log"))
            continue
        if os.path.isdir(path):
            special = _special_dir(path)
            if special:
                found.inputs.append(Input(path, special))
                continue
            before = len(found.inputs)
            _walk(found, path)
            if not any(i.kind not in ("skipped",) for i in found.inputs[before:]):
                found.errors.append(f"{path}: no CloudStack logs, host evidence or captures found in this directory")
            continue
        if not os.path.exists(path):
            found.errors.append(f"{path}: no such file or directory")
            continue
        _add_file(found, path, explicit=explicit)
    return found


def _walk(found: Discovery, top: str) -> None:
    for root, dirs, files in os.walk(top, onerror=lambda e: found.errors.append(f"{e.filename}: cannot list ({e.strerror})")):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        special_here = [d for d in dirs if _special_dir(os.path.join(root, d))]
        for d in special_here:
            found.inputs.append(Input(os.path.join(root, d), _special_dir(os.path.join(root, d)) or "probe"))
        dirs[:] = [d for d in dirs if d not in special_here]
        for name in sorted(files):
            if name in SKIP_NAMES or name.startswith("."):
                continue
            full = os.path.join(root, name)
            if os.path.islink(full) and not os.path.realpath(full).startswith(os.path.realpath(top) + os.sep):
                found.inputs.append(Input(full, "skipped", detail="symbolic link out of the tree"))
                continue
            _add_file(found, full, explicit=False)


def _add_file(found: Discovery, path: str, explicit: bool, host: str | None = None) -> None:
    special = special_kind(path)  # a FIFO would block the first read forever: decided by stat, never opened
    if special is not None:
        line = f"{path}: {special}, not a regular file; skipped (only regular files are read)"
        # Like an unknown format: an error when the operator named it or it is named like a log, else a note.
        (found.errors if explicit or _LOG_NAME_RE.search(os.path.basename(path)) else found.notes).append(line)
        found.inputs.append(Input(path, "skipped", detail=special))
        return
    try:
        head = sniff(path)
        kind, detail, lines = classify_head(head)
    except SourceError as exc:
        found.errors.append(str(exc))
        return
    named = explicit or _LOG_NAME_RE.search(os.path.basename(path))
    if kind == "unknown" and named and not looks_binary(head):
        text = head.decode("utf-8", "replace").splitlines()
        if _quotes_cloudstack(text):  # only for files the operator named: a bundle's own reports quote messages too
            kind, detail, lines = "log", None, text[:-1] if len(head) >= SNIFF_BYTES else text
    if kind == "empty":
        if explicit or _LOG_NAME_RE.search(os.path.basename(path)):
            found.errors.append(f"{path}: empty file")
        found.inputs.append(Input(path, "skipped", detail="empty"))
        return
    if kind == "unknown":
        if explicit or _LOG_NAME_RE.search(os.path.basename(path)):
            found.errors.append(f"{path}: unknown format ({detail})")
        found.inputs.append(Input(path, "skipped", detail=detail))
        return
    if kind in ("host", "capture") and host is None:
        host = host_from_path(path)
    found.inputs.append(Input(path, kind, host=host, detail=detail, head=lines))
