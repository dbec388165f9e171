"""A zone's archive in miniature for the parallel tests: every shipped sample plus generated busy logs."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = os.path.join(ROOT, "samples")
SAMPLE_DIRS = sorted(d for d in os.listdir(SAMPLES) if os.path.isdir(os.path.join(SAMPLES, d)) and not d.startswith("_"))
TIMING_FIELDS = ("generated",)  # the only fields of a csdiag/v1 document that differ between two runs of one input


def comparable(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in TIMING_FIELDS}


def make_log(path: str, size: int, seed: int) -> None:
    """tests/perf/make_log.py: a busy management server at DEBUG (pings, stats, jobs, capacity checks, failures)."""
    spec = importlib.util.spec_from_file_location("csdiag_make_log", os.path.join(ROOT, "tests", "perf", "make_log.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(path, size, seed=seed)


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> str:
    """Every sample folder, three generated 3 MiB management-server logs of other servers (one rotated and gzipped),
    together more than the pool threshold so `--jobs` really uses workers."""
    root = tmp_path_factory.mktemp("zone-archive")
    for name in SAMPLE_DIRS:
        shutil.copytree(os.path.join(SAMPLES, name), root / name)
    for i in range(3):
        folder = root / f"ms{i + 1}"
        folder.mkdir()
        make_log(str(folder / "management-server.log"), 3 << 20, seed=100 + i)
    rotated = root / "ms3" / "management-server.log"
    with open(rotated, "rb") as src, gzip.open(root / "ms3" / "management-server.log.2025-03-09.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    rotated.unlink()
    return str(root)


def run_cli(*args: str, env: dict | None = None) -> tuple[int, dict, str]:
    """`python -m diagnostics analyze --format json ...` from this worktree: (exit code, document, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", "--format", "json", "--tz", "UTC", *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="session")
def serial_archive(archive) -> tuple[int, dict, str]:
    """The serial CLI run on the archive, the reference of every other way to run it."""
    return run_cli("--jobs", "1", archive)
