"""Lines -> records. A record is a header line plus its continuation lines.

Header lines are recognised in every layout of `header.py`, also inside a journald/syslog wrapper, and (in paste
mode) after repairing what ticket systems do to pasted lines. A line that is no header continues the current record
(Java stack traces, domain XML, wrapped command bodies); lines before the first header form an orphan record, except
that an exception line there (`com.cloud.exception.X: msg`, a header-less excerpt from a ticket, or the tail of a
trace a file starts in) opens an `exception` record: no time, no level, its frames and `Caused by:` lines as
continuation, so its exceptions are never lost. Nothing is dropped: foreign lines (e.g. a kernel line in a syslog
file) become `unparsed` records and are counted.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from diagnostics.logs.header import (BARE_HEADER_RE, ELIDED_HEADER_RE, HEADER_RE, ORIGIN_RE, PYTHON_LEVELS, PYTHON_LOGGING_RE,
                                     layout_name, layout_of, ndc_jobs, offset_suffix, parse_ts)
from diagnostics.logs.paste import PasteRepairs, detect_paste, repair_paste
from diagnostics.logs.record_fact import EXCEPTION_LINE_RE, side_of_record
from diagnostics.logs.quoted import known_message
from diagnostics.logs.syslog import SYSLOG_RE, syslog_ts
from diagnostics.model import Record
from diagnostics.sources.files import ReadStats, display_name, iter_text_lines

SNIFF_LINES = 200
# header.layout_name by (log4j2 NDC `[...]`, a logid field, ISO `T`), for stamps HEADER_RE matched (`T` at index 10)
_LAYOUTS = {(log4j2, logid, iso): layout_name("2025-01-02T03:04:05" if iso else "2025-01-02 03:04:05",
                                              "[]" if log4j2 else None, "0" if logid else None)
            for log4j2 in (False, True) for logid in (False, True) for iso in (False, True)}
MAX_CONTINUATION = 5000  # lines kept per record; the rest are counted, not stored


@dataclass(slots=True)
class LogStats:
    """Per-input summary shown in reports (`inputs`): what was read and what was assumed."""

    path: str
    records: int = 0
    unparsed: int = 0
    orphans: int = 0
    layouts: Counter[str] = field(default_factory=Counter)
    side: str = "unknown"  # management | agent | unknown
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    dropped_continuation: int = 0
    notes: list[str] = field(default_factory=list)
    read: ReadStats = field(default_factory=ReadStats)
    reader: str = "exact"  # exact (every line parsed) | fast (only the records the filter points at; logs.blocks)
    side_votes: Counter[str] = field(default_factory=Counter)  # per-record sides seen (see file_side)

    @property
    def errors(self) -> list[str]:
        return self.read.errors

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": "log",
            "side": self.side,
            "records": self.records,
            "unparsed": self.unparsed,
            "layouts": dict(self.layouts),
            "bytes": self.read.bytes_read,
            "lines": self.read.lines,
            "compressed": self.read.compressed,
            "truncated_lines": self.read.truncated_lines,
            "decode_errors": self.read.decode_errors,
            "first": self.first_ts.isoformat() if self.first_ts else None,
            "last": self.last_ts.isoformat() if self.last_ts else None,
            "reader": self.reader,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class ReadOptions:
    tz: tzinfo | None = None
    tz_name: str = "UTC"
    paste: bool | None = None  # None: autodetect
    year: int | None = None  # for year-less syslog stamps; None: infer
    interest: Any = None  # diagnostics.logs.interest.Interest: travels with the options to worker processes
    # text that is no plain log (a ticket paste, prose): a header-less line CloudStack's catalogue knows (a failure or
    # benign message quoted without its header) becomes a record of its own instead of an orphan line
    message_records: bool = False


def _catalogue(opts: ReadOptions):
    from diagnostics.catalogue import load_catalogue

    return opts.interest.catalogue if opts.interest is not None else load_catalogue()


class _Assembler:
    """Stateful line classifier for one input."""

    def __init__(self, path: str, opts: ReadOptions, stats: LogStats, year: int, ref_month: int | None,
                 timeless: bool = False) -> None:
        self.path = path
        self.timeless = timeless or opts.message_records  # records without a time are read (see _timeless_record)
        self.opts = opts
        self.stats = stats
        self.year = year
        self.ref_month = ref_month
        self.current: Record | None = None
        self.syslog_seen = False
        self.catalogue = None
        if opts.message_records:
            self.catalogue = _catalogue(opts)
        # a fixed-offset zone (or none) is parsed with the stamp in one call; None: zones with rules (header.parse_ts)
        suffix = offset_suffix(opts.tz)
        self._suffix = suffix if suffix or opts.tz is None else None

    def _ts(self, text: str) -> datetime | None:
        """header.parse_ts of a stamp, without its per-call zone lookup."""
        if self._suffix is not None:
            try:
                return datetime.fromisoformat(text + self._suffix)
            except ValueError:
                pass  # `.` or 1-9 fraction digits: parse_ts knows those
        return parse_ts(text, self.opts.tz)

    def _header(self, m, ts: datetime | None, lineno: int, layout: str | None) -> Record:
        """A record from a matched header; `layout` None: name it from the match (timestamped layouts)."""
        if m.re is HEADER_RE:
            ts_text, level, logger, thread, ndc, logid, message = m.groups()
        else:
            ts_text = None
            level, logger, thread, ndc, logid, message = m.groups()
        return Record(
            self.path, lineno, ts, level, logger, thread, ndc, ndc_jobs(ndc), logid if logid else None, message,
            fmt=layout if layout is not None else layout_name(ts_text, ndc, logid),
        )

    def header_record(self, lineno: int, line: str) -> Record | None:
        """The record a timestamped log4j header line starts (None: the line is no such header), also after a
        collector's origin token (`mgmt01 2024-...`), which the record keeps."""
        first = line[:1]
        if first.isdigit():  # nearly every record: `_header` inlined (it was a third of the cost of a record)
            m = HEADER_RE.match(line)
            if m is None:
                return None
            ts_text, level, logger, thread, ndc, logid, message = m.groups()
            return Record(self.path, lineno, self._ts(ts_text), level, logger, thread, ndc,
                          ndc_jobs(ndc) if ndc and "job-" in ndc else (), logid or None, message,
                          fmt=_LAYOUTS[ndc is not None and ndc[:1] == "[", logid is not None, ts_text[10] == "T"])
        if first.isalpha() or first == "[":
            o = ORIGIN_RE.match(line)
            m = HEADER_RE.match(line, o.end()) if o is not None else None
            if m is not None:
                rec = self._header(m, parse_ts(m.group(1), self.opts.tz), lineno, None)
                rec.origin = o.group("origin")
                return rec
        return None

    @staticmethod
    def starts_record(line: str) -> bool:
        """Would `feed` start a new record with this line (after a plain log4j record)? The fast filter cuts
        records with this, so both paths see the same records."""
        first = line[:1]
        if first.isdigit() and HEADER_RE.match(line) is not None:
            return True
        if (first.isalpha() or first == "[") and (o := ORIGIN_RE.match(line)) is not None and HEADER_RE.match(line, o.end()):
            return True
        return first.isalnum() and SYSLOG_RE.match(line) is not None

    def feed(self, lineno: int, line: str) -> Record | None:
        """Consume one line; return the record it completed, if any."""
        rec = self.header_record(lineno, line)
        if rec is None and line[:1].isalnum():
            s = SYSLOG_RE.match(line)
            if s is not None:
                return self._syslog(s, lineno)
        if rec is None and self.timeless:
            rec = self._timeless_record(lineno, line)
        if rec is not None:
            done, self.current = self.current, rec
            return done
        return self._continue(lineno, line)

    def _timeless_record(self, lineno: int, line: str) -> Record | None:
        """A record whose header has no time (message records only: pastes and prose): the CONSOLE layout pasted
        without its timestamp, a header the writer elided (`... DEBUG c.c.u.s.SSHCmdHelper ...`), or the Python
        logging layout of the setup scripts (`DEBUG:root:...`). It keeps its level and logger; its time is unknown."""
        first = line[:1]
        if first.isupper():
            m = BARE_HEADER_RE.match(line)
            if m is not None and m.group("thread") is not None:  # `(thread:ndc)` too: a sentence may start `INFO [x]`
                level, logger, thread, ndc, logid, message = m.groups()
                return Record(self.path, lineno, None, level, logger, thread, ndc, ndc_jobs(ndc), logid or None, message,
                              fmt="timeless")
            m = PYTHON_LOGGING_RE.match(line)
            if m is not None:
                level = PYTHON_LEVELS.get(m.group("level"), m.group("level"))
                return Record(self.path, lineno, None, level, m.group("logger"), None, None, (), None, m.group("msg"),
                              fmt="python-logging")
        elif first in ".\u2026[":
            m = ELIDED_HEADER_RE.match(line)
            if m is not None:
                ndc = m.group("ndc")
                return Record(self.path, lineno, None, m.group("level"), m.group("blogger") or m.group("logger"),
                              m.group("thread"), ndc, ndc_jobs(ndc), m.group("logid") or None, m.group("msg"), fmt="elided")
        return None

    def _syslog(self, s, lineno: int) -> Record | None:
        self.syslog_seen = True
        rest = s.group("rest")
        ts = syslog_ts(s, self.year, self.ref_month, self.opts.tz)
        inner = HEADER_RE.match(rest) if rest[:1].isdigit() else None
        if inner is not None:
            rec = self._header(inner, parse_ts(inner.group("ts"), self.opts.tz), lineno, "syslog+" + layout_of(inner))
        else:
            bare = BARE_HEADER_RE.match(rest)
            if bare is not None:
                rec = self._header(bare, ts, lineno, "syslog")
            elif self.current is not None and self.current.fmt.startswith("syslog") and _is_continuation(rest):
                return self._continue(lineno, rest)
            else:
                rec = Record(self.path, lineno, ts, None, s.group("prog"), None, None, (), None, rest, fmt="unparsed")
                rec.note = f"syslog line from {s.group('prog')} on {s.group('host')}"
        done, self.current = self.current, rec
        return done

    def _continue(self, lineno: int, line: str) -> Record | None:
        cur = self.current
        if cur is None or (cur.fmt in ("orphan", "exception") and EXCEPTION_LINE_RE.match(line)):
            fmt = "exception" if EXCEPTION_LINE_RE.match(line) else "orphan"
            if fmt == "orphan" and self._known_message(line):
                fmt = "message"
            self.current = Record(self.path, lineno, None, None, None, None, None, (), None, line, fmt=fmt)
            return cur
        if cur.fmt in ("orphan", "message") and self._known_message(line):
            self.current = Record(self.path, lineno, None, None, None, None, None, (), None, line, fmt="message")
            return cur
        if len(cur.extra) < MAX_CONTINUATION:
            cur.extra.append(line)
        else:
            self.stats.dropped_continuation += 1
        return None

    def _known_message(self, line: str) -> bool:
        """A header-less line quoting a message csdiag knows (message records only; see logs/quoted.py)."""
        return self.catalogue is not None and known_message(line, self.catalogue)

    def flush(self) -> Record | None:
        done, self.current = self.current, None
        return done


