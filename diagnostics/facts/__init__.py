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

TRACE_LINES = 60  # how deep into a stack trace extractors look
_ORDER = {ext: i for i, ext in enumerate(EXTRACTORS)}
# per keyword: the positions (registration order) of the extractors it wakes, in the message / in the trace
_WAKES = [tuple(sorted(_ORDER[e] for e in exts)) for exts in EXTRACTORS_OF]
_WAKES_IN_TRACE = [tuple(sorted(_ORDER[e] for e in exts if e.in_trace)) for exts in EXTRACTORS_OF]
_FUNCS = [ext.func for ext in EXTRACTORS]


def extract_record(rec: Record, ctx: ExtractContext, in_message: set[int] | None = None) -> list[Fact]:
    """All facts of one record: the keywords found pick the extractors, which run in registration order.
    `in_message`: the keywords of a one-line record's message, when the caller's search already found them."""
    found = found_in(rec.message) if in_message is None else in_message
    if rec.extra:
        chosen = {e for i in found for e in _WAKES[i]}
        chosen.update(e for i in found_in("\n".join(rec.extra[:TRACE_LINES])) for e in _WAKES_IN_TRACE[i])
        order = sorted(chosen)
    elif len(found) == 1:
        order = _WAKES[next(iter(found))]
    elif found:
        order = sorted({e for i in found for e in _WAKES[i]})
    else:
        return []
    out: list[Fact] = []
    for e in order:
        try:
            produced = _FUNCS[e](rec, ctx)
        except ValueError:  # a hostile value (a 5000-digit number) costs this extractor this record, not the file
            continue
        if produced:
            out.extend(produced)
    return out


NOT_RECORDS = ("orphan", "unparsed")  # lines that are no log record: no facts


def record_facts(rec: Record, ctx: ExtractContext, maybe_generic: bool = True, in_message: set[int] | None = None) -> list[Fact]:
    """Every fact of one record: its extractors' facts, then its log_record fact (if anything may look at it).
    `maybe_generic=False`: the caller searched the record for everything that can make a log_record fact (a loud
    level field, an exception suffix, an interest literal; facts.block_search.GENERIC) and found none.
    `in_message`: see extract_record (the fast filter's hits, so the record is not searched twice)."""
    if rec.fmt in NOT_RECORDS:
        return []
    out = extract_record(rec, ctx, in_message)
    if not maybe_generic:
        return out
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
