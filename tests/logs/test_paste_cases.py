"""The paste pre-stage, one behaviour at a time: what an operator's paste looks like, what the builder receives."""

from __future__ import annotations

from datetime import timezone

import pytest

from diagnostics.logs.paste import PasteRepairs, detect_paste, repair_paste, scan_material
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.sources.discover import classify_head

REC = "2025-03-10 14:02:11,297 ERROR [c.c.a.ApiAsyncJobDispatcher] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Unexpected exception"
REC2 = "2025-03-10 14:02:11,305 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Complete async job-1201, jobStatus: FAILED"
EXC = "com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM[User|i-2-42-VM]Scope=interface com.cloud.dc.DataCenter; id=1"
FRAME = "\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1120)"


def repair(text: str) -> tuple[list[str], PasteRepairs]:
    lines = text.splitlines()
    repairs = PasteRepairs()
    return list(repair_paste(lines, detect_paste(lines)[1], repairs)), repairs


def records(text: str):
    stats = LogStats("ticket.txt")
    recs = list(read_records("ticket.txt", ReadOptions(tz=timezone.utc, year=2025), stats, lines=text.splitlines()))
    return recs, stats


@pytest.mark.parametrize("prefix, origin", [
    ("mgmt01 ", "mgmt01"), ("kvm03: ", "kvm03"), ("[mgmt01] ", "mgmt01"), ("mgmt02.example.org | ", "mgmt02.example.org"),
    ("management-server.log:", "management-server.log"), ("/var/log/cloudstack/agent/agent.log:", "/var/log/cloudstack/agent/agent.log"),
])
def test_a_name_before_the_timestamp_is_removed_and_kept_as_the_origin(prefix, origin):
    out, repairs = repair(f"{prefix}{REC}\n{prefix}{REC2}\n")
    assert out == [REC, REC2]
    assert repairs.origins == {1: origin, 2: origin}
    assert "host, server or file name" in " ".join(repairs.describe())


@pytest.mark.parametrize("sentence", [
    "I see this in the log: {r}",
    "Dans le journal je vois « {r} » puis plus rien.",
    "日志里有这一行：{r}",
    "В логе: \"{r}\"",
    "the log says `{r}` after the scale",
])
def test_a_record_quoted_inside_prose_in_any_language_is_found(sentence):
    out, repairs = repair(sentence.format(r=REC) + "\n")
    assert out == [REC]
    assert repairs.in_prose == 1


@pytest.mark.parametrize("decorated", [
    f"- {REC}", f"* {REC}", f"1. {REC}", f"| {REC} | mgmt01 |", f"| mgmt01 | {REC} |", f"**{REC}**",
    REC.replace(" ERROR ", " **ERROR** "), f"<pre>{REC}</pre>", f"{{code}}{REC}{{code}}", f"`{REC}`", f"    {REC}",
])
def test_bullets_cells_bold_tags_and_inline_code_are_removed_from_a_record(decorated):
    out, _ = repair(decorated + "\n")
    assert out == [REC]


def test_line_numbers_of_a_paste_site_are_removed_and_count_on_through_frames():
    text = "\n".join(f"{n:>3} | {line}" for n, line in enumerate([REC, EXC, FRAME, "", REC2], start=41))
    out, repairs = repair(text)
    assert out == [REC, EXC, FRAME, REC2]
    assert repairs.numbers == 5


def test_shell_prompts_are_set_aside_and_name_the_host_of_what_follows():
    text = f"[root@kvm01 ~]# grep -B2 ERROR /var/log/cloudstack/agent/agent.log\n{REC}\n{EXC}\n{FRAME}\n$ tail -1 x.log\n{REC2}\n"
    out, repairs = repair(text)
    assert out == [REC, EXC, FRAME, REC2]
    assert repairs.prompts == 2 and repairs.origins == {1: "kvm01", 4: "kvm01"}


def test_a_header_less_trace_after_prose_starts_its_own_block_not_glued_to_the_record_before():
    text = f"First the scale:\n\n{REC}\n\nand later, on the other server, this one:\n\n{EXC}\n{FRAME}\n\t... 12 more\n"
    out, repairs = repair(text)
    assert out == [REC, EXC, FRAME, "\t... 12 more"]
    assert repairs.breaks == [2]  # the trace is a block of its own; the builder must not continue REC with it
    assert repairs.set_aside == 2


def test_frames_continuing_after_a_blank_line_stay_with_their_record():
    out, repairs = repair(f"{REC}\n{EXC}\n\n{FRAME}\n")
    assert out == [REC, EXC, FRAME] and repairs.breaks == []


def test_a_wrap_that_fell_on_a_space_gets_its_space_back():
    width = REC.index(" Unexpected") + 1  # the first piece of REC ends on that space, which the paste trims
    pieces = [REC[i:i + width].rstrip(" ") for i in range(0, len(REC), width)]
    long = REC2 + ", resultCode: 530, result: org.apache.cloudstack.api.response.ExceptionResponse/null/{\"uuidList\":[],\"errorcode\":530}"
    pieces2 = [long[i:i + width].rstrip(" ") for i in range(0, len(long), width)]
    assert len(pieces[0]) == width - 1 and len(pieces2[0]) == len(pieces2[1]) == width  # what the case is about
    out, repairs = repair("\n".join(pieces + pieces2))
    assert out == [REC, long]
    assert repairs.width == width and repairs.joined_at_space >= 1
    assert "where the wrap fell on a space" in " ".join(repairs.describe())


