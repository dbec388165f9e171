"""The unit of work a worker runs: one discovered input -> its `Collected` part (facts unresolved, unsorted).

The same function runs in a local worker process and on a Dask worker, so both give exactly the serial facts; merging,
entity resolution, the sort, rules and correlation stay in the parent (`pipeline.collect` with a runner).

What travels back is the part with its facts packed by kind (`Shipped`): per fact class one list of value tuples
(read with one C-level attrgetter per fact) and the class order, rebuilt in the parent by a per-class function that
sets the slots directly. Plain pickling of slotted dataclasses goes through dataclasses' __setstate__, which looks
the fields up again for every fact: measured on the 25,196 facts of 4 x 64 MiB, CPU to load in the parent
0.17-0.20 -> 0.07 s, to dump in the workers 0.18-0.28 -> 0.12-0.20 s, 10.2 -> 8.3 MB (tests/parallel/test_parallel_shipping.py holds the rebuilt facts equal). Dask results
travel plainly pickled: their version is checked before the part is used, and a packed part from another csdiag
version could not even be rebuilt to say so.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import signal
import threading
from array import array

from diagnostics.logs.reader import ReadOptions
from diagnostics.parallel import ranges
from diagnostics.model import Fact
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


_GETTERS: dict[type, tuple[tuple[str, ...], operator.attrgetter]] = {}
_MAKERS: dict[type, object] = {}


def _fields(cls: type) -> tuple[tuple[str, ...], operator.attrgetter]:
    known = _GETTERS.get(cls)
    if known is None:
        names = cls.field_names()
        known = _GETTERS[cls] = (names, operator.attrgetter(*names) if len(names) > 1 else (lambda o, n=names[0]: (getattr(o, n),)))
    return known


def pack_facts(facts: list[Fact]) -> tuple[list[tuple[type, list[tuple]]], array]:
    """(per class: the class and its facts' field values in field order, the class index of each fact in order)."""
    slots: dict[type, int] = {}
    groups: list[tuple[type, list[tuple]]] = []
    order = array("H")
    for fact in facts:
        cls = type(fact)
        index = slots.get(cls)
        if index is None:
            index = slots[cls] = len(groups)
            groups.append((cls, []))
        groups[index][1].append(_fields(cls)[1](fact))
        order.append(index)
    return groups, order


def _maker(cls: type):
    """A function rows -> facts of `cls` that assigns the slots in field order (names from this process's own class,
    never from the data)."""
    maker = _MAKERS.get(cls)
    if maker is None:
        if not (isinstance(cls, type) and issubclass(cls, Fact)):
            raise TypeError(f"cannot rebuild facts of {cls!r}")
        names, _getter = _fields(cls)
        if not all(name.isidentifier() for name in names):
            raise TypeError(f"cannot rebuild facts of {cls!r}")
        values = ", ".join(f"v{i}" for i in range(len(names))) + ("," if len(names) == 1 else "")
        body = "".join(f"        o.{name} = v{i}\n" for i, name in enumerate(names))
        source = (f"def make(rows, new, cls):\n    out = []\n    for ({values}) in rows:\n        o = new(cls)\n{body}"
                  "        out.append(o)\n    return out\n")
        scope: dict = {}
        exec(compile(source, f"<rebuild {cls.__name__}>", "exec"), scope)  # noqa: S102 (field names of our own class)
        maker = _MAKERS[cls] = scope["make"]
    return maker


def unpack_facts(groups: list[tuple[type, list[tuple]]], order: array) -> list[Fact]:
    built = [iter(_maker(cls)(rows, object.__new__, cls)) for cls, rows in groups]
    return [next(built[index]) for index in order]


def _unship(part, groups, order):
    part.facts = unpack_facts(groups, order)
    return part


class Shipped:
    """A worker's result (a `Collected` or a `ranges.RangePart`) that pickles its facts packed (see the module doc);
    what the parent unpickles is the part itself."""

    __slots__ = ("part",)

    def __init__(self, part) -> None:
        self.part = part

    def __reduce__(self):
        bare = dataclasses.replace(self.part) if dataclasses.is_dataclass(self.part) else self.part
        groups, order = pack_facts(self.part.facts)
        bare.facts = []
        return _unship, (bare, groups, order)


def read_input(item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float) -> Collected:
    """One input in a local worker process, progress reported to the parent as it reads."""
    return Shipped(collect_input(item, opts, ping_interval, ping_timeout, _report if _queue is not None else None))


def read_range(item: Input, opts: ReadOptions, rng: ranges.Range) -> ranges.RangePart:
    """One byte range of a large plain log in a local worker process (see ranges.py)."""
    return Shipped(ranges.read_range(item.path, opts, rng, _report if _queue is not None else None))


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
