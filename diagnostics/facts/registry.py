"""The table of extractors: which keywords wake which function.

Each extractor is a pure function `(Record, ExtractContext) -> facts`, registered with the literal keywords that
must occur in the record's first line (or, with `in_trace=True`, anywhere in the record). The keyword table is also
what the fast scanner searches for, so adding an extractor automatically teaches the scanner its keywords.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from diagnostics.model import Fact, Record


@dataclass(slots=True)
class ExtractContext:
    """State that spans records of one input: open capacity-check blocks per thread, identities already emitted."""

    open_checks: dict[str, Any] = field(default_factory=dict)
    seen: set[tuple] = field(default_factory=set)
    nic_macs: dict[tuple[str, int], str] = field(default_factory=dict)
    scan_seen: set[bytes] = field(default_factory=set)  # the fast filter's cheap de-duplication (see logs.blocks)
    interest: Any = None  # logs.interest.Interest: which records get a log_record fact (None: the catalogue's)

    def once(self, key: tuple) -> bool:
        """True the first time `key` is seen (for facts that repeat thousands of times, like pings)."""
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


ExtractFn = Callable[[Record, ExtractContext], Iterable[Fact] | None]


@dataclass(slots=True, frozen=True)
class Extractor:
    name: str
    keywords: tuple[str, ...]
    func: ExtractFn
    in_trace: bool = False


EXTRACTORS: list[Extractor] = []
FLUSHERS: list[Callable[[ExtractContext], Iterable[Fact]]] = []


def extractor(*keywords: str, in_trace: bool = False) -> Callable[[ExtractFn], ExtractFn]:
    def register(func: ExtractFn) -> ExtractFn:
        EXTRACTORS.append(Extractor(func.__name__, keywords, func, in_trace))
        return func

    return register


def flusher(func: Callable[[ExtractContext], Iterable[Fact]]) -> Callable[[ExtractContext], Iterable[Fact]]:
    """Register a function that emits what is still open at the end of an input."""
    FLUSHERS.append(func)
    return func


def base(rec: Record, **fields: Any) -> dict[str, Any]:
    """The common fact fields of a record: time, evidence, job and logid keys."""
    out: dict[str, Any] = {
        "ts": rec.ts,
        "path": rec.path,
        "line": rec.line,
        "text": rec.message[:400],
        "job": rec.jobs[0] if rec.jobs else None,
        "work_job": rec.jobs[1] if len(rec.jobs) > 1 else None,
        "logid": rec.logid,
    }
    out.update(fields)
    return out


def extractors_by_keyword(in_trace_only: bool = False) -> dict[str, list[Extractor]]:
    index: dict[str, list[Extractor]] = {}
    for ext in EXTRACTORS:
        if in_trace_only and not ext.in_trace:
            continue
        for kw in ext.keywords:
            bucket = index.setdefault(kw, [])
            if ext not in bucket:
                bucket.append(ext)
    return index


def all_keywords() -> list[str]:
    seen: dict[str, None] = {}
    for ext in EXTRACTORS:
        for kw in ext.keywords:
            seen.setdefault(kw, None)
    return list(seen)


def keyword_regex(keywords: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in sorted(set(keywords), key=len, reverse=True)))
