"""`csdiag bundle create|verify|inspect` (thin: options, printing, exit codes; the work is in diagnostics.bundle)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from diagnostics.analysis import reports_for
from diagnostics.bounded import parse_number
from diagnostics.bundle import BundleError, BundleOptions, create_bundle
from diagnostics.bundle.archive import ArchiveError
from diagnostics.bundle.manifest import ManifestError
from diagnostics.bundle.verify import read_manifest, verify_bundle
from diagnostics.bundle.window import parse_since
from diagnostics.bundle.layout import is_secret_file
from diagnostics.cli.common import ExitCode, stderr_console, stdout_console, warn
from diagnostics.untrusted import for_terminal

bundle_app = typer.Typer(
    help="Make, check and list support bundles (logs, probe folders, analysis; secrets removed).",
    no_args_is_help=True,
    add_completion=False,
)

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """'64M' -> 67108864; '0' means no cap."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = t[-1:] if t[-1:] in _SIZE_UNITS and not t[-1:].isdigit() else ""
    number = t[: len(t) - len(unit)]
    try:
        value = parse_number(number, what="--max-size", max_digits=15)
    except ValueError:
        raise ValueError(f"--max-size {text[:40]!r}: expected a size like 64M, 512K, 2G or 0") from None
    if value < 0:
        raise ValueError(f"--max-size {text!r} must not be negative")
    return int(value * _SIZE_UNITS[unit])