def file_side(votes: Counter[str], path: str) -> str:
    """The side shown for a whole input, from the per-record sides: one side, or `mixed` when records of several
    sides were read (a paste of both logs); the file name breaks ties when no record named its logger."""
    sides = [side for side in ("agent", "management", "systemvm") if votes.get(side)]
    if len(sides) > 1:
        return "mixed"
    if sides:
        return sides[0]
    base = os.path.basename(path)
    if base.startswith("agent.log"):
        return "agent"
    return "management" if base.startswith(("management-server.log", "apilog.log")) else "unknown"


def side_of_lines(path: str, lines: Iterable[str]) -> str:
    """`file_side` of the header lines among `lines` (a sniffed head)."""
    return file_side(side_votes_of_lines(lines), path)


def side_votes_of_lines(lines: Iterable[str]) -> Counter[str]:
    """Per-record sides of the header lines among `lines`."""
    votes: Counter[str] = Counter()
    for line in lines:
        m = HEADER_RE.match(line) if line[:1].isdigit() else None
        if m is not None:
            rec = Record("", 0, None, m.group("level"), m.group("logger"), m.group("thread"), None, (), None, "", fmt="header")
            side = side_of_record(rec)
            if side is not None:
                votes[side] += 1
    return votes


def _is_continuation(text: str) -> bool:
    t = text.lstrip()
    return (
        text[:1] in ("\t", " ")
        or t.startswith(("at ", "Caused by:", "... ", "Suppressed:"))
        or (":" in t[:200] and t.split(":", 1)[0].rsplit(".", 1)[-1].endswith(("Exception", "Error")))
    )


