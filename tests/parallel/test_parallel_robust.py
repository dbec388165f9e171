"""Workers never lose an error, the progress display or a Ctrl-C: one bad input is one line, the rest goes on."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import timezone

import pytest
from conftest import ROOT, SAMPLES, comparable, make_log

import diagnostics.parallel.pool as pool
from diagnostics.analysis import analyze_paths
from diagnostics.logs.reader import ReadOptions
from diagnostics.sources.discover import Input


@pytest.fixture
def broken_inputs(tmp_path):
    """Two good logs, a gzip cut in the middle of its member and binary junk under a log's name."""
    shutil.copytree(os.path.join(SAMPLES, "stale-capacity-start"), tmp_path / "good")
    make_log(str(tmp_path / "good" / "management-server.log.1"), 1 << 20, seed=3)
    data = gzip.compress(open(tmp_path / "good" / "management-server.log.1", "rb").read())
    (tmp_path / "management-server.log.2025-03-08.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "agent.log").write_bytes(bytes(range(256)) * 64)
    return str(tmp_path)


def test_bad_inputs_give_the_serial_errors_and_the_others_are_analysed(broken_inputs, monkeypatch):
    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)
    serial = analyze_paths([broken_inputs], tz=timezone.utc, jobs=1).document
    parallel = analyze_paths([broken_inputs], tz=timezone.utc, jobs=2).document
    assert comparable(parallel) == comparable(serial)
    messages = [e["message"] for e in parallel["errors"]]
    assert any("management-server.log.2025-03-08.gz" in m for m in messages)
    assert all("\n" not in m and "Traceback" not in m for m in messages)
    assert parallel["findings"]  # the good sample is still diagnosed
    assert parallel["summary"]["errors"] == len(messages) > 0


def test_a_worker_that_dies_is_one_error_line_naming_its_file():
    item = Input(path="/srv/archive/ms1/management-server.log", kind="log", host="ms1")
    fut: Future = Future()
    fut.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
    part = pool.PoolRunner._part(fut, item, ReadOptions(tz_name="UTC"))
    assert part.inputs == [{"path": item.path, "kind": "log", "host": "ms1"}]
    assert part.errors == [{"path": item.path, "message": f"{item.path}: could not be analysed (the worker process "
                                                             "reading it ended unexpectedly)"}]


def test_progress_reaches_the_parent_for_every_byte(tmp_path):
    for i in range(3):
        make_log(str(tmp_path / f"management-server.log.{i}"), 5 << 20, seed=i)
    seen: dict[str, int] = {}

    def progress(name, nbytes):
        seen[name] = seen.get(name, 0) + nbytes

    runner = pool.PoolRunner(2, min_bytes=0)
    from diagnostics.pipeline import collect

    collect([str(tmp_path)], tz=timezone.utc, progress=progress, runner=runner)
    assert runner.workers_started == 2
    assert seen == {str(p): os.path.getsize(p) for p in tmp_path.iterdir()}


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _children(pid: int) -> set[int]:
    return {child for child in _descendants(pid) if _parent(child) == pid}


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_ctrl_c_ends_the_workers_without_waiting_for_their_files(tmp_path):
    """The workers are frozen (SIGSTOP: as a worker stuck on a hung shared mount) before Ctrl-C: waiting for them to
    finish their files would never end; the analysis must still stop, and leave no worker behind."""
    make_log(str(tmp_path / "part"), 8 << 20, seed=5)
    part = (tmp_path / "part").read_bytes()
    big = tmp_path / "logs" / "management-server.log"
    big.parent.mkdir()
    with open(big, "wb") as f:  # 64 MiB: the workers are still reading when they are frozen
        for _ in range(8):
            f.write(part)
    os.link(big, tmp_path / "logs" / "management-server.log.1")
    proc = subprocess.Popen([sys.executable, "-m", "diagnostics", "analyze", "--jobs", "2", "--tz", "UTC", str(big.parent)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(workers) < 2:
            workers = _descendants(proc.pid) - _children(proc.pid)  # below the fork server, a child of the CLI
            time.sleep(0.02)
        assert len(workers) == 2, "the workers never started"
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err  # as the serial run: interrupted, no traceback
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)]
    finally:  # whatever failed above: nothing of this test keeps running
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in workers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
