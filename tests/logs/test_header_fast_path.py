"""The inlined fast paths give what the general definitions give.

The builder's header path (reader._Assembler.header_record): `HEADER_RE`'s groups, `parse_ts` in the reader's zone,
`layout_name` and bounded job ids, for every header generation, stamp form (`,`/`.`, 1-9 fraction digits, ISO `T`),
zone kind (none, UTC, fixed offset, zone with DST rules) and NDC form, hostile ids included. The filter's one-hit
keyword test (blocks._one_keyword): the general `_message_keywords`, for ASCII, non-ASCII and undecodable text, CRLF."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import diagnostics.logs.blocks as blocks
from diagnostics.bounded import int_or_none
from diagnostics.facts.block_search import GENERIC
from diagnostics.facts.keywords import KEYWORD_BYTES
from diagnostics.logs.header import HEADER_RE, layout_name, ndc_jobs, parse_ts
from diagnostics.logs.reader import LogStats, ReadOptions, _Assembler

ZONES = [None, timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)),
         ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
NDCS = ["", "[]", "[ctx-5e6f7a8b, job-1201/job-1202, ctx-77aa01bc]", "ctx-a job-1/job-2 ctx-b", "job-1076",
        "job-" + "9" * 25 + "/job-5", "job-7/job-" + "8" * 40, "job-x job-9", "ctx-1a2b", "job-\u0661\u0662"]


def reference(line: str, tz) -> tuple | None:
    """The fields as the general definitions give them (what the builder did before the inlining)."""
    m = HEADER_RE.match(line)
    if m is None:
        return None
    ts_text, level, logger, thread, ndc, logid, message = m.groups()
    jm = __import__("re").search(r"job-(\d+)(?:/job-(\d+))?", ndc) if ndc and "job-" in ndc else None
    jobs = () if jm is None else tuple(i for i in (int_or_none(j) for j in jm.groups() if j) if i is not None)
    return (parse_ts(ts_text, tz), level, logger, thread, ndc, jobs, logid if logid else None, message,
            layout_name(ts_text, ndc, logid))


stamps = st.builds(
    lambda y, mo, d, h, mi, s, sep, frac_sep, frac: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}"
    + (f"{frac_sep}{frac}" if frac else ""),
    st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31), st.integers(0, 23), st.integers(0, 59),
    st.integers(0, 59), st.sampled_from([" ", "T"]), st.sampled_from([",", "."]),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9)))
threads = st.one_of(st.just(""), st.builds(lambda t, n: f"({t}:{n}) ", st.sampled_from(["Work-Job-Executor-3", "qtp1-7"]),
                                           st.sampled_from(NDCS)))
logids = st.sampled_from(["", "(logid:) ", "(logid:9c0e4a11) "])


@settings(max_examples=400, deadline=None)
@given(stamp=stamps, level=st.sampled_from(["DEBUG", "INFO ", "WARN ", "ERROR", "FATAL", "TRACE"]), thread=threads,
       logid=logids, zone=st.sampled_from(range(len(ZONES))), message=st.sampled_from(["Ping from Routing host 4(kvm04)", "", "ü x"]))
def test_inlined_header_fields_equal_the_general_definitions(stamp, level, thread, logid, zone, message):
    tz = ZONES[zone]
    line = f"{stamp} {level} [c.c.c.CapacityManagerImpl] {thread}{logid}{message}"
    asm = _Assembler("x.log", ReadOptions(tz=tz, tz_name=str(tz)), LogStats("x.log"), 2025, None)
    rec = asm.header_record(7, line)
    want = reference(line, tz)
    if want is None:
        assert rec is None
        return
    got = (rec.ts, rec.level, rec.logger, rec.thread, rec.ndc, rec.jobs, rec.logid, rec.message, rec.fmt)
    assert got == want
    if rec.ts is not None:  # equal instants are not enough: the same zone object and offset are kept
        assert (rec.ts.tzinfo, rec.ts.utcoffset()) == (want[0].tzinfo, want[0].utcoffset())


def test_job_ids_longer_than_twenty_digits_are_dropped_not_fatal():
    assert ndc_jobs("job-" + "9" * 5000 + "/job-5") == (5,)
    assert ndc_jobs("job-" + "9" * 21) == ()
    assert ndc_jobs("job-" + "9" * 20) == (int("9" * 20),)
    assert ndc_jobs("[ctx-5e6f7a8b, job-1201/job-1202, ctx-77aa01bc]") == (1201, 1202)


@settings(max_examples=300, deadline=None)
@given(before=st.sampled_from(["", "naïve ", "x \udcff ", "Größe: "]), after=st.sampled_from(["", " tail", " Größe ää"]),
       keyword=st.integers(0, len(KEYWORD_BYTES)), where=st.sampled_from(["message", "logger"]), crlf=st.booleans(),
       bad=st.booleans())
def test_one_hit_keyword_test_equals_the_general_one(before, after, keyword, where, crlf, bad):
    kw = KEYWORD_BYTES[keyword] if keyword < len(KEYWORD_BYTES) else b"ERROR "
    index = keyword if keyword < len(KEYWORD_BYTES) else GENERIC
    logger = b"c.c.X" + (kw if where == "logger" else b"")
    message = before.encode("utf-8", "surrogateescape") + (b"\xff" if bad else b"") + (kw if where == "message" else b"") + after.encode()
    raw = b"2025-03-10 15:00:00,123 DEBUG [" + logger + b"] (t-1:[]) (logid:) " + message + (b"\r\n" if crlf else b"\n")
    buf = bytearray(b"2025-03-10 15:00:00,000 DEBUG [c.c.Y] (t-1:[]) (logid:) first\n" + raw)
    start, stop = len(buf) - len(raw), len(buf)
    hit = (index, buf.index(kw, start) + len(kw))
    asm = _Assembler("x.log", ReadOptions(tz=timezone.utc), LogStats("x.log"), 2025, None)
    rec = blocks._parse(buf, start, stop, 2, asm, memoryview(buf))
    assert rec is not None and not rec.extra
    assert blocks._one_keyword(rec.message, buf, stop, hit) == blocks._message_keywords(rec, buf, start, stop, [hit])
