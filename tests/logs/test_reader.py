"""The reader: every header layout CloudStack has shipped, continuation lines, journald wrapping and pastes."""

from __future__ import annotations

from datetime import timezone

import pytest

from diagnostics.logs.reader import LogStats, ReadOptions, read_records

UTC = ReadOptions(tz=timezone.utc, tz_name="UTC")


def records(text: str, opts: ReadOptions = UTC, path: str = "management-server.log"):
    stats = LogStats(path)
    return list(read_records(path, opts, stats, lines=text.splitlines())), stats


@pytest.mark.parametrize(
    "line, layout, thread, jobs, logid, message",
    [
        # 4.20+ log4j2: NDC rendered as a Java list, logid may be empty
        ('2025-01-02 03:04:06,004 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-146:[ctx-3da299cf, job-1025/job-1171, ctx-b872c7ac, FirstFitRoutingAllocator]) (logid:6d42f2b9) Checking if host',
         "log4j2", "Work-Job-Executor-146", (1025, 1171), "6d42f2b9", "Checking if host"),
        ("2025-01-02 03:04:07,001 INFO  [cloud.agent.Agent] (AgentRequest-Handler-4:[]) (logid:) Processing command",
         "log4j2", "AgentRequest-Handler-4", (), None, "Processing command"),
        # single space after the level
        ("2025-01-02 03:04:07,001 WARN [cloud.agent.Agent] (AgentRequest-Handler-4:[]) (logid:) x",
         "log4j2", "AgentRequest-Handler-4", (), None, "x"),
        # 4.15-4.19 log4j 1.x with logid
        ("2021-06-01 10:00:00,100 DEBUG [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-17:ctx-3d84aa87 job-61/job-62 ctx-25941f70) (logid:fc577e10) Start",
         "log4j1-logid", "Work-Job-Executor-17", (61, 62), "fc577e10", "Start"),
        ("2021-06-01 10:00:00,100 DEBUG [cloud.agent.Agent] (agentRequest-Handler-5:null) (logid:10a45dcc) Request",
         "log4j1-logid", "agentRequest-Handler-5", (), "10a45dcc", "Request"),
        # up to 4.14: no logid
        ("2018-02-03 04:05:06,007 DEBUG [c.c.a.ApiServlet] (Job-Executor-11:job-1076) done", "log4j1", "Job-Executor-11", (1076,), None, "done"),
        # system VM agent log: ISO T, no logid
        ("2025-09-21T20:47:12,447 INFO  [cloud.agent.Agent] (main:null) Agent started", "log4j1-iso", "main", (), None, "Agent started"),
    ],
)
def test_every_header_generation_parses(line, layout, thread, jobs, logid, message):
    (rec,), stats = records(line)
    assert rec.fmt == layout
    assert rec.thread == thread
    assert rec.jobs == jobs
    assert rec.logid == logid
    assert rec.message == message
    assert rec.ts is not None and rec.ts.tzinfo is timezone.utc
    assert stats.records == 1 and stats.unparsed == 0


def test_iso_t_timestamp_is_the_same_instant_as_space_form():
    (a,), _ = records("2025-01-02T03:04:05,678 INFO  [x.Y] (t:[]) (logid:) m")
    (b,), _ = records("2025-01-02 03:04:05,678 INFO  [x.Y] (t:[]) (logid:) m")
    assert a.ts == b.ts


def test_stack_trace_lines_belong_to_their_record_and_orphans_are_kept():
    text = """\tat com.cloud.Orphan.frame(Orphan.java:1)
        at com.cloud.Orphan.other(Orphan.java:2)
2025-03-10 16:20:31,455 WARN  [resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) LibvirtException 
org.libvirt.LibvirtException: internal error: process exited while connecting to monitor
\tat org.libvirt.ErrorHandler.processError(Unknown Source)
        at org.libvirt.Connect.domainCreateXML(Unknown Source)
Caused by: java.lang.RuntimeException: inner
\t... 12 more
2025-03-10 16:20:31,700 WARN  [kvm.resource.LibvirtComputingResource] (AgentStatsCollector-1:[]) (logid:) Couldn't retrieve free memory, returning -1.
"""
    recs, stats = records(text, path="agent.log")
    assert [r.fmt for r in recs] == ["orphan", "log4j2", "log4j2"]
    assert recs[0].extra == ["        at com.cloud.Orphan.other(Orphan.java:2)"]
    assert recs[1].line == 3 and len(recs[1].extra) == 5 and recs[1].extra[-1] == "\t... 12 more"
    assert recs[2].line == 9
    assert stats.orphans == 1 and stats.unparsed == 1 and stats.records == 2
    assert stats.side == "agent"