def test_a_fragment_after_a_blank_line_is_not_glued_to_a_wrapped_record():
    width = 72
    wrapped = [REC[i:i + width] for i in range(0, len(REC), width)]
    wrapped2 = [REC2[i:i + width] for i in range(0, len(REC2), width)]
    text = "\n".join(wrapped + wrapped2 + ["", "ctx-9c0e4a11 job-1201"])
    out, repairs = repair(text)
    assert out == [REC, REC2]  # the piece after the blank line is not taken for the tail of REC2
    assert repairs.set_aside == 1


def test_text_without_any_log_material_is_passed_on_unchanged_and_says_so():
    out, repairs = repair("```\nhello\nworld\n```\n")
    assert out == ["```", "hello", "world", "```"]
    assert repairs.passed_unchanged and "passed on unchanged" in " ".join(repairs.describe())


def test_a_plain_log_is_no_paste():
    assert detect_paste([REC, EXC, FRAME, REC2])[0] is False


@pytest.mark.parametrize("line, month", [
    ("avril 15 12:00:01 kvm01 java[54135]: INFO  [cloud.agent.Agent] (main:null) (logid:) Agent started", 4),
    ("déc. 03 01:12:08 mgmt01 java[2720]: WARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-2d3e4f5a) (logid:2d3e4f5a) x", 12),
    ("Dez 03 01:12:08 mgmt01 java[2720]: WARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-2d3e4f5a) (logid:2d3e4f5a) x", 12),
    ("2月 10 08:59:58 mgmt01 java[1863]: INFO  [o.a.c.ServerDaemon] (main:null) (logid:) Server configuration file found", 2),
    ("мар 05 08:59:58 mgmt01 java[1863]: INFO  [o.a.c.ServerDaemon] (main:null) (logid:) Server configuration file found", 3),
    ("3월 05 08:59:58 mgmt01 java[1863]: INFO  [o.a.c.ServerDaemon] (main:null) (logid:) x", 3),
])
def test_journald_lines_in_other_locales_become_records_with_their_month(line, month):
    (rec,), stats = records(line)
    assert rec.fmt == "syslog" and rec.ts.month == month and rec.level in ("INFO", "WARN")
    assert stats.records == 1


def test_records_found_in_a_chat_paste_reach_the_reader_as_records():
    text = f"mgmt01 {REC}\n{EXC}\n{FRAME}\n\nany idea?\n"
    recs, stats = records(text)
    assert [r.fmt for r in recs] == ["log4j2"]
    assert recs[0].extra == [EXC, FRAME]
    assert stats.orphans == 0 and any("host, server or file name" in n for n in stats.notes)


@pytest.mark.parametrize("text, kind", [
    (f"{EXC}\n{FRAME}\n", "log"),  # a header-less stack trace is log input
    (f"Here it is:\n\n> {EXC}\n> {FRAME}\n", "log"),
    ("Mar 10 17:04:09 mgmt01 systemd[1]: Started CloudStack Management Server.\n", "log"),  # journald, no CloudStack line
    ("<pre>DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-4:null) Ping from 66</pre>\n", "log"),
    (f"the log says {REC} after the scale\n", "log"),
    ("I upgraded to 4.19 and now scaling fails. Any idea?\n\nThanks,\nJohn\n", "unknown"),
    (f"The exception class {EXC.split(':')[0]} is mentioned once in prose.\n", "unknown"),
])
def test_unknown_format_only_when_nothing_is_a_record_a_trace_or_host_output(text, kind):
    assert classify_head(text.encode())[0] == kind


def test_material_counts_what_a_person_counts():
    m = scan_material([f"> mgmt01 {REC}", f"> {EXC}", f"> {FRAME}", "> ", "> thanks"])
    assert (m.records, m.traces) == (1, 2)


def test_journald_lines_collected_with_a_host_prefix_are_read_with_their_origin():
    text = ("kvm03: Sep 03 01:12:08 kvm03 java[2720]: WARN  [cloud.agent.Agent] (agentRequest-Handler-1:null) (logid:) Lost connection\n"
            "kvm04: Sep 03 01:12:09 kvm04 java[2711]: INFO  [cloud.agent.Agent] (Agent-Handler-1:null) (logid:) Connected\n")
    out, repairs = repair(text)
    assert [line.split(" ", 3)[3][:5] for line in out] == ["kvm03", "kvm04"]
    assert repairs.origins == {1: "kvm03", 2: "kvm04"}
    recs, _ = records(text)
    assert [r.level for r in recs] == ["WARN", "INFO"]


def test_a_mailing_list_reply_quoting_a_quote_is_read():
    text = f"On Tue, Ops wrote:\n> Hi,\n> > {REC}\n> > {EXC}\n> > {FRAME}\n> \n> did you check the capacity?\n"
    out, repairs = repair(text)
    assert out == [REC, EXC, FRAME]
    assert repairs.quotes >= 5 and repairs.set_aside >= 2
