"""The whole read side in one call: paths -> inputs -> facts, with every problem kept as a one-line error.

`collect` is what `analyze`, `timeline`, bundle creation and the runbook share; it never raises for bad input.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timezone, tzinfo

from diagnostics.api import facts_from_api_file, facts_from_snapshot
from diagnostics.heartbeat import facts_from_capture
from diagnostics.host import facts_from_file
from diagnostics.host.evidence import console_note
from diagnostics.host.hostname import host_from_path
from diagnostics.logs.header import HEADER_RE
from diagnostics.logs.interest import Interest, interest_for
from diagnostics.logs.reader import LogStats, ReadOptions, read_records, side_of_lines
from diagnostics.logs.stream import stream_facts
from diagnostics.model import Fact, Record
from diagnostics.model.identity import Identities
from diagnostics.model.sharing import ValueTable
from diagnostics.sources.bundles import opened_inputs
from diagnostics.sources.discover import Input, discover
from diagnostics.sources.files import SourceError, display_name
from diagnostics.sources.timezones import resolve_tz

Progress = Callable[[str, int], None]  # (description, bytes just consumed)
# Reads discovered inputs and yields one Collected per input, in input order (see `collect_input`; diagnostics.parallel)
InputRunner = Callable[[list[Input], ReadOptions, float, float, "Progress | None"], Iterable["Collected"]]


@dataclass(slots=True)
class Collected:
    facts: list[Fact] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tz_name: str = "UTC"
    identities: Identities | None = None  # who is who across all inputs, learnt by `collect` after merging

    @property
    def incomplete(self) -> bool:
        return bool(self.errors)

    def error(self, message: str, path: str | None = None) -> None:
        self.errors.append({"path": path, "message": message})


def _year_hint(inputs: list[Input]) -> int | None:
    years: Counter[int] = Counter()
    for item in inputs:
        if item.kind != "log":
            continue
        for line in item.head[:50]:
            m = HEADER_RE.match(line)
            if m:
                years[int(m.group("ts")[:4])] += 1
    return years.most_common(1)[0][0] if years else None


def iter_log_records(item: Input, opts: ReadOptions, stats: LogStats, progress: Progress | None = None) -> Iterator[Record]:
    last = 0
    for rec in read_records(item.path, opts, stats):
        if progress is not None and stats.read.bytes_read - last >= 1 << 20:
            progress(display_name(item.path), stats.read.bytes_read - last)
            last = stats.read.bytes_read
        yield rec
    if progress is not None:
        progress(display_name(item.path), stats.read.bytes_read - last)


def side_of(path: str, head: list[str]) -> str:
    """Which side wrote a log, from the per-record sides of its first lines (the file name breaks ties)."""
    return side_of_lines(path, head)


def log_facts(item: Input, opts: ReadOptions, stats: LogStats, progress: Progress | None = None,
              interest: Interest | None = None) -> Iterator[Fact]:
    """Facts of one log (file, .gz or stdin): the one record stream of diagnostics.logs.stream."""
    return stream_facts(item.path, opts, stats, interest=interest, progress=progress)


def collect(
    paths: list[str],
    *,
    tz: tzinfo | None = None,
    tz_name: str = "UTC",
    paste: bool | None = None,
    host_evidence: dict[str, str] | None = None,
    ping_interval: float = 60.0,
    ping_timeout: float = 2.5,
    progress: Progress | None = None,
    rules=None,
    runner: InputRunner | None = None,
) -> Collected:
    """Read every input into facts. `rules` (the engine's rules, or None for the catalogue alone) decide, with the
    catalogue, which records get a `log_record` fact besides loud ones and those carrying an exception. `runner`
    reads the inputs elsewhere (worker processes, a Dask cluster); merging, entity resolution and the sort stay
    here, so every runner gives the facts of the serial loop."""
    if tz is None:
        tz, tz_name = resolve_tz(None)
    out = Collected(tz_name=tz_name)
    interest = interest_for(rules or ())
    if interest.everything:
        out.notes.append("rules " + ", ".join(interest.sources) + " match log records by no literal text: every record "
                         "was read (give their conditions a literal, a level or a template to keep reading fast)")
    with opened_inputs(paths, host_evidence) as (found, notes):
        out.notes.extend(notes)
        out.notes.extend(found.notes)
        for message in found.errors:
            out.error(message, message.split(":", 1)[0])
        year = _year_hint(found.inputs)
        opts = ReadOptions(tz=tz, tz_name=tz_name, paste=paste, year=year, interest=interest)
        table = ValueTable()  # one object per repeated value across all inputs (diagnostics.model.sharing)
        if runner is None:
            for item in found.inputs:
                _collect_one(out, item, opts, ping_interval, ping_timeout, progress, interest, table=table)
        else:
            for part in runner(found.inputs, opts, ping_interval, ping_timeout, progress):
                out.facts.extend(table.share(f) for f in part.facts)
                out.inputs.extend(part.inputs)
                out.errors.extend(part.errors)
                out.notes.extend(part.notes)
    out.identities = Identities.learn(out.facts)
    out.identities.fill(out.facts)
    out.notes.extend(f"identity evidence in conflict: {line}" for line in out.identities.conflicts)
    out.facts.sort(key=lambda f: (fact_time_key(f, tz), f.path, f.line))
    return out


def fact_time_key(f: Fact, tz: tzinfo | None = None) -> float:
    """Sort key for facts of mixed sources: naive times are read in `tz` (UTC if none); undated facts go last."""
    if f.ts is None:
        return float("inf")
    ts = f.ts if f.ts.tzinfo is not None else f.ts.replace(tzinfo=tz or timezone.utc)
    return ts.timestamp()


def collect_input(item: Input, opts: ReadOptions, ping_interval: float = 60.0, ping_timeout: float = 2.5,
                  progress: Progress | None = None, read: tuple[LogStats, list[Fact]] | None = None) -> Collected:
    """One discovered input on its own, facts unresolved and unsorted: the unit of work a runner of `collect` runs
    (the interest travels in `opts`). `read`: a log's stats and facts already read elsewhere (byte ranges merged by
    diagnostics.parallel.ranges), to be made a part exactly as if read here."""
    out = Collected(tz_name=opts.tz_name)
    _collect_one(out, item, opts, ping_interval, ping_timeout, progress, opts.interest, read)
    return out


def _collect_one(out: Collected, item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float,
                 progress: Progress | None, interest: Interest | None = None,
                 read: tuple[LogStats, list[Fact]] | None = None, table: ValueTable | None = None) -> None:
    before = len(out.facts), len(out.errors)
    _collect_one_raw(out, item, opts, ping_interval, ping_timeout, progress, interest, read, table)
    if item.display is not None:  # inside a bundle: name files as `case.tar.gz:files/...`, not the temp folder
        for f in out.facts[before[0]:]:
            f.path = item.display(f.path)
        for e in out.errors[before[1]:]:
            e["message"] = e["message"].replace(item.path, item.display(item.path))
            if e.get("path"):
                e["path"] = item.display(e["path"])
        out.inputs[-1]["path"] = item.display(item.path)


def _collect_one_raw(out: Collected, item: Input, opts: ReadOptions, ping_interval: float, ping_timeout: float,
                     progress: Progress | None, interest: Interest | None = None,
                     read: tuple[LogStats, list[Fact]] | None = None, table: ValueTable | None = None) -> None:
    record: dict = {"path": display_name(item.path), "kind": item.kind}
    if item.host:
        record["host"] = item.host
    if item.origin:
        record["origin"] = item.origin
    if item.kind == "skipped":
        record["detail"] = item.detail
        out.inputs.append(record)
        return
    try:
        if item.kind == "log":
            if read is not None:
                stats, facts = read
            else:
                stats = LogStats(display_name(item.path))
                facts = log_facts(item, opts, stats, progress, interest)
                facts = [table.share(f) for f in facts] if table is not None else list(facts)
            record.update(stats.to_dict())
            if stats.side == "agent":
                host = item.host or host_from_path(item.path)
                if host:
                    record["host"] = host
                    for f in facts:  # an agent writes about its own host
                        if not f.host_name and f.host_id is None:
                            f.host_name = host
            record["facts"] = len(facts)
            out.facts.extend(facts)
            for message in stats.errors:
                out.error(message, record["path"])
            if stats.records == 0:
                out.error(f"{record['path']}: no CloudStack log records found ({stats.unparsed} unparsed lines)", record["path"])
        elif item.kind == "host" and item.detail == "guest_console":
            record.update(detail=item.detail, facts=0)
            out.notes.append(console_note(item.path))  # the guest's boot: said, no host evidence is missing
        elif item.kind == "host":
            facts, errors = facts_from_file(item.path, host=item.host)
            record.update(detail=item.detail, facts=len(facts))
            out.facts.extend(facts)
            for message in errors:
                out.error(message, record["path"])
        elif item.kind == "capture":
            facts, errors = facts_from_capture(item.path, ping_interval=ping_interval, ping_timeout=ping_timeout)
            for f in facts:
                if item.host and not f.host_name:
                    f.host_name = item.host
            record["facts"] = len(facts)
            out.facts.extend(facts)
            for message in errors:
                out.error(message, record["path"])
        elif item.kind == "probe":
            _collect_probe(out, item, opts, record, ping_interval, ping_timeout, progress, interest, table)
        elif item.kind in ("api", "api_text"):
            facts, errors = (facts_from_snapshot if item.kind == "api" else facts_from_api_file)(item.path)
            record["facts"] = len(facts)
            out.facts.extend(facts)
            for message in errors:
                out.error(message, record["path"])
    except SourceError as exc:
        out.error(str(exc), record["path"])
    except Exception as exc:  # a parser bug must not lose the other inputs; say which file and what
        out.error(f"{record['path']}: could not be analysed ({type(exc).__name__}: {exc})", record["path"])
    out.inputs.append(record)


def _collect_probe(out: Collected, item: Input, opts: ReadOptions, record: dict, ping_interval: float, ping_timeout: float,
                   progress: Progress | None, interest: Interest | None = None, table: ValueTable | None = None) -> None:
    """A probe host folder: every file in it is evidence of that host; the manifest names the host."""
    from diagnostics.probe import read_probe_folder  # here, not at the top: the probe package loads paramiko (~0.5 s)

    folder = read_probe_folder(item.path)
    host = getattr(folder, "host", None) or os.path.basename(item.path.rstrip("/"))
    record["host"] = host
    offset = getattr(folder, "clock_offset_s", None)
    if offset is not None:
        record["clock_offset_s"] = offset
    sub = discover([item.path + os.sep + name for name in sorted(os.listdir(item.path)) if name != "manifest.json"], explicit=False)
    count = 0
    for child in sub.inputs:
        if child.kind in ("host", "capture", "log"):
            child.host = host
            child.display = item.display
            before = len(out.facts)
            _collect_one(out, child, opts, ping_interval, ping_timeout, progress, interest, table=table)
            for f in out.facts[before:]:
                if not f.host_name:
                    f.host_name = host
            count += len(out.facts) - before
    for message in sub.errors:
        out.error(message)
    record["facts"] = count