def test_journald_wrapped_lines_get_an_inferred_year_and_say_so():
    text = """Sep 03 01:12:08 mgmt01 java[2720]: WARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:ctx-2d3e4f5a) (logid:2d3e4f5a) Agent is disconnected but the host is still up: Host[-4-Routing] state: Enabled
Sep 03 01:12:08 mgmt01 java[2720]: com.cloud.exception.AgentUnavailableException: Resource [Host:4] is unreachable: Host 4: x
Sep 03 01:12:08 mgmt01 java[2720]: \tat com.cloud.agent.manager.AgentAttache.send(AgentAttache.java:400)
Sep 03 01:12:09 mgmt01 systemd[1]: Started Session 4 of user root.
"""
    recs, stats = records(text, ReadOptions(tz=timezone.utc, tz_name="UTC", year=2025))
    assert [r.fmt for r in recs] == ["syslog", "unparsed"]
    assert recs[0].ts.year == 2025 and recs[0].ts.month == 9 and recs[0].level == "WARN"
    assert recs[0].logid == "2d3e4f5a" and len(recs[0].extra) == 2
    assert stats.unparsed == 1
    assert any("no year or zone" in n and "2025" in n for n in stats.notes)


def test_syslog_year_rolls_back_for_months_after_the_reference():
    from diagnostics.logs.reader import _Assembler  # noqa: F401  (year logic lives in syslog_ts)
    import re

    from diagnostics.logs.syslog import SYSLOG_RE, syslog_ts

    m = SYSLOG_RE.match("Dec 31 23:59:59 h java[1]: INFO  [a.B] (t:null) x")
    assert syslog_ts(m, 2026, 1, timezone.utc).year == 2025  # a December line read in January is last year's
    assert re.match(r"\d", "1")


ORIGINAL = [
    "2025-03-10 14:02:11,297 ERROR [c.c.a.ApiAsyncJobDispatcher] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Unexpected exception while executing org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin",
    'com.cloud.exception.InvalidParameterValueException: While the VM is running, only scalling up it is supported. New service offering {"memory": 2048, "speed": 2000, "cpu": 2} should have at least one value (ram, speed or cpu) greater than the current values {"memory": 4096, "speed": 2000, "cpu": 2}.',
    "\tat com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:2126)",
    "2025-03-10 14:02:11,305 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Complete async job-1201, jobStatus: FAILED, resultCode: 431, result: null",
]


def ticket_paste(lines: list[str], width: int) -> str:
    """What a ticket system does: fold at a fixed width mid-word, quote, auto-link frames, blank line between entries."""
    out = []
    for line in lines:
        if line.startswith("2025") and out:
            out.append("")
        line = line.replace("(UserVmManagerImpl.java:2126)", "([UserVmManagerImpl.java:2126](https://github.com/apache/cloudstack/blob/main/x.java#L2126))")
        for i in range(0, len(line), width):
            out.append("> " + line[i : i + width])
    return "\n".join(out)


@pytest.mark.parametrize("width", [72, 80, 100])
def test_ticket_paste_is_repaired_and_the_repairs_are_stated(width):
    recs, stats = records(ticket_paste(ORIGINAL, width), path="ticket.txt")
    assert [r.fmt for r in recs] == ["log4j2", "log4j2"]
    first = recs[0]
    assert first.logid == "9c0e4a11"
    assert first.message == ORIGINAL[0].split("(logid:9c0e4a11) ", 1)[1]
    assert first.extra[0] == ORIGINAL[1]
    assert first.extra[1] == ORIGINAL[2]
    assert recs[1].message.startswith("Complete async job-1201")
    notes = " ".join(stats.notes)
    assert "quotes" in notes and f"hard-wrapped at {width}" in notes and "links" in notes and "blank" in notes


def test_plain_log_is_not_mistaken_for_a_paste():
    text = "\n".join(
        f"2025-01-02 03:04:{i:02d},000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-1:[]) (logid:) Ping from Routing host 4(kvm01)"
        for i in range(30)
    )
    recs, stats = records(text)
    assert len(recs) == 30 and not any("paste" in n for n in stats.notes)


def test_lines_that_match_no_format_are_counted_not_dropped():
    recs, stats = records("hello\nworld\n")
    assert stats.records == 0 and stats.unparsed == 1 and recs[0].extra == ["world"]
