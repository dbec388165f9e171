"""`analyze --dask-scheduler ADDRESS`: the inputs of one analysis read on an existing Dask cluster.

Each input is one task running the same function as a local worker (`work.read_input_on_cluster`); this process
merges, resolves, sorts, runs the rules and correlates, as in the serial run. The workers open the paths this process
discovered: the archive must be on storage they share, at the same path. What only this machine can read stays here:
stdin, and bundles/sosreports unpacked into this process's temporary folder. Needs the optional extra `[fleet]`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from diagnostics import __version__
from diagnostics.logs.reader import ReadOptions
from diagnostics.parallel import work
from diagnostics.parallel.pool import RangedInput, failed_part, input_weight, split_work
from diagnostics.pipeline import Collected, Progress, collect_input
from diagnostics.sources.discover import Input
from diagnostics.sources.files import display_name

CONNECT_TIMEOUT = "20s"


def local_only(item: Input) -> bool:
    """Inputs a worker cannot open: stdin, skipped entries, members of an archive unpacked into a local temp folder
    (the display name of those differs from their path)."""
    if item.kind == "skipped" or item.path == "-":
        return True
    return item.display is not None and item.display(item.path) != item.path


class DaskRunner:
    """An `InputRunner` for `pipeline.collect` that sends each input to a Dask cluster as one task."""

    def __init__(self, address: str, range_bytes: int | None = None) -> None:
        self.address = address
        self.range_bytes = range_bytes  # the size of a byte range of a large plain log (None: see pool.split_work)
        self.tasks_sent = 0  # for tests: how many tasks (inputs and byte ranges) went to the cluster
        self.ranges_sent = 0

    def __call__(self, items: list[Input], opts: ReadOptions, ping_interval: float, ping_timeout: float,
                 progress: Progress | None) -> Iterator[Collected]:
        try:
            from distributed import Client, as_completed
        except ImportError:
            yield from self._not_sent(items, opts, "the Dask client is not installed: pip install "
                                                   "'cloudstack-diagnostics[fleet]'", ping_interval, ping_timeout, progress)
            return
        remote = [i for i, item in enumerate(items) if not local_only(item)]
        try:
            client = Client(self.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:  # unreachable, refused, or not a scheduler address
            yield from self._not_sent(items, opts, f"cannot connect: {_one_line(exc)}", ping_interval, ping_timeout, progress)
            return
        with client, client.as_current():  # as_completed finds the client here, not in process-global state
            if remote:
                try:
                    client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError) as exc:  # tasks would wait forever for a worker
                    yield from self._not_sent(items, opts, f"no worker joined it ({_one_line(exc)})", ping_interval,
                                              ping_timeout, progress)
                    return
            workers = max(1, len(client.scheduler_info().get("workers", {}))) if remote else 1
            remote_set = set(remote)
            weights = [max(1, input_weight(item)) if i in remote_set else 0 for i, item in enumerate(items)]
            tasks = split_work(items, weights, opts, workers, self.range_bytes)
            key = f"{os.getpid()}-{id(self)}"
            futures = {}
            ranged: dict[int, RangedInput] = {}
            for i, rng in tasks:
                if rng is None:
                    fut = client.submit(work.read_input_on_cluster, items[i], opts, ping_interval, ping_timeout,
                                        pure=False, key=f"csdiag-read-{i}-{key}")
                else:
                    ranged.setdefault(i, RangedInput(0)).parts.append(None)
                    fut = client.submit(work.read_range_on_cluster, items[i], opts, rng, pure=False,
                                        key=f"csdiag-range-{i}-{rng.index}-{key}")
                futures[fut] = (i, rng)
            self.tasks_sent = len(futures)
            self.ranges_sent = sum(len(r.parts) for r in ranged.values())
            parts: dict[int, Collected] = {}
            sent = {i for i, _rng in tasks}
            try:
                for i, item in enumerate(items):  # this machine's own share while the cluster works
                    if i not in sent:
                        parts[i] = collect_input(item, opts, ping_interval, ping_timeout, progress)
                for fut in as_completed(list(futures)):
                    i, rng = futures[fut]
                    if rng is None:
                        parts[i] = self._part(fut, items[i], opts)
                    else:
                        share = ranged[i]
                        self._range_part(fut, share, rng.index)
                        if not share.ready():
                            continue
                        share.handed = True
                        parts[i] = share.collected(items[i], opts, ping_interval, ping_timeout)
                    if progress is not None:
                        progress(display_name(items[i].path), _bytes_read(parts[i]))
            except BaseException:  # Ctrl-C: the cluster stops working for an analysis nobody waits for
                client.cancel(list(futures))
                raise
        for i in range(len(items)):
            yield parts.pop(i)

    def _part(self, fut, item: Input, opts: ReadOptions) -> Collected:
        try:
            version, part = fut.result()
        except Exception as exc:  # the task raised, its worker died, or its result did not come back
            return failed_part(item, opts, f"Dask task on {self.address}: {type(exc).__name__}: {_one_line(exc)}")
        if version != __version__:
            return failed_part(item, opts, f"the Dask worker runs csdiag {version}, this is {__version__}: install the "
                                           "same version on the workers")
        return part

    def _range_part(self, fut, share: RangedInput, index: int) -> None:
        try:
            version, part = fut.result()
        except Exception as exc:  # the task raised, its worker died, or its result did not come back
            share.failure = share.failure or f"Dask task on {self.address}: {type(exc).__name__}: {_one_line(exc)}"
            return
        if version != __version__:
            share.failure = share.failure or (f"the Dask worker runs csdiag {version}, this is {__version__}: install the "
                                              "same version on the workers")
        elif isinstance(part, str):
            share.failure = share.failure or part
        else:
            share.parts[index] = part

    def _not_sent(self, items: list[Input], opts: ReadOptions, why: str, ping_interval: float, ping_timeout: float,
                  progress: Progress | None) -> Iterator[Collected]:
        """Nothing went to the cluster: one error line names the scheduler; what is local is still read here."""
        remote = [item for item in items if not local_only(item)]
        first = True
        for item in items:
            if local_only(item):
                yield collect_input(item, opts, ping_interval, ping_timeout, progress)
                continue
            part = Collected(tz_name=opts.tz_name)
            part.inputs.append({"path": display_name(item.path), "kind": item.kind,
                                "notes": [f"not analysed: Dask scheduler {self.address} unavailable"]})
            if first:
                part.error(f"Dask scheduler {self.address}: {why}; {len(remote)} input(s) not analysed")
                first = False
            yield part


def _bytes_read(part: Collected) -> int:
    return sum(int(record.get("bytes") or 0) for record in part.inputs)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
