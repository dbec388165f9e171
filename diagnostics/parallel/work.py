"""The unit of work a worker runs: one discovered input -> its `Collected` part (facts unresolved, unsorted).

The same function runs in a local worker process and on a Dask worker, so both give exactly the serial facts; merging,
entity resolution, the sort, rules and correlation stay in the parent (`pipeline.collect` with a runner).

What travels back is the part itself, pickled. Measured on the benchmark log (tests/perf/bench_parallel.py): a 64 MiB
management-server.log gives ~6,000 facts, 2.4 MB pickled, ~50 ms to dump in the worker and ~35 ms to load in the
parent, against ~550 ms of reading: a columnar encoding (one tuple per fact) was no smaller to load, so facts travel
as they are.
"""

from __future__ import annotations

import os
import signal
import threading

from diagnostics.logs.reader import ReadOptions
from diagnostics.parallel import ranges
from diagnostics.pipeline import Collected, collect_input
from diagnostics.sources.discover import Input
from diagnostics.sources.files import display_name

_queue = None  # progress messages to the parent: (name, bytes) from a local worker process
_one_at_a_time = threading.Lock()  # the keyword scanner's Hyperscan scratch is per process, not per thread


def init_worker(queue) -> None:
    """Initializer of a local worker process: Ctrl-C is the parent's to handle (it ends the workers itself);
    progress goes to the parent's queue, written synchronously so it is all there before the part."""
    global _queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _queue = queue


def _report(name: str, nbytes: int) -> None:
    _queue.put((name, nbytes))


def read_input(item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float) -> Collected:
    """One input in a local worker process, progress reported to the parent as it reads."""
    return collect_input(item, opts, ping_interval, ping_timeout, _report if _queue is not None else None)


def read_range(item: Input, opts: ReadOptions, rng: ranges.Range) -> ranges.RangePart:
    """One byte range of a large plain log in a local worker process (see ranges.py)."""
    return ranges.read_range(item.path, opts, rng, _report if _queue is not None else None)


def read_range_on_cluster(item: Input, opts: ReadOptions, rng: ranges.Range) -> tuple[str, ranges.RangePart | str]:
    """One byte range on a Dask worker: (this worker's csdiag version, the range's part, or why it could not be read)."""
    from diagnostics import __version__

    with _one_at_a_time:
        if not os.path.exists(item.path):
            return __version__, (f"not found on Dask worker {_worker_name()} (the workers must see the archive at the "
                                 "same path: put it on shared storage)")
        return __version__, ranges.read_range(item.path, opts, rng)


def read_input_on_cluster(item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float) -> tuple[str, Collected]:
    """One input on a Dask worker: (this worker's csdiag version, the part).

    The path is the one the parent discovered, so the workers must see the archive at the same path (shared
    storage); a path missing here says so instead of a bare "no such file". Tasks of a multi-threaded worker run one
    after the other (the work is CPU-bound Python anyway: run workers with --nthreads 1 and more --nworkers).
    """
    from diagnostics import __version__

    with _one_at_a_time:
        if item.path != "-" and not os.path.exists(item.path):
            part = Collected(tz_name=opts.tz_name)
            name = display_name(item.path)
            part.inputs.append({"path": name, "kind": item.kind})
            part.error(f"{name}: not found on Dask worker {_worker_name()} (the workers must see the archive at the same "
                       "path: put it on shared storage)", name)
            return __version__, part
        return __version__, collect_input(item, opts, ping_interval, ping_timeout, None)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()
