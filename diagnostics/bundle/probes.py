"""Probe evidence in a bundle: run the SSH probe live, or summarise probe folders given as inputs.

Why a summary in the bundle manifest: the person reading a bundle needs to see at a glance which host commands
failed, timed out or were cut, with their rc and duration, without opening every probe folder's own manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics.bundle.gather import probe_manifest


def run_live_probe(
    hosts: list[str], probe_options: Any, run_dir: Path, probes: list[dict[str, Any]], say: Callable[[str], None]
) -> Path | None:
    """Run the SSH probe (diagnostics.probe) into `run_dir`; its results are appended to `probes`."""
    from diagnostics.probe import ProbeOptions, run_probe

    probe_options = probe_options or ProbeOptions()
    probe_options.out = run_dir
    say(f"probing {len(hosts)} host(s)")
    try:
        results = run_probe(list(hosts), probe_options)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a failed probe must not lose the rest of the bundle
        probes.append({"host": ", ".join(hosts), "status": "error", "error": str(exc), "commands": []})
        return None
    for result in results:
        probes.append(
            {
                "host": result.host,
                "status": result.status,
                "error": result.error,
                "live": True,
                "commands": [command_summary(c.to_json()) for c in result.commands],
            }
        )
    return run_dir if run_dir.is_dir() else None


def command_summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("name", "command", "status", "rc", "duration_s", "truncated", "timed_out")}


def _probe_dirs(folder: Path) -> list[Path]:
    """A probe folder itself (one host) and its host sub-folders (a run)."""
    try:
        return [folder, *sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())]
    except OSError:
        return [folder]


def probe_folder_summaries(folders: list[Path], skip_under: Path) -> list[dict[str, Any]]:
    """Probe folders given as inputs: every command's rc and duration, read from their own manifests."""
    summaries: list[dict[str, Any]] = []
    for folder in folders:
        if skip_under in folder.parents:  # the live probe's folder: already summarised from its results
            continue
        for candidate in _probe_dirs(folder):
            doc = probe_manifest(candidate)
            if doc is None or not isinstance(doc.get("commands"), list):
                continue
            summaries.append(
                {
                    "host": doc.get("host"),
                    "status": doc.get("status"),
                    "error": doc.get("error"),
                    "live": False,
                    "commands": [command_summary(c) for c in doc["commands"] if isinstance(c, dict)],
                }
            )
    return summaries


def probe_hosts(folders: list[Path], probes: list[dict[str, Any]]) -> list[str]:
    """Host names for the manifest: live probes' labels and the hosts named in probe folders' manifests."""
    hosts = {str(p["host"]) for p in probes if p.get("host")}
    for folder in folders:
        for candidate in _probe_dirs(folder):
            doc = probe_manifest(candidate)
            if doc and isinstance(doc.get("host"), str):
                hosts.add(doc["host"])
    return sorted(hosts)
