"""Real pastes from public threads (tests/logs/pastes/, provenance in MANIFEST.toml) read as a person reads them.

For each paste the pre-stage must find the log lines a person counts, hand them over as clean lines (a record line
starts with its timestamp, nothing of the decoration is left), set aside what is no log, and say what it did.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timezone
from pathlib import Path

import pytest

from diagnostics.host.detect import detect_kind
from diagnostics.host.dmesg import parse_console
from diagnostics.host.evidence import facts_from_file
from diagnostics.logs.header import HEADER_RE
from diagnostics.logs.paste import PasteRepairs, detect_paste, repair_paste
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.logs.syslog import SYSLOG_RE, syslog_ts
from diagnostics.sources.discover import classify_file

PASTES = Path(__file__).parent / "pastes"
MANIFEST = tomllib.loads((PASTES / "MANIFEST.toml").read_text("utf-8"))
LOGS = MANIFEST["paste"]
CONSOLES = MANIFEST["console"]
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
BARE = re.compile(r"^(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\[[\w.$]+\] \(")
MARKUP = re.compile(r"^(?:`|> |\*\*|<pre>|<code>|\{code|\||x\s{2,})|(?:`|</pre>|</code>|\s\|)$")


def repaired(case):
    lines = (PASTES / case["file"]).read_text("utf-8").splitlines()
    is_paste, width = detect_paste(lines)
    repairs = PasteRepairs()
    return is_paste, list(repair_paste(lines, width, repairs)), repairs


def test_the_manifest_covers_every_fixture_and_no_reserved_thread():
    listed = {c["file"] for c in LOGS + CONSOLES}
    assert listed == {p.name for p in PASTES.glob("*.txt")}
    reserved_text = (Path("/work/shared/reference/reserved-threads.md"))
    if reserved_text.exists():
        reserved = set(re.findall(r"\b\d{3,5}\b", reserved_text.read_text().split("Pages kept")[0]))
        for case in LOGS:
            number = re.search(r"apache/cloudstack/(?:issues|pull)/(\d+)", case["url"])
            assert number is None or number.group(1) not in reserved, case["url"]


@pytest.mark.parametrize("case", LOGS, ids=lambda c: c["file"])
def test_the_paste_is_log_input_and_detected_as_a_paste(case):
    assert classify_file(str(PASTES / case["file"]))[0] == case["kind"]
    assert repaired(case)[0] is True


@pytest.mark.parametrize("case", LOGS, ids=lambda c: c["file"])
def test_the_records_a_person_counts_come_out_as_clean_lines(case):
    _, out, repairs = repaired(case)
    headers = [line for line in out if HEADER_RE.match(line) and TIMESTAMP.match(line)]
    journald = [line for line in out if SYSLOG_RE.match(line)]
    bare = [line for line in out if BARE.match(line)]
    assert (len(headers), len(journald), len(bare), len(out)) == (
        case["records"], case["syslog"], case["bare"], case["kept"]), out
    for line in out:
        stamp = TIMESTAMP.search(line)
        if stamp and HEADER_RE.match(line, stamp.start()):
            assert stamp.start() == 0, f"record not at the start of its line: {line!r}"
        assert not MARKUP.search(line), f"decoration left on {line!r}"


@pytest.mark.parametrize("case", LOGS, ids=lambda c: c["file"])
def test_the_repairs_are_stated(case):
    _, _, repairs = repaired(case)
    said = " ".join(repairs.describe())
    for word in case["repairs"]:
        assert word in said, (word, said)


@pytest.mark.parametrize("case", [c for c in LOGS if c["records"] or c["syslog"]], ids=lambda c: c["file"])
def test_the_reader_builds_the_same_records_and_says_paste_mode(case):
    stats = LogStats(case["file"])
    lines = (PASTES / case["file"]).read_text("utf-8").splitlines()
    recs = list(read_records(case["file"], ReadOptions(tz=timezone.utc, year=2025), stats, lines=lines))
    cloudstack = [r for r in recs if r.fmt not in ("orphan", "unparsed")]
    assert stats.orphans == 0  # nothing of the commentary became a record
    assert len(cloudstack) + stats.unparsed == case["records"] + case["syslog"]
    assert any(n.startswith("paste mode:") for n in stats.notes)


@pytest.mark.parametrize("case", [c for c in LOGS if "month" in c], ids=lambda c: c["file"])
def test_journald_month_names_of_the_hosts_locale_are_read(case):
    _, out, _ = repaired(case)
    m = SYSLOG_RE.match(out[0])
    assert syslog_ts(m, 2025, None, timezone.utc).month == case["month"]


def test_a_trace_copied_out_of_a_terminal_viewer_keeps_its_frames_in_order():
    case = next(c for c in LOGS if c["file"].startswith("gh11018"))
    _, out, repairs = repaired(case)
    assert [line.strip().split("(")[0] for line in out] == [
        "at com.cloud.api.ApiServer.handleRequest", "at com.cloud.api.ApiServlet.processRequestInContext",
        "at com.cloud.api.ApiServlet$1.run",
        "at org.apache.cloudstack.managed.context.impl.DefaultManagedContext$1.call",
        "at org.apache.cloudstack.managed.context.impl.DefaultManagedContext.callWithContext",
    ]
    assert repairs.breaks == []  # nothing before it to be glued to


def test_inline_code_spanning_lines_keeps_the_whole_record_and_drops_the_caption():
    case = next(c for c in LOGS if c["file"].startswith("gh4754"))
    _, out, _ = repaired(case)
    assert out[0].startswith("2021-03-05 01:38:37,166 DEBUG [c.c.u.s.SSHCmdHelper]")
    assert out[-1] == "Restore Libvirt ...           [Failed]"
    assert not any("management server log" in line or "The problem is" in line for line in out)


@pytest.mark.parametrize("case", CONSOLES, ids=lambda c: c["file"])
def test_a_guest_serial_console_is_attributed_to_the_guest_not_the_host(case):
    path = PASTES / case["file"]
    assert detect_kind(path.read_text("utf-8")) == "guest_console"
    assert classify_file(str(path)) == ("host", "guest_console")
    summary = parse_console(path.read_text("utf-8"))
    assert (summary.boots, summary.stage, summary.guest or "") == (case["boots"], case["stage"], case["guest"])
    facts, notes = facts_from_file(str(path))
    assert facts == []  # no KernelEvent of the guest's kernel is host evidence
    assert len(notes) == 1 and "attributed to the guest" in notes[0] and str(path) in notes[0]
