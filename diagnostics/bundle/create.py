"""`csdiag bundle create`: inputs -> staged, redacted copies -> one tar.gz with manifest.json first.

Why atomic: the archive is written to a hidden temporary file beside the output and renamed only when complete and
flushed, so an interrupted run (Ctrl-C, full disk, crash) never leaves a half bundle under the chosen name. Inputs
are only ever opened for reading. The pseudonym map goes to `<out>.private-map.json` (mode 0600), never inside.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from diagnostics import __version__
from diagnostics.bundle.archive import archive_format
from diagnostics.bundle.evidence import EvidenceError, open_evidence
from diagnostics.bundle.gather import Plan, plan_inputs
from diagnostics.bundle.manifest import FORMAT, FORMAT_VERSION, Failure, FileEntry, entry_dict
from diagnostics.bundle.probes import probe_folder_summaries, probe_hosts, run_live_probe
from diagnostics.bundle.pseudonymize import Pseudonymizer
from diagnostics.bundle.reports import Analyse, bundle_reports
from diagnostics.bundle.sign import SignError, sign_manifest
from diagnostics.bundle.stage import StageError, learn_names, sha256_of, stage_file
from diagnostics.bundle.window import rotated_before
from diagnostics.bundle.write import write_archive, write_private

OUT_SUFFIXES = {".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.xz": "w:xz"}
DEFAULT_MAX_FILE_BYTES = 64 << 20
Progress = Callable[[str], None]
BIG_FILE = 8 << 20


class BundleError(Exception):
    """The bundle could not be written at all (one line); `details` are the per-input reasons, one line each."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


@dataclass(slots=True, kw_only=True)
class BundleOptions:
    out: Path
    paths: list[str] = field(default_factory=list)
    since: datetime | None = None
    since_text: str | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # 0 = no cap
    redact: bool = True
    pseudonymize: bool = False
    hostnames: list[str] = field(default_factory=list)  # extra names to pseudonymise
    accounts: list[str] = field(default_factory=list)
    probe_hosts: list[str] = field(default_factory=list)
    probe_options: Any = None  # diagnostics.probe.ProbeOptions when probe_hosts is set
    reports: bool = True
    analyse: Analyse | None = None  # the analysis written to reports/ (the CLI passes diagnostics.analysis.reports_for)
    now: datetime | None = None
    sign_key: Path | None = None  # an OpenSSH private key (or its .pub with the key in ssh-agent): sign the manifest


@dataclass(slots=True)
class BundleResult:
    path: Path
    sha256: str
    manifest: dict[str, Any]
    map_path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.manifest["failures"]


def _mode_for(out: Path) -> str:
    for suffix, mode in OUT_SUFFIXES.items():
        if out.name.endswith(suffix):
            return mode
    raise BundleError(f"{out}: the bundle name must end with .tar.gz, .tgz or .tar.xz")


def map_path_for(out: Path) -> Path:
    return out.with_name(out.name + ".private-map.json")