@bundle_app.command("create", no_args_is_help=True)
def create(
    paths: list[str] = typer.Argument(None, metavar="[PATH...]", help="Log files, log folders, probe folders."),
    out: Path = typer.Option(..., "--out", "-o", help="The bundle to write: NAME.tar.gz, .tgz or .tar.xz."),
    since: str | None = typer.Option(None, "--since", help="Keep log records from this window: 2h, 30m, 1d or 2025-03-10T15:00."),
    max_size: str = typer.Option("64M", "--max-size", help="Per-file cap; the newest part of a larger log is kept (0: no cap)."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Keep secrets (API keys, passwords, private keys). Only for your own use."),
    pseudonymize: bool = typer.Option(False, "--pseudonymize", help="Replace IPs (subnet-preserving), host and account names; the map goes to OUT.private-map.json."),
    hostname: list[str] = typer.Option([], "--hostname", help="A host name to pseudonymise besides the learned ones (repeatable)."),
    account: list[str] = typer.Option([], "--account", help="An account name to pseudonymise besides the learned ones (repeatable)."),
    probe: list[str] = typer.Option([], "--probe", metavar="HOST", help="Also probe this KVM host over SSH now (repeatable; see `csdiag probe`)."),
    ssh_user: str | None = typer.Option(None, "--ssh-user", help="Login user for --probe hosts without user@ (else ~/.ssh/config, csdiag's probe.user, root)."),
    identity: Path | None = typer.Option(None, "--identity", "-i", help="Private key for --probe."),
    known_hosts: Path | None = typer.Option(None, "--known-hosts", help="Host keys to verify --probe hosts against (else csdiag's probe.known_hosts, else ~/.ssh/known_hosts)."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Trust and record unknown host keys of --probe hosts."),
    no_reports: bool = typer.Option(False, "--no-reports", help="Do not run the analysis into reports/."),
    sign: Path | None = typer.Option(None, "--sign", metavar="KEY", help="Sign the manifest with this OpenSSH private key (ssh-keygen -Y sign; a passphrase is asked by ssh-keygen or taken from ssh-agent)."),
) -> int:
    """Collect logs, probe folders and the analysis into one verifiable archive with a manifest.

    Secrets are redacted unless --no-redact. Written atomically: an interrupted run leaves no bundle.
    Exit codes: 0 written and complete (key files left out on purpose while redacting are listed in the manifest),
    3 written but some input could not be collected, or nothing to write.
    """
    try:
        cap = parse_size(max_size)
        window = parse_since(since, datetime.now()) if since else None
    except ValueError as exc:
        warn(str(exc))
        return int(ExitCode.UNKNOWN)
    if not paths and not probe:
        warn("nothing to collect: give log files/folders, probe folders or --probe HOST")
        return int(ExitCode.UNKNOWN)
    probe_options = None
    if probe:
        from diagnostics.probe.defaults import ProbeSettingError, build_probe_options  # here: the probe loads paramiko

        try:  # the same ~/.ssh/config and csdiag probe defaults as `csdiag probe`
            probe_options = build_probe_options(user=ssh_user, identity=identity, known_hosts=known_hosts,
                                                accept_new_host_key=accept_new_host_key)
        except ProbeSettingError as exc:
            warn(str(exc))
            return int(ExitCode.UNKNOWN)
        if window is not None:  # fetch the same window of agent.log from the probed hosts
            probe_options.since_seconds = max(60, int((datetime.now() - window).total_seconds()))
    options = BundleOptions(
        out=out,
        paths=list(paths or []),
        since=window,
        since_text=since,
        max_file_bytes=cap,
        redact=not no_redact,
        pseudonymize=pseudonymize,
        hostnames=list(hostname),
        accounts=list(account),
        probe_hosts=list(probe),
        probe_options=probe_options,
        reports=not no_reports,
        analyse=reports_for,
        sign_key=sign.expanduser() if sign else None,
    )
    err = stderr_console()
    try:
        result = create_bundle(options, progress=lambda m: err.print(f"csdiag: {for_terminal(m)}", markup=False, highlight=False))
    except BundleError as exc:
        for detail in exc.details:
            warn(f"not collected: {for_terminal(detail)}")
        warn(for_terminal(str(exc)))
        return int(ExitCode.UNKNOWN)
    except OSError as exc:
        warn(f"{out}: cannot write the bundle ({exc.strerror or exc})")
        return int(ExitCode.UNKNOWN)
    m = result.manifest
    by_policy = {f["origin"] for f in m["failures"] if options.redact and is_secret_file(f["origin"])}
    for line in result.warnings:
        origin = line.split(": ", 1)[0]
        warn(f"left out on purpose (a secret as a whole): {for_terminal(origin)}" if origin in by_policy else f"not collected: {for_terminal(line)}")
    console = stdout_console()
    truncated = sum(1 for f in m["files"] if f["truncated"])
    redactions = sum(f["redactions"] for f in m["files"])
    reports = "reports included" if m["reports"].get("produced") else f"no reports ({m['reports'].get('reason')})"
    console.print(
        f"wrote {result.path} ({len(m['files'])} files, {truncated} truncated, {len(m['failures']) - len(by_policy)} not collected, "
        + (f"{len(by_policy)} key files left out on purpose, " if by_policy else "")
        + f"{redactions} secrets redacted; {reports})",
        markup=False,
    )
    console.print(f"sha256 {result.sha256}", markup=False)
    if sign is not None:
        console.print(f"signed with {sign} (namespace csdiag-bundle); check with: csdiag bundle verify --key {sign}.pub {result.path}", markup=False)
    if result.map_path is not None:
        console.print(f"pseudonym map (keep private, do not send): {result.map_path}", markup=False)
    # a key file left out while redacting is the designed outcome (listed in the manifest), not a gap in the bundle
    gaps = [f for f in m["failures"] if f["origin"] not in by_policy]
    return int(ExitCode.UNKNOWN if gaps else ExitCode.OK)


@bundle_app.command("verify", no_args_is_help=True)
def verify(
    bundle: str = typer.Argument(..., metavar="FILE", help="A bundle (.tar.gz/.tgz/.tar.xz/.zip) or its unpacked folder."),
    key: Path | None = typer.Option(None, "--key", metavar="PUB", help="The sender's OpenSSH public key: also prove the manifest was signed with it (unmodified since)."),
) -> int:
    """Check every member's sha256 and size against the manifest (and FILE.sha256 when present); with --key, also
    the manifest's signature, which proves nobody edited members and rewrote their hashes.

    Exit codes: 0 intact (and signed by KEY), 2 content or signature differs (modified or tampered), 3 archive damaged,
    unreadable or no bundle.
    """
    result = verify_bundle(bundle, key.expanduser() if key else None)
    console = stdout_console()
    if result.status == "unreadable":
        for problem in result.problems:
            warn(for_terminal(problem))
        return int(ExitCode.UNKNOWN)
    for problem in result.problems:
        console.print(f"MISMATCH {for_terminal(problem)}", markup=False)
    if result.status == "mismatch":
        console.print(f"{for_terminal(bundle)}: {len(result.problems)} problem(s); {result.checked} file(s) match the manifest", markup=False)
        return int(ExitCode.CRITICAL)
    extra = ", archive checksum ok" if result.archive_checksum == "ok" else ""
    if result.signature == "good":
        extra += f", signature good ({for_terminal(result.signature_detail)})"
    elif result.signature == "not checked":
        extra += ", signed (give --key PUB to check the signature)"
    else:
        extra += ", not signed"
    console.print(f"{for_terminal(bundle)}: ok, {result.checked} file(s) match the manifest{extra}", markup=False)
    return int(ExitCode.OK)


@bundle_app.command("inspect", no_args_is_help=True)
def inspect(
    bundle: str = typer.Argument(..., metavar="FILE", help="A bundle (.tar.gz/.tgz/.tar.xz/.zip) or its unpacked folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> int:
    """List what a bundle holds, what was truncated and what failed, from its manifest (no unpacking).

    Exit codes: 0 listed, 3 unreadable or no bundle.
    """
    try:
        m = read_manifest(bundle)
    except (ArchiveError, ManifestError) as exc:
        warn(for_terminal(str(exc)))
        return int(ExitCode.UNKNOWN)
    except OSError as exc:
        warn(f"{for_terminal(bundle)}: {exc.strerror or exc}")
        return int(ExitCode.UNKNOWN)
    console = stdout_console()
    if as_json:  # JSON escapes every control character itself (ensure_ascii)
        console.print(json.dumps(m, indent=2, ensure_ascii=True), markup=False)
        return int(ExitCode.OK)
    for line in inspect_lines(m):
        console.print(for_terminal(line), markup=False)
    return int(ExitCode.OK)


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def inspect_lines(m: dict) -> list[str]:
    """The manifest as plain lines for people (kept here: it is presentation only)."""
    opts = m.get("options", {})
    tool = m.get("tool", {})
    lines = [
        f"csdiag bundle, created {m.get('created')} by csdiag {tool.get('version')}",
        f"hosts: {', '.join(m.get('hosts') or []) or '-'}",
        f"options: since={opts.get('since') or '-'} max_file_bytes={opts.get('max_file_bytes')} "
        f"redaction={'on' if opts.get('redaction') else 'OFF'} pseudonymized={'yes' if opts.get('pseudonymized') else 'no'}",
        f"files ({len(m.get('files', []))}):",
    ]
    for f in m.get("files", []):
        flags = []
        if f.get("truncated"):
            flags.append(f"TRUNCATED by {'+'.join(f.get('truncation') or [])}, {f.get('lines_dropped', 0)} lines left out")
        if f.get("redactions"):
            flags.append(f"{f['redactions']} redacted")
        if f.get("note"):
            flags.append(f["note"])
        lines.append(f"  {f['name']}  [{f.get('role') or 'file'}]  {_size(f.get('size'))}" + (f"  ({'; '.join(flags)})" if flags else ""))
    failures = m.get("failures", [])
    lines.append(f"not collected ({len(failures)}):" if failures else "not collected: none")
    lines.extend(f"  {f.get('origin')}: {f.get('error')}" for f in failures)
    excluded = m.get("excluded", [])
    if excluded:
        lines.append(f"left out on purpose ({len(excluded)}):")
        lines.extend(f"  {ex.get('origin')}: {ex.get('reason')}" for ex in excluded)
    for p in m.get("probes", []):
        cmds = p.get("commands") or []
        bad = [c for c in cmds if c.get("status") not in ("ok", "truncated")]
        lines.append(f"probe {p.get('host')}: {p.get('status')}, {len(cmds)} commands, {len(bad)} failed" + (f" ({p['error']})" if p.get("error") else ""))
        for c in bad:
            lines.append(f"  FAILED {c.get('name')}: {c.get('status')} rc={c.get('rc')} after {c.get('duration_s')} s")
    reports = m.get("reports", {})
    lines.append("reports: " + (", ".join(reports.get("files", [])) if reports.get("produced") else f"none ({reports.get('reason')})"))
    return lines


def register(app: typer.Typer) -> None:
    """Add `csdiag bundle create|verify|inspect` to the app."""
    app.add_typer(bundle_app, name="bundle")
