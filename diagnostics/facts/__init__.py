"""Records -> facts. One module per area registers its extractors in `registry`; this module runs them.

`record_facts` is the one function that turns a record into facts: the extractors its keywords wake, then the
generic `log_record` fact (diagnostics.logs.record_fact). Every path calls it on records made by the one builder of
`diagnostics.logs.reader`: `facts_from_records` on every record, the fast filter (diagnostics.logs.blocks) on the
records its derived literals point at, the timeline on each record it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timezone, tzinfo

from diagnostics.facts import agent, alerts, api_calls, capacity, insufficient, jobs, libvirt, limits, planner, scaling, vm_state  # noqa: F401  (register)
from diagnostics.facts.keywords import EXTRACTORS_OF, found_in
from diagnostics.facts.registry import EXTRACTORS, FLUSHERS, ExtractContext
from diagnostics.logs.interest import default_interest
from diagnostics.logs.record_fact import log_record_of
from diagnostics.model import Fact, Record

_ORDER = {ext: i for i, ext in enumerate(EXTRACTORS)}
TRACE_LINES = 60  # how deep into a stack trace extractors look


def extract_record(rec: Record, ctx: ExtractContext) -> list[Fact]:
    """All facts of one record: the keywords found pick the extractors, which run in registration order."""
    chosen = {ext for i in found_in(rec.message) for ext in EXTRACTORS_OF[i]}
    if rec.extra:
        trace = "\n".join(rec.extra[:TRACE_LINES])
        chosen.update(ext for i in found_in(trace) for ext in EXTRACTORS_OF[i] if ext.in_trace)
    if not chosen:
        return []
    out: list[Fact] = []
    for ext in sorted(chosen, key=_ORDER.__getitem__):
        produced = ext.func(rec, ctx)
        if produced:
            out.extend(produced)
    return out


NOT_RECORDS = ("orphan", "unparsed")  # lines that are no log record: no facts


def record_facts(rec: Record, ctx: ExtractContext) -> list[Fact]:
    """Every fact of one record: its extractors' facts, then its log_record fact (if anything may look at it)."""
    if rec.fmt in NOT_RECORDS:
        return []
    out = extract_record(rec, ctx)
    generic = log_record_of(rec, ctx.interest if ctx.interest is not None else default_interest())
    if generic is not None:
        out.append(generic)
    return out


def facts_from_records(records: Iterable[Record], ctx: ExtractContext | None = None) -> Iterator[Fact]:
    """Facts of a stream of records (one input, in file order), flushing open blocks at the end."""
    ctx = ctx if ctx is not None else ExtractContext()
    for rec in records:
        if rec.fmt not in NOT_RECORDS:
            yield from record_facts(rec, ctx)
    for flush in FLUSHERS:
        yield from flush(ctx)


def facts_from_text(text: str, *, path: str = "<example>", tz: tzinfo | None = timezone.utc, paste: bool | None = None,
                    interest=None) -> list[Fact]:
    """Facts of a log excerpt given as text (rule examples, tests, pasted snippets); `interest` (logs.interest)
    names the records that get a log_record fact besides loud ones and exceptions."""
    from diagnostics.logs.reader import LogStats, ReadOptions, read_records

    opts = ReadOptions(tz=tz, tz_name=str(tz) if tz else "local", paste=paste)
    records = read_records(path, opts, LogStats(path), lines=text.splitlines())
    return list(facts_from_records(records, ExtractContext(interest=interest)))
