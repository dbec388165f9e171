"""Merged, filtered records of many inputs, each with the facts it produced.

Several files merge into one stream by timestamp (k-way merge, constant memory). Filters follow an operation
across files: `--job` also selects the records that share the job's logids and `Seq` numbers, which is how a
management-server job is followed into the agent.log of the host that ran its command.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.facts import record_facts
from diagnostics.facts.registry import FLUSHERS, ExtractContext
from diagnostics.logs.reader import LogStats, ReadOptions
from diagnostics.model import Fact, Record
from diagnostics.pipeline import Progress, iter_log_records
from diagnostics.sources.discover import Input

LEVEL_ORDER = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4, "FATAL": 5}
_SEQ_RE = re.compile(r"Seq (\d+-\d+):")


@dataclass(slots=True)
class Filters:
    vm: str | None = None
    host: str | None = None
    job: int | None = None
    logid: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    level: str | None = None

    @property
    def needs_expansion(self) -> bool:
        return self.job is not None or self.vm is not None

    @property
    def expansion_needs_facts(self) -> bool:
        """Does find_related look at facts? Only for --vm: --job reads the records' job ids, logids and Seq."""
        return self.vm is not None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.vm, self.host, self.job, self.logid, self.since, self.until, self.level))


@dataclass(slots=True)
class Related:
    """Keys that belong to the selected job/VM, found in a first pass."""

    jobs: set[int] = field(default_factory=set)
    logids: set[str] = field(default_factory=set)
    seqs: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Entry:
    record: Record
    facts: list[Fact]


def _file_entries(item: Input, opts: ReadOptions, stats: LogStats, progress: Progress | None,
                  facts: bool = True) -> Iterator[Entry]:
    if not facts:
        for rec in iter_log_records(item, opts, stats, progress):
            yield Entry(rec, [])
        return
    ctx = ExtractContext()
    for rec in iter_log_records(item, opts, stats, progress):
        yield Entry(rec, record_facts(rec, ctx))
    leftovers = [f for flush in FLUSHERS for f in flush(ctx)]
    if leftovers and stats.last_ts is not None:
        for f in leftovers:
            # capacity-check blocks that never logged an outcome are shown at the end of their file
            yield Entry(Record(f.path, f.line, f.ts, None, None, None, None, (), f.logid, f.text, fmt=LEFTOVER), [f])


LEFTOVER = "fact"  # the format of the records made above for facts flushed at the end of a file


def _keyed(entries: Iterator[Entry], idx: int) -> Iterator[tuple[float, int, Entry]]:
    """(merge key, input index, entry): the time of the record, else of the last timed record before it (the end of
    the file for flushed leftovers), so undated lines stay with the record they follow."""
    last = float("-inf")
    for entry in entries:
        rec = entry.record
        if rec.ts is not None and rec.fmt != LEFTOVER:
            last = rec.ts.timestamp()
        yield last, idx, entry


def merged(inputs: list[Input], opts: ReadOptions, stats: dict[str, LogStats], progress: Progress | None = None,
           *, facts: bool = True) -> Iterator[Entry]:
    """One stream of entries from every log input, ordered by time (records of one file keep file order).
    `facts=False`: records only (every entry's facts empty), for a pass that looks at nothing else."""
    streams = []
    for item in inputs:
        st = stats.setdefault(item.path, LogStats(item.path if item.path != "-" else "<stdin>"))
        streams.append(_file_entries(item, opts, st, progress, facts))
    if len(streams) == 1:  # nothing to merge: no sort keys to compute
        yield from streams[0]
        return
    for _key, _idx, entry in heapq.merge(*(_keyed(s, i) for i, s in enumerate(streams)), key=lambda t: t[0]):
        yield entry


def _mentions_vm(entry: Entry, vm: str) -> bool:
    rec = entry.record
    if vm in rec.message or any(vm in line for line in rec.extra[:40]):
        return True
    return any(f.vm == vm or f.vm_uuid == vm for f in entry.facts)


def _mentions_host(entry: Entry, host: str) -> bool:
    rec = entry.record
    if host.isdigit():
        hid = int(host)
        if any(f.host_id == hid for f in entry.facts):
            return True
        return f'"id":{hid},' in rec.message and "Host {" in rec.message or f"Host[-{hid}-" in rec.message or f"host {hid}(" in rec.message
    if any(f.host_name == host for f in entry.facts):
        return True
    if host in rec.message:
        return True
    return f"/{host}/" in f"/{rec.path}"


def find_related(entries: Iterator[Entry], flt: Filters) -> Related:
    """The jobs, logids and Seq numbers of the records about `flt.job`/`flt.vm`. Only `--vm` looks at facts (a fact
    may name the VM its record's text does not), so a `--job` pass may give entries without them (Filters.expansion_needs_facts)."""
    rel = Related()
    if flt.job is not None:
        rel.jobs.add(flt.job)
    for entry in entries:
        rec = entry.record
        hit = False
        if flt.job is not None and flt.job in rec.jobs:
            hit = True
        if flt.vm is not None and _mentions_vm(entry, flt.vm):
            hit = True
            if rec.jobs:
                rel.jobs.add(rec.jobs[0])
        if hit:
            if rec.logid:
                rel.logids.add(rec.logid)
            rel.seqs.update(_SEQ_RE.findall(rec.message))
    return rel


def select(entry: Entry, flt: Filters, rel: Related | None) -> bool:
    rec = entry.record
    if flt.level and (rec.level is None or LEVEL_ORDER.get(rec.level, 0) < LEVEL_ORDER[flt.level]):
        return False
    if flt.since and rec.ts is not None and rec.ts < flt.since:
        return False
    if flt.until and rec.ts is not None and rec.ts > flt.until:
        return False
    if flt.logid is not None and rec.logid != flt.logid:
        return False
    if flt.host is not None and not _mentions_host(entry, flt.host):
        return False
    if rel is not None:
        if rec.jobs and rec.jobs[0] in rel.jobs:
            return True
        if rec.logid and rec.logid in rel.logids:
            return True
        if rel.seqs and "Seq " in rec.message and any(s in rec.message for s in rel.seqs):
            return True
        if flt.vm is not None and _mentions_vm(entry, flt.vm):
            return True
        return False
    return True
