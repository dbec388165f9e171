"""Reading the inputs of one analysis on every core (`--jobs`) or on a Dask cluster (`--dask-scheduler`).

Both are runners of `pipeline.collect`: they read inputs elsewhere and hand back one part per input in input order;
`collect` merges them, resolves entities and sorts, and the rules and correlation run once on the result, so
findings, incidents and exit codes are those of the serial run. See README.md in this folder.
"""

from __future__ import annotations

from diagnostics.parallel.pool import PoolRunner, default_jobs
from diagnostics.pipeline import InputRunner


def runner_for(jobs: int | None = None, dask_scheduler: str | None = None) -> InputRunner | None:
    """The runner for `--jobs`/`--dask-scheduler`; None is the serial loop (`--jobs 1`). jobs None: every core."""
    if dask_scheduler:
        from diagnostics.parallel.cluster import DaskRunner

        return DaskRunner(dask_scheduler)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    return PoolRunner(jobs) if jobs > 1 else None


__all__ = ["PoolRunner", "default_jobs", "runner_for"]
