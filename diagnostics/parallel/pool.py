"""`analyze --jobs N`: the inputs of one analysis read by N local worker processes.

Workers are started by forkserver (spawn where there is none): never a fork of a parent that may hold threads and a
progress display. The largest inputs are submitted first so the last one to finish is a small one; the parts are
handed back in input order. A small analysis stays in this process: starting a worker costs ~0.3 s, more than
reading a few MiB.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from diagnostics.logs.reader import ReadOptions
from diagnostics.parallel import ranges, work
from diagnostics.pipeline import Collected, Progress, collect_input
from diagnostics.sources.discover import Input
from diagnostics.sources.files import display_name

POOL_MIN_BYTES = 8 << 20  # below this in all, the inputs are read in this process
_GZIP_RATIO = 8  # a .gz weighs ~8x its size when ordering the work (a guess; only the order depends on it)


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity, as a container or taskset sets it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def input_weight(item: Input) -> int:
    """Bytes to read for one input (0 for stdin and skipped inputs, which stay in this process)."""
    if item.kind == "skipped" or item.path == "-":
        return 0
    try:
        if os.path.isdir(item.path):
            return sum(os.path.getsize(os.path.join(root, name)) for root, _dirs, names in os.walk(item.path) for name in names)
        size = os.path.getsize(item.path)
        with open(item.path, "rb") as f:
            return size * _GZIP_RATIO if f.read(2) == b"\x1f\x8b" else size
    except OSError:
        return 1  # unreadable: the worker reports it like the serial path would


def failed_part(item: Input, opts: ReadOptions, why: str) -> Collected:
    """The part of an input whose worker failed: listed like any input, one error line naming it."""
    part = Collected(tz_name=opts.tz_name)
    name = display_name(item.path)
    if item.display is not None:
        name = item.display(item.path)
    record: dict = {"path": name, "kind": item.kind}
    if item.host:
        record["host"] = item.host
    if item.origin:
        record["origin"] = item.origin
    part.inputs.append(record)
    part.error(f"{name}: could not be analysed ({why})", name)
    return part


Task = tuple[int, "ranges.Range | None"]  # (input index, byte range of it or None: the whole input)


def split_work(items: list[Input], weights: list[int], opts: ReadOptions, jobs: int, range_bytes: int | None = None) -> list[Task]:
    """The units of work, largest first: whole inputs, and byte ranges of each plain log larger than two ranges.
    A range is about a `jobs * 3`-th of all the work (at least ranges.MIN_RANGE_BYTES): enough pieces that the
    workers finish together, few enough that starting and merging them stays cheap."""
    total = sum(weights)
    size = range_bytes if range_bytes is not None else max(ranges.MIN_RANGE_BYTES, total // (jobs * 3))
    tasks: list[tuple[int, Task]] = []
    for i, weight in enumerate(weights):
        if weight <= 0:
            continue
        item = items[i]
        if weight > 2 * size and item.kind == "log" and ranges.eligible(item.path, opts):
            planned = ranges.plan(item.path, size)
            if len(planned) > 1:
                tasks.extend(((rng.stop or weight) - rng.start, (i, rng)) for rng in planned)
                continue
        tasks.append((weight, (i, None)))
    tasks.sort(key=lambda t: -t[0])
    return [task for _weight, task in tasks]


class RangedInput:
    """The parts of one input read as byte ranges, merged in this process once all are in."""

    def __init__(self, count: int) -> None:
        self.parts: list[ranges.RangePart | None] = [None] * count
        self.failure: str | None = None
        self.handed = False  # its part was made (once: ranges still running after a failure are ignored)

    def ready(self) -> bool:
        return not self.handed and (self.failure is not None or all(p is not None for p in self.parts))

    def collected(self, item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float) -> Collected:
        if self.failure is not None:
            return failed_part(item, opts, self.failure)
        try:
            read = ranges.merge(display_name(item.path), self.parts, opts)
        except Exception as exc:  # a merge bug must not lose the other inputs
            return failed_part(item, opts, f"merging its byte ranges: {type(exc).__name__}: {exc}")
        return collect_input(item, opts, ping_interval, ping_timeout, read=read)


class PoolRunner:
    """An `InputRunner` for `pipeline.collect`: reads inputs, and byte ranges of large plain logs, in up to `jobs`
    worker processes. `range_bytes`: the size of a range (None: from the work and `jobs`, see `split_work`)."""

    def __init__(self, jobs: int, min_bytes: int | None = None, range_bytes: int | None = None) -> None:
        self.jobs = jobs
        self.min_bytes = POOL_MIN_BYTES if min_bytes is None else min_bytes
        self.range_bytes = range_bytes
        self.workers_started = 0  # for tests and the benchmark: 0 when everything stayed in this process
        self.ranges_read = 0  # for tests and the benchmark: byte ranges sent to workers

    def __call__(self, items: list[Input], opts: ReadOptions, ping_interval: float, ping_timeout: float,
                 progress: Progress | None) -> Iterator[Collected]:
        weights = [input_weight(item) for item in items]
        if sum(weights) < self.min_bytes:
            tasks: list[Task] = []
        else:
            tasks = split_work(items, weights, opts, self.jobs, self.range_bytes)
        workers = min(self.jobs, len(tasks))
        if workers < 2:
            for item in items:
                yield collect_input(item, opts, ping_interval, ping_timeout, progress)
            return
        yield from self._run(items, tasks, workers, opts, ping_interval, ping_timeout, progress)

    def _run(self, items: list[Input], tasks: list[Task], workers: int, opts: ReadOptions, ping_interval: float,
             ping_timeout: float, progress: Progress | None) -> Iterator[Collected]:
        ctx = _context()
        messages = ctx.SimpleQueue() if progress is not None else None  # put() is in the pipe before the result
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=work.init_worker, initargs=(messages,))
        self.workers_started = workers
        finished = False
        try:
            ranged: dict[int, RangedInput] = {}
            with _ctrl_c_deferred():  # submit() starts the workers: a worker forked but not yet listed could not be ended
                futures: dict[Future, Task] = {}
                for i, rng in tasks:
                    if rng is None:
                        futures[pool.submit(work.read_input, items[i], opts, ping_interval, ping_timeout)] = (i, None)
                    else:
                        ranged.setdefault(i, RangedInput(0)).parts.append(None)
                        futures[pool.submit(work.read_range, items[i], opts, rng)] = (i, rng)
            self.ranges_read = sum(len(r.parts) for r in ranged.values())
            parts: dict[int, Collected] = {}
            sent = {i for i, _rng in tasks}
            pending = set(futures)
            next_out = 0
            while True:
                # hand back every part that is next in input order; inputs nobody sent out are read here meanwhile
                while next_out < len(items):
                    if next_out in parts:
                        yield parts.pop(next_out)
                    elif next_out not in sent:
                        yield collect_input(items[next_out], opts, ping_interval, ping_timeout, progress)
                    else:
                        break
                    next_out += 1
                if not pending:
                    break
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(messages, progress)
                for fut in done:
                    i, rng = futures[fut]
                    if rng is None:
                        parts[i] = self._part(fut, items[i], opts)
                        continue
                    share = ranged[i]
                    try:
                        share.parts[rng.index] = fut.result()
                    except BrokenProcessPool:
                        share.failure = share.failure or "the worker process reading a byte range of it ended unexpectedly"
                    except Exception as exc:
                        share.failure = share.failure or f"worker: {type(exc).__name__}: {exc}"
                    if share.ready():
                        share.handed = True
                        parts[i] = share.collected(items[i], opts, ping_interval, ping_timeout)
            _drain(messages, progress)
            finished = True
        finally:
            if not finished:  # Ctrl-C, or the consumer stopped early: no worker may outlive this call
                _terminate(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            if messages is not None:
                messages.close()

    @staticmethod
    def _part(fut: Future, item: Input, opts: ReadOptions) -> Collected:
        try:
            return fut.result()
        except BrokenProcessPool:
            return failed_part(item, opts, "the worker process reading it ended unexpectedly")
        except Exception as exc:  # e.g. a part that cannot be pickled: name the file, keep the others
            return failed_part(item, opts, f"worker: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C until the block is done, then raise it (main thread only: the others never get KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    pending: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pending:
        raise KeyboardInterrupt


def _enough_to_share(paths: list[str], jobs: int | None) -> bool:
    """Would `--jobs` start workers for these paths? At least POOL_MIN_BYTES among them (a walk that stops there)."""
    if (jobs if jobs is not None else default_jobs()) < 2:
        return False
    total = 0
    for path in paths:
        if path == "-":
            continue
        try:
            if not os.path.isdir(path):
                total += os.path.getsize(path)
            else:
                for root, _dirs, names in os.walk(path):
                    for name in names:
                        with contextlib.suppress(OSError):
                            total += os.path.getsize(os.path.join(root, name))
                    if total >= POOL_MIN_BYTES:
                        return True
        except OSError:
            continue
        if total >= POOL_MIN_BYTES:
            return True
    return False


def prestart(paths: list[str], jobs: int | None) -> None:
    """Start the fork server now, when the inputs are large enough to be shared: it imports the reading code
    (~0.5 s of CPU) on another core while this process loads the rules and discovers the inputs, instead of
    after, when the first worker is asked for (measured: the first submit waited 0.48-0.53 s for it)."""
    if not _enough_to_share(paths, jobs):
        return
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with contextlib.suppress(OSError, ValueError):
            forkserver.ensure_running()


def _context():
    """forkserver with the reading code imported once in the server, so each worker starts as a cheap fork of it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([work.__name__])
    return ctx


def _drain(messages, progress: Progress | None) -> None:
    if messages is None or progress is None:
        return
    try:
        while not messages.empty():
            name, nbytes = messages.get()
            progress(name, nbytes)
    except (EOFError, OSError):  # the pipe broke with a worker: progress is cosmetic, the part says what failed
        return


def _terminate(pool: ProcessPoolExecutor) -> None:
    """End the workers now. The executor has no public way to (Python 3.14 adds terminate_workers()); its process
    table has been `_processes` since 3.2."""
    processes = dict(getattr(pool, "_processes", None) or {})
    for proc in processes.values():
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 1.0  # SIGTERM ends a reading worker at once; one that is stopped or stuck gets SIGKILL
    for proc in processes.values():
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in processes.values():
        if proc.is_alive():
            proc.kill()
            proc.join(5)
