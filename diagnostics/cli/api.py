"""`csdiag api-snapshot`: collect CloudStack's own view (VM, offerings, hosts, capacity, settings, limits, jobs)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import typer
from rich.table import Table

from diagnostics.api.client import ApiClient, tls_context
from diagnostics.api.collect import CollectError, Collector, Target
from diagnostics.api.credentials import CredentialError, load_credentials, redact_url as client_endpoint
from diagnostics.api.snapshot import SnapshotWriteError, write_snapshot
from diagnostics.cli.common import ExitCode, die, stdout_console, warn
from diagnostics.untrusted import for_terminal

DEFAULT_TIMEOUT_S = 30.0


def api_snapshot(
    profile: Optional[str] = typer.Option(None, "--profile", "-p", help="cmk profile (section of ~/.cmk/config). "
                                          "Without it: CLOUDSTACK_KEY and CLOUDSTACK_SECRET, else cmk's default profile."),
    url: Optional[str] = typer.Option(None, "--url", help="API endpoint, overriding the profile's "
                                      "such as https://ms:8443/client/api (never put keys here)."),
    vm: Optional[str] = typer.Option(None, "--vm", help="The VM: name, display name, instance name or UUID."),
    offering: Optional[str] = typer.Option(None, "--offering", help="The requested offering: name or UUID."),
    job: Optional[str] = typer.Option(None, "--job", help="An async job UUID to fetch with queryAsyncJobResult."),
    out: Optional[Path] = typer.Option(None, "--out", help="New folder for the snapshot "
                                       "(default ./csdiag-api-<UTC time>). Never overwritten."),
    config: Optional[Path] = typer.Option(None, "--config", help="cmk config file (default ~/.cmk/config)."),
    ca_file: Optional[Path] = typer.Option(None, "--ca-file", help="PEM CA bundle that signed the server certificate."),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify the TLS certificate (not recommended)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=1.0, max=600.0, help="Seconds allowed per API "
                                            "call, all included (default: cmk's `timeout` setting, else 30)."),
) -> None:
    """Snapshot what CloudStack believes about a VM, its offerings and the hosts, read-only, for `analyze`.

    Exit 0 when every call answered, 3 when credentials, TLS or the network failed (nothing written) or when
    some calls failed (the snapshot is written and marked incomplete).
    """
    try:
        creds = load_credentials(profile, url, config)
    except CredentialError as exc:
        die(str(exc), ExitCode.UNKNOWN)
    if ca_file is not None and not ca_file.is_file():
        die(f"{ca_file}: CA file not found", ExitCode.UNKNOWN)
    try:
        context = tls_context(str(ca_file) if ca_file else None, insecure)
    except (OSError, ValueError) as exc:
        die(f"{ca_file}: not a usable PEM CA bundle ({exc})", ExitCode.UNKNOWN)
    if urlsplit(creds.url).scheme == "http":
        warn(f"{client_endpoint(creds.url)}: plain http: the apiKey and a signature valid for 10 minutes travel "
             "unencrypted and the answers can be altered on the way; use https")
    timeout_s = timeout or creds.config_timeout_s or DEFAULT_TIMEOUT_S
    timeout_from = "--timeout" if timeout else "cmk's timeout setting" if creds.config_timeout_s else "default"
    client = ApiClient(creds, timeout_s=timeout_s, context=context)
    started = datetime.now(timezone.utc)
    target = Target(vm=vm, offering=offering, job=job)
    try:
        collection = Collector(client).collect(target)
    except CollectError as exc:
        hint = ""
        if "credentials rejected" in str(exc):
            hint = (f"; check the apikey/secretkey from {creds.source} and that this machine's clock is within "
                    "10 minutes of the management server's")
        if "TLS certificate" in str(exc) and not creds.config_verifycert:
            hint = " (the cmk profile sets verifycert=false; csdiag verifies unless told --insecure)"
        die(f"{for_terminal(exc)}{hint}; nothing written", ExitCode.UNKNOWN)
    finished = datetime.now(timezone.utc)
    folder = out or Path(f"csdiag-api-{started.strftime('%Y%m%dT%H%M%SZ')}")
    try:
        written = write_snapshot(folder, collection, client.endpoint, creds.source, target, started, finished)
    except SnapshotWriteError as exc:
        die(str(exc), ExitCode.UNKNOWN)

    console = stdout_console()
    table = Table(title=f"API snapshot of {client.endpoint}", show_edge=False)
    for column in ("call", "status", "items", "seconds"):
        table.add_column(column, justify="right" if column in ("items", "seconds") else "left")
    for call in collection.calls:
        items = str(len(call.items)) if call.ok and call.item_key else ("1" if call.ok else "-")
        table.add_row(call.name, "ok" if call.ok else f"failed ({call.error_code or call.http_status or 'n/a'})",
                      items, f"{call.duration_s:.2f}")
    console.print(table)
    console.print(f"deadline per call: {timeout_s:g} s ({timeout_from})", markup=False)
    console.print(f"snapshot written to {written}" + ("" if collection.complete else " (incomplete)"), markup=False)
    if not collection.complete:
        for call in collection.calls:
            if not call.ok:
                warn(for_terminal(call.error))
        for line in collection.warnings:
            warn(for_terminal(line))
        raise typer.Exit(int(ExitCode.UNKNOWN))


def register(app: typer.Typer) -> None:
    """Add `api-snapshot` to the csdiag app."""
    app.command("api-snapshot")(api_snapshot)
