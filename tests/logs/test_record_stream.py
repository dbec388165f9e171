"""The one record builder: per-record side, a collector's origin token, header-less exception excerpts, and the
generic log_record fact it leads to."""

from __future__ import annotations

from datetime import timezone

from diagnostics.facts import facts_from_text
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.logs.stream import stream_facts

OPTS = ReadOptions(tz=timezone.utc, tz_name="UTC")
MGMT = ("2025-03-10 15:21:01,100 WARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:[ctx-1a2b3c4d]) (logid:0f1e2d3c) "
        "Unable to send command to host 4, the agent is not connected")
AGENT = ("2025-03-10 15:21:02,100 ERROR [kvm.resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-4:[]) "
         "(logid:0f1e2d3c) LibvirtException")
# A header-less excerpt as operators paste it into tickets: the exception line, frames, the cause, no log4j header.
EXCERPT = """com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM instance {"id":57,"instanceName":"i-2-57-VM"}Scope=interface com.cloud.dc.DataCenter; id=1
	at com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1209)
	at com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:5432)
Caused by: com.cloud.exception.AgentUnavailableException: Resource [Host:4] is unreachable: Host 4: Unable to send command
	at com.cloud.agent.manager.AgentAttache.send(AgentAttache.java:412)
	... 18 more"""


def log_records(text: str, **kw):
    return [f for f in facts_from_text(text, **kw) if f.kind == "log_record"]


def test_the_side_is_decided_per_record_and_a_paste_of_both_logs_reads_as_both(tmp_path):
    first, second = log_records(MGMT + "\n" + AGENT + "\norg.libvirt.LibvirtException: internal error: qemu died\n")
    assert (first.side, second.side) == ("management", "agent")
    assert second.exceptions == ("org.libvirt.LibvirtException",)
    path = tmp_path / "ticket.txt"
    path.write_text(MGMT + "\n" + AGENT + "\n")
    stats = LogStats(str(path))
    list(read_records(str(path), OPTS, stats))
    assert stats.side == "mixed"


def test_a_collectors_origin_token_before_the_timestamp_is_kept():
    merged = "mgmt01 " + MGMT + "\n" + "kvm03: " + AGENT + "\n"
    first, second = log_records(merged)
    assert (first.origin, first.level, first.side, first.line) == ("mgmt01", "WARN", "management", 1)
    assert (second.origin, second.level, second.side, second.logid) == ("kvm03", "ERROR", "agent", "0f1e2d3c")
    assert log_records(MGMT)[0].origin is None


def test_a_header_less_exception_excerpt_is_a_record_with_its_exceptions():
    (record,) = log_records(EXCERPT)
    assert record.level is None and record.ts is None and record.line == 1
    assert record.exceptions == ("com.cloud.exception.InsufficientServerCapacityException",
                                 "com.cloud.exception.AgentUnavailableException")
    assert "... 18 more" in record.text and record.message.startswith("com.cloud.exception.InsufficientServerCapacity")


def test_a_quoted_ticket_paste_of_an_excerpt_is_repaired_then_read_the_same():
    quoted = "\n".join("> " + line for line in EXCERPT.splitlines())
    (record,) = log_records(quoted)
    assert record.exceptions[0] == "com.cloud.exception.InsufficientServerCapacityException" and record.level is None


def test_a_file_that_starts_mid_trace_keeps_the_exception_before_its_first_header(tmp_path):
    """Rotation cuts records: the head of the new file is the tail of a trace. The fast filter feeds it to the builder
    line by line, as the exact reader does."""
    path = tmp_path / "management-server.log"
    path.write_text(EXCERPT + "\n" + MGMT + "\n")
    stats = LogStats(str(path))
    facts = [f.to_dict() for f in stream_facts(str(path), OPTS, stats)]
    assert stats.reader == "fast"
    exact = [f.to_dict() for f in facts_from_text(path.read_text(), path=str(path))]
    assert facts == exact
    assert [f["level"] for f in facts if f["kind"] == "log_record"] == [None, "WARN"]


def test_debug_records_with_a_trace_and_loud_records_get_a_log_record_plain_info_does_not():
    debug_trace = MGMT.replace("WARN ", "DEBUG") + "\ncom.cloud.utils.exception.CloudRuntimeException: boom\n\tat a.b.C.d(C.java:1)"
    info = MGMT.replace("WARN ", "INFO ")
    assert [r.level for r in log_records(debug_trace + "\n" + info + "\n" + MGMT)] == ["DEBUG", "WARN"]