def _infer_year(path: str, year: int | None) -> tuple[int, int | None, str | None]:
    if year is not None:
        return year, None, None
    try:
        mtime = datetime.fromtimestamp(os.stat(path).st_mtime) if path != "-" else datetime.now()
    except OSError:
        mtime = datetime.now()
    return mtime.year, mtime.month, f"from the file's modification time ({mtime:%Y-%m-%d})"


def read_records(path: str, opts: ReadOptions, stats: LogStats | None = None, lines: Iterable[str] | None = None,
                 stream=None) -> Iterator[Record]:
    """Stream the records of one input in file order. `lines` overrides reading `path` (used for text snippets);
    `stream` is `path` already opened (logs.stream sniffed its first block)."""
    stats = stats if stats is not None else LogStats(display_name(path))
    source = iter(lines) if lines is not None else iter_text_lines(path, stats.read, stream=stream)
    head = list(itertools.islice(source, SNIFF_LINES))
    body: Iterable[str] = itertools.chain(head, source)

    paste, width = (opts.paste, None)
    if paste is None or paste:
        detected, width = detect_paste(head)
        paste = detected if paste is None else True
    repairs = PasteRepairs()
    if paste:
        known = None
        if opts.message_records:
            catalogue = _catalogue(opts)
            known = lambda text: known_message(text, catalogue)  # noqa: E731
        body = repair_paste(body, width, repairs, known)

    year, ref_month, year_note = _infer_year(path, opts.year)
    # text with no timestamped header at its head (a setup.log, an excerpt of elided headers) may hold records
    # without a time; a log4j log never starts them mid-record, so it keeps the rules of the fast path
    timeless = not any(line[:1].isdigit() and HEADER_RE.match(line) for line in head)
    asm = _Assembler(display_name(path) if lines is None else path, opts, stats, year, ref_month, timeless)
    side_votes = stats.side_votes

    def account(rec: Record) -> Record:
        if paste and rec.origin is None and repairs.origins:
            rec.origin = repairs.origins.get(rec.line)  # the collector's token the pre-stage took off the line
        if rec.fmt == "orphan":
            stats.orphans += 1
            stats.unparsed += 1
        elif rec.fmt == "unparsed":
            stats.unparsed += 1
        else:
            stats.records += 1
            stats.layouts[rec.fmt] += 1
            side = side_of_record(rec)
            if side is not None:
                side_votes[side] += 1
        if rec.ts is not None:
            if stats.first_ts is None:
                stats.first_ts = rec.ts
            stats.last_ts = rec.ts
        return rec

    breaks = repairs.breaks  # filled by the paste pre-stage as it goes: a block that must not continue the record before
    for lineno, line in enumerate(body, start=1):
        if breaks and breaks[-1] == lineno:
            done = asm.flush()
            if done is not None:
                yield account(done)
        done = asm.feed(lineno, line)
        if done is not None:
            yield account(done)
    done = asm.flush()
    if done is not None:
        yield account(done)

    stats.side = file_side(side_votes, stats.path)
    if paste:
        stats.notes.extend(repairs.describe() or ["paste mode: no repairs were needed"])
    if asm.syslog_seen:
        stats.notes.append(
            f"journald/syslog timestamps carry no year or zone: year {year} assumed"
            + (f" {year_note}" if year_note else "")
            + f", zone {opts.tz_name}"
        )
    timeless = sum(stats.layouts.get(name, 0) for name in ("timeless", "elided", "python-logging"))
    if timeless:
        stats.notes.append(f"{timeless} records have no time (a header pasted without its timestamp, elided with "
                           "'...', or a setup script's Python logging layout): read with their level and logger only")
    if stats.dropped_continuation:
        stats.notes.append(f"{stats.dropped_continuation} continuation lines beyond {MAX_CONTINUATION} per record were not kept")
    if stats.read.truncated_lines:
        stats.notes.append(f"{stats.read.truncated_lines} over-long lines were cut at 1 MiB")
    if stats.read.decode_errors:
        stats.notes.append(f"{stats.read.decode_errors} lines were not valid UTF-8 (bytes replaced)")
