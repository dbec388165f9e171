"""Probing many hosts in parallel: one worker per host, one folder per host, one manifest for the run."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from diagnostics.probe.atomic_files import write_json_atomic
from diagnostics.probe.collect import Progress, collect_host, specs_for
from diagnostics.probe.manifest import MANIFEST, HostResult, run_manifest
from diagnostics.probe.options import ProbeOptions, Target
from diagnostics.probe.ssh_config import load_ssh_config, resolve_target

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_out_dir(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return Path(f"csdiag-probe-{stamp}")


def folder_names(targets: list[Target]) -> list[str]:
    """A safe, unique folder name per target: the host name (plus _port when given), '-2' on repeats."""
    names: list[str] = []
    seen: set[str] = set()
    for target in targets:
        base = _UNSAFE.sub("_", target.label.replace(":", "_")).strip("._") or "host"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        names.append(name)
    return names


def resolve_targets(hosts: list[str], options: ProbeOptions) -> list[Target]:
    """Parse every HOST argument, filled in from options.ssh_config; raises ValueError naming the first bad one."""
    config = load_ssh_config(options.ssh_config) if options.ssh_config is not None else None
    return [resolve_target(host, options, config) for host in hosts]


def run_settings(options: ProbeOptions) -> dict:
    """What shaped this run, for whoever reads the folder later; secrets and callables stay out."""
    return {
        "user": options.user,
        "port": options.port,
        "identity": str(options.identity) if options.identity else None,
        "jump": options.jump,
        "ssh_config": str(options.ssh_config) if options.ssh_config else None,
        "default_user": options.default_user,
        "default_port": options.default_port,
        "default_identity": str(options.default_identity) if options.default_identity else None,
        "connect_timeout": options.connect_timeout,
        "known_hosts": str(options.known_hosts),
        "accept_new_host_key": options.accept_new_host_key,
        "sudo": options.sudo,
        "since_seconds": options.since_seconds,
        "capture_seconds": options.capture_seconds,
        "capture_port": options.capture_port,
        "parallel": options.parallel,
        "commands": [spec.name for spec in specs_for(options)],
    }


def run_probe(hosts: list[str], options: ProbeOptions, progress: Progress | None = None) -> list[HostResult]:
    """Probe every host (up to options.parallel at once) into options.out; results in the order given.

    progress(host, status, detail) is called from worker threads: on connect, per command, and at the end.
    A KeyboardInterrupt stops every host at its next poll; their manifests say 'cancelled'.
    """
    targets = resolve_targets(hosts, options)
    out = options.out or default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    cancel = threading.Event()
    password_box: dict = {"lock": threading.Lock()}
    started_at = time.time()
    folders = [out / name for name in folder_names(targets)]
    results: list[HostResult | None] = [None] * len(targets)
    with ThreadPoolExecutor(max_workers=max(1, options.parallel), thread_name_prefix="csdiag-probe") as pool:
        futures = [
            pool.submit(collect_host, target, options, folder, cancel=cancel, password_box=password_box, progress=progress)
            for target, folder in zip(targets, folders)
        ]
        try:
            for index, future in enumerate(futures):
                results[index] = future.result()
        except KeyboardInterrupt:
            cancel.set()
            for future in futures:
                future.cancel()
            raise
    finished = [result for result in results if result is not None]
    write_json_atomic(out / MANIFEST, run_manifest(finished, started_at, time.time(), run_settings(options)))
    return finished
