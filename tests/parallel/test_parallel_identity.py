"""`analyze --jobs N` finds exactly what the serial run finds: same findings, incidents, inputs, errors, exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timezone

import pytest
from conftest import ROOT, SAMPLE_DIRS, SAMPLES, comparable, run_cli

import diagnostics.parallel as parallel
import diagnostics.parallel.pool as pool
from diagnostics.analysis import analyze_paths


@pytest.fixture
def runners(monkeypatch):
    """Every runner analyze_paths builds, so a test can tell that workers really ran."""
    made = []
    real = parallel.runner_for

    def spy(jobs=None, dask_scheduler=None):
        runner = real(jobs, dask_scheduler)
        made.append(runner)
        return runner

    monkeypatch.setattr(parallel, "runner_for", spy)
    return made


def _analyze(paths, jobs):
    return analyze_paths(paths, tz=timezone.utc, tz_name="UTC", jobs=jobs)


@pytest.mark.parametrize("sample", SAMPLE_DIRS)
def test_every_sample_gives_the_serial_document_with_two_workers(sample, monkeypatch, runners):
    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)  # the samples are small: make the pool take them anyway
    folder = os.path.join(SAMPLES, sample)
    serial = _analyze([folder], jobs=1)
    parallel_run = _analyze([folder], jobs=2)
    assert comparable(parallel_run.document) == comparable(serial.document)
    assert [f.evidence for f in parallel_run.collected.facts] == [f.evidence for f in serial.collected.facts]
    (runner,) = [r for r in runners if r is not None]
    inputs = [i for i in serial.document["inputs"] if i["kind"] != "skipped"]
    assert runner.workers_started == (2 if len(inputs) >= 2 else 0)


def test_all_samples_at_once_give_the_serial_document(monkeypatch, runners):
    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)
    folders = [os.path.join(SAMPLES, s) for s in SAMPLE_DIRS]
    serial = _analyze(folders, jobs=1)
    for jobs in (2, 3):
        assert comparable(_analyze(folders, jobs=jobs).document) == comparable(serial.document)
    assert [r.workers_started for r in runners if r is not None] == [2, 3]


def test_a_small_analysis_stays_in_this_process(runners):
    folder = os.path.join(SAMPLES, "healthy-scale")
    assert comparable(_analyze([folder], jobs=4).document) == comparable(_analyze([folder], jobs=1).document)
    assert runners[0].workers_started == 0  # well below POOL_MIN_BYTES: starting workers would cost more


def test_the_cli_on_a_zone_archive_gives_the_serial_document_and_exit_code(archive, serial_archive):
    from diagnostics.sources.discover import discover

    assert sum(pool.input_weight(item) for item in discover([archive]).inputs) > pool.POOL_MIN_BYTES  # workers do run
    serial_rc, serial_doc, _ = serial_archive
    assert serial_doc["summary"]["inputs"] > 20 and serial_doc["findings"] and serial_doc["incidents"]
    for args in (["-j", "2"], []):  # no --jobs: every core
        rc, doc, _ = run_cli(*args, archive)
        assert (rc, comparable(doc)) == (serial_rc, comparable(serial_doc)), args


def test_jobs_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        parallel.runner_for(0)
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", "--jobs", "0", SAMPLES], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 3 and "--jobs" in proc.stderr  # a usage error, never read as CRITICAL (2)


def test_a_bundle_is_unpacked_once_here_and_its_files_read_by_the_workers(tmp_path, monkeypatch, runners):
    import tarfile

    monkeypatch.setattr(pool, "POOL_MIN_BYTES", 0)
    bundle = tmp_path / "case-1234.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(os.path.join(SAMPLES, "rotated-gz"), arcname="rotated-gz")
    paths = [str(bundle), os.path.join(SAMPLES, "healthy-scale")]
    serial = _analyze(paths, jobs=1).document
    assert comparable(_analyze(paths, jobs=2).document) == comparable(serial)
    assert [r.workers_started for r in runners if r is not None] == [2]
    assert any(i["path"].startswith(f"{bundle}:") for i in serial["inputs"])  # named as bundle members, not temp files