def create_bundle(options: BundleOptions, progress: Progress | None = None) -> BundleResult:
    """Write the bundle; raises BundleError when nothing could be written. Per-input problems go to the manifest."""
    out = options.out
    mode = _mode_for(out)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BundleError(f"{out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise BundleError(f"{out}: folder {parent} is not writable")
    now = options.now or datetime.now(timezone.utc)
    top = "csdiag-bundle-" + now.strftime("%Y%m%dT%H%M%SZ")
    say = progress or (lambda _m: None)
    staging = Path(tempfile.mkdtemp(prefix=".csdiag-bundle-", dir=parent))
    tmp_out: Path | None = None
    stack = contextlib.ExitStack()
    try:
        tree = staging / top
        tree.mkdir()
        paths = list(options.paths)
        probes: list[dict[str, Any]] = []
        if options.probe_hosts:
            run_dir = run_live_probe(options.probe_hosts, options.probe_options, staging / "probe-run", probes, say)
            if run_dir is not None:
                paths.append(str(run_dir))
        own = [out, out.with_name(out.name + ".sha256"), map_path_for(out), staging]
        unpacked, unpack_failures = _unpack_archive_inputs(paths, staging / "unpacked", stack, say)
        plan = plan_inputs(paths, exclude=own, unpacked=unpacked)
        plan.failures.extend(unpack_failures)
        pseudo = _prepare_pseudonymizer(options, plan, say) if options.pseudonymize else None
        entries, failures, excluded = _stage_all(options, plan, tree, pseudo, say)
        failures.extend(
            Failure(origin=f"probe {p['host']}", error=f"{p['status']}: {p.get('error') or 'no evidence collected'}")
            for p in probes
            if p.get("status") not in ("ok", "partial")
        )
        if not entries and not any(p.get("commands") for p in probes):
            # An empty bundle would only look like evidence: refuse, and write nothing.
            raise BundleError(
                f"{out}: nothing could be collected; no bundle written",
                [f.error if f.error.startswith(f.origin) else f"{f.origin}: {f.error}" for f in failures]
                + [f"{e['origin']}: {e['reason']}" for e in excluded],
            )
        hosts = probe_hosts(plan.probe_folders, probes)
        probes.extend(probe_folder_summaries(plan.probe_folders, skip_under=staging))
        if pseudo is not None:
            hosts = sorted({pseudo.path_part(h) for h in hosts})
            _hide_in_place(pseudo, probes, failures)
        reports = bundle_reports(options.reports, options.analyse, options.redact, tree, top, [e.name for e in entries], pseudo, say)
        for name in reports.get("files", []):
            path = tree / name
            entries.append(FileEntry(name=name, role="report", origin="csdiag analysis", size=path.stat().st_size,
                                     sha256=sha256_of(path), redacted=options.redact))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool": {"name": "csdiag", "version": __version__},
            "created": now.isoformat().replace("+00:00", "Z"),
            "hosts": hosts,
            "options": {
                "since": options.since_text,
                "window_start": options.since.isoformat() if options.since else None,
                "max_file_bytes": options.max_file_bytes,
                "redaction": options.redact,
                "pseudonymized": options.pseudonymize,
            },
            "files": [entry_dict(e) for e in entries],
            "failures": [entry_dict(f) for f in failures],
            "excluded": excluded,
            "probes": probes,
            "reports": reports,
            "notes": [pseudo.line(n) if pseudo else n for n in plan.notes[:200]],
        }
        say(f"collected {len(entries)} file(s); writing archive")
        # The name is fixed before the file exists, so `finally` removes it whenever an interrupt lands.
        tmp_out = parent / f".{out.name}.{os.urandom(6).hex()}.tmp"
        signer = None
        if options.sign_key is not None:
            key = options.sign_key
            signer = lambda data: sign_manifest(data, key)  # noqa: E731
        try:
            write_archive(tmp_out, mode, tree, top, manifest, signer)
        except SignError as exc:
            raise BundleError(f"{out}: not written, the manifest could not be signed: {exc}") from None
        digest = sha256_of(tmp_out)
        map_path = None
        if pseudo is not None:  # before the rename: a pseudonymised bundle never exists without its map
            map_path = map_path_for(out)
            write_private(map_path, json.dumps(pseudo.mapping(), indent=2) + "\n", 0o600)
        os.replace(tmp_out, out)
        tmp_out = None
        write_private(out.with_name(out.name + ".sha256"), f"{digest}  {out.name}\n", 0o644)
        warnings = [f"{f.origin}: {f.error}" if not f.error.startswith(f.origin) else f.error for f in failures]
        return BundleResult(out, digest, manifest, map_path, warnings)
    finally:
        stack.close()
        if tmp_out is not None:
            tmp_out.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)


def _hide(pseudo: Pseudonymizer, text: str) -> str:
    return "/".join(pseudo.path_part(part) for part in pseudo.line(text).split("/"))


def _hide_in_place(pseudo: Pseudonymizer, probes: list[dict[str, Any]], failures: list[Failure]) -> None:
    """Origins, errors and probe records name hosts and addresses too: they get the same stand-ins as the files."""
    for probe in probes:
        for key in ("host", "error"):
            if isinstance(probe.get(key), str):
                probe[key] = _hide(pseudo, probe[key])
        for command in probe.get("commands", []):
            if isinstance(command.get("command"), str):
                command["command"] = pseudo.line(command["command"])
    for failure in failures:
        failure.origin, failure.error = _hide(pseudo, failure.origin), _hide(pseudo, failure.error)


