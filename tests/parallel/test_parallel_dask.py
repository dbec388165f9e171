"""`analyze --dask-scheduler` on a real Dask cluster (scheduler and workers on 127.0.0.1): the serial findings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from datetime import timezone

import pytest
from conftest import ROOT, SAMPLE_DIRS, SAMPLES, comparable, run_cli

from diagnostics.analysis import analyze_paths
from diagnostics.logs.reader import ReadOptions
from diagnostics.parallel.cluster import DaskRunner
from diagnostics.parallel.work import read_input_on_cluster
from diagnostics.sources.discover import Input

distributed = pytest.importorskip("distributed", reason="Dask is the optional extra [fleet]: pip install 'dask[distributed]'")


def _dask(*args: str, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))  # this tree's csdiag
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers on 127.0.0.1, random ports, no dashboard; stopped afterwards."""
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    log = open(tmp / "dask.log", "w")
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(scheduler_file), log=log)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), (tmp / "dask.log").read_text()
        procs.append(_dask("worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1", "--nworkers", "2",
                           "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp / "work"), log=log))
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with distributed.Client(address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            assert all(w.startswith("tcp://127.0.0.1:") for w in client.scheduler_info()["workers"])
        yield address
    finally:
        for proc in reversed(procs):  # workers first: they would wait for a scheduler that is gone
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


def _run(paths, address, monkeypatch):
    """analyze_paths on the cluster, and the runner it used (to count what went there)."""
    import diagnostics.parallel as parallel

    runner = DaskRunner(address)
    monkeypatch.setattr(parallel, "runner_for", lambda jobs=None, dask_scheduler=None: runner)
    return analyze_paths(paths, tz=timezone.utc, tz_name="UTC", dask_scheduler=address), runner


def test_every_sample_on_the_cluster_gives_the_serial_document(cluster, monkeypatch):
    folders = [os.path.join(SAMPLES, s) for s in SAMPLE_DIRS]
    serial = analyze_paths(folders, tz=timezone.utc, tz_name="UTC", jobs=1)
    on_cluster, runner = _run(folders, cluster, monkeypatch)
    assert runner.tasks_sent == len([i for i in serial.document["inputs"] if i["kind"] != "skipped"])
    assert comparable(on_cluster.document) == comparable(serial.document)


def test_byte_ranges_of_a_large_log_on_the_cluster_give_the_serial_document(cluster, tmp_path, monkeypatch):
    from test_parallel_ranges import mixed_log

    path = str(tmp_path / "management-server.log")
    mixed_log(path, 14 << 20, seed=9)
    serial = analyze_paths([path], tz=timezone.utc, tz_name="UTC", jobs=1)
    runner = DaskRunner(cluster, range_bytes=4 << 20)
    import diagnostics.parallel as parallel

    monkeypatch.setattr(parallel, "runner_for", lambda jobs=None, dask_scheduler=None: runner)
    on_cluster = analyze_paths([path], tz=timezone.utc, tz_name="UTC", dask_scheduler=cluster)
    assert runner.ranges_sent >= 3 and runner.tasks_sent == runner.ranges_sent
    assert comparable(on_cluster.document) == comparable(serial.document)
    assert serial.document["findings"]


def test_the_cli_on_a_zone_archive_gives_the_serial_document_and_exit_code(cluster, archive, serial_archive):
    serial = serial_archive
    rc, doc, _err = run_cli("--dask-scheduler", cluster, archive)
    assert (rc, comparable(doc)) == (serial[0], comparable(serial[1]))


def test_a_bundle_unpacked_here_is_read_here_and_the_rest_on_the_cluster(cluster, tmp_path, monkeypatch):
    bundle = tmp_path / "case-1234.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(os.path.join(SAMPLES, "stale-capacity-start"), arcname="stale-capacity-start")
    paths = [str(bundle), os.path.join(SAMPLES, "healthy-scale")]
    serial = analyze_paths(paths, tz=timezone.utc, tz_name="UTC", jobs=1)
    on_cluster, runner = _run(paths, cluster, monkeypatch)
    assert comparable(on_cluster.document) == comparable(serial.document)
    assert any(i["path"].startswith(str(bundle) + ":") for i in on_cluster.document["inputs"])
    assert runner.tasks_sent == len([i for i in serial.document["inputs"]
                                     if i["kind"] != "skipped" and not i["path"].startswith(str(bundle))])


def test_an_unreachable_scheduler_is_one_error_line_and_an_incomplete_analysis(monkeypatch):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    import diagnostics.parallel.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "2s")
    doc = analyze_paths([os.path.join(SAMPLES, "healthy-scale")], tz=timezone.utc, dask_scheduler=address).document
    assert doc["summary"]["status"] == "UNKNOWN" and doc["findings"] == []
    (error,) = doc["errors"]
    assert error["message"].startswith(f"Dask scheduler {address}: cannot connect") and "\n" not in error["message"]
    assert error["message"].endswith("5 input(s) not analysed")
    assert all("not analysed" in i["notes"][0] for i in doc["inputs"] if i["kind"] != "skipped")


def test_a_path_the_worker_cannot_see_says_shared_storage():
    version, part = read_input_on_cluster(Input(path="/nonexistent/zone1/management-server.log", kind="log"),
                                          ReadOptions(tz_name="UTC"), 60.0, 2.5)
    (error,) = part.errors
    assert "not found on Dask worker" in error["message"] and "shared storage" in error["message"]
    assert part.inputs == [{"path": "/nonexistent/zone1/management-server.log", "kind": "log"}] and not part.facts


def test_a_scheduler_without_workers_is_one_error_line(tmp_path, monkeypatch):
    import diagnostics.parallel.cluster as cluster_module

    scheduler_file = tmp_path / "scheduler.json"
    with open(tmp_path / "dask.log", "w") as log:
        proc = _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                     str(scheduler_file), log=log)
        try:
            deadline = time.monotonic() + 60
            while not scheduler_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            address = json.loads(scheduler_file.read_text())["address"]
            monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "2s")
            doc = analyze_paths([os.path.join(SAMPLES, "healthy-scale")], tz=timezone.utc, dask_scheduler=address).document
        finally:
            proc.terminate()
            proc.wait(30)
    (error,) = doc["errors"]
    assert error["message"].startswith(f"Dask scheduler {address}: no worker joined it")
    assert doc["summary"]["status"] == "UNKNOWN"


def test_tasks_of_a_multithreaded_worker_do_not_share_the_scanner(archive):
    """Hyperscan's scratch space is per process: two reads at once in one process would fail (ScratchInUseError)."""
    from concurrent.futures import ThreadPoolExecutor

    from diagnostics.pipeline import collect_input

    opts = ReadOptions(tz=timezone.utc, tz_name="UTC")
    items = [Input(path=os.path.join(archive, f"ms{i}", "management-server.log"), kind="log") for i in (1, 2)]
    for item in items:
        with open(item.path, encoding="utf-8") as f:
            item.head = [next(f).rstrip("\n") for _ in range(50)]
    with ThreadPoolExecutor(2) as threads:
        parts = list(threads.map(lambda item: read_input_on_cluster(item, opts, 60.0, 2.5)[1], items))
    serial = [collect_input(item, opts) for item in items]
    assert [p.errors for p in parts] == [[], []]
    assert [[f.evidence for f in p.facts] for p in parts] == [[f.evidence for f in p.facts] for p in serial]