def _unpack_archive_inputs(
    paths: list[str], workdir: Path, stack: contextlib.ExitStack, say: Progress
) -> tuple[dict[str, tuple[str, Path]], list[tuple[str, str]]]:
    """Archives given as inputs (a sosreport tarball, an older bundle) are unpacked safely and redacted like folders.

    Copying them as they are would carry their secrets into the bundle unredacted.
    """
    unpacked: dict[str, tuple[str, Path]] = {}
    failures: list[tuple[str, str]] = []
    for raw in paths:
        if not os.path.isfile(raw) or archive_format(raw) is None:
            continue
        workdir.mkdir(exist_ok=True)
        say(f"unpacking {raw}")
        try:
            tree = stack.enter_context(open_evidence(raw, workdir=str(workdir)))
        except EvidenceError as exc:
            failures.append((raw, str(exc)))
            continue
        failures.extend((raw, error) for error in tree.errors)
        name = Path(raw).name
        for suffix in (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar", ".zip"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
                break
        unpacked[raw] = (name or "archive", tree.root)
    return unpacked, failures


def _prepare_pseudonymizer(options: BundleOptions, plan: Plan, say: Progress) -> Pseudonymizer:
    pseudo = Pseudonymizer()
    for name in [*options.hostnames, *options.probe_hosts]:
        pseudo.add_host(name.split("@")[-1].split(":")[0])
    for name in options.accounts:
        pseudo.add_account(name)
    say(f"learning host and account names from {len(plan.files)} file(s) for pseudonymisation")
    for planned in plan.files:
        try:
            learn_names(planned.origin, pseudo)
        except (OSError, EOFError, ValueError):
            continue  # the staging pass reports the unreadable file
    return pseudo


def _stage_all(
    options: BundleOptions, plan: Plan, tree: Path, pseudo: Pseudonymizer | None, say: Progress
) -> tuple[list[FileEntry], list[Failure], list[dict[str, str]]]:
    entries: list[FileEntry] = []
    failures = [Failure(origin=o, error=e) for o, e in plan.failures]  # pseudonymised later with the others
    excluded: list[dict[str, str]] = []
    for planned in plan.files:
        origin = planned.shown_as or str(planned.origin)
        arcname = planned.arcname
        if pseudo is not None:
            arcname = "/".join(pseudo.path_part(part) for part in arcname.split("/"))
            origin = "/".join(pseudo.path_part(part) for part in origin.split("/"))
        if options.since is not None and planned.role in ("management-log", "api-log", "agent-log") and rotated_before(
            planned.origin.name, options.since
        ):
            excluded.append({"origin": origin, "reason": "rotated before the --since window"})
            continue
        if _size_of(planned.origin) >= BIG_FILE:  # only big files get a progress line, not every small one
            say(f"collecting {planned.origin}")
        try:
            staged = stage_file(
                planned.origin,
                tree / arcname,
                role=planned.role,
                since=options.since,
                cap=options.max_file_bytes,
                redact=options.redact,
                pseudonymizer=pseudo,
            )
        except StageError as exc:
            failures.append(Failure(origin=planned.shown_as or str(planned.origin), error=str(exc)))
            continue
        if staged.size == 0 and "since" in staged.truncation:
            staged.path.unlink()
            excluded.append({"origin": origin, "reason": "no records inside the --since window"})
            continue
        entries.append(
            FileEntry(
                name=arcname,
                role=planned.role,
                origin=origin,
                size=staged.size,
                sha256=staged.sha256,
                source_size=staged.source_size,
                truncated=bool(staged.truncation),
                truncation=staged.truncation,
                lines_dropped=staged.lines_dropped,
                redactions=staged.redactions,
                redacted=options.redact and staged.text,
                note=None if staged.text else "binary: copied as is (not redacted)",
            )
        )
    return entries, failures, excluded


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
