"""Fast == exact, by property: generated logs in every header generation, with catalogue messages, extractor
keywords, loud levels, traces (also in DEBUG records), timestamped foreign lines inside records, files that start
mid-record or with a header-less exception, and block boundaries anywhere, give the same facts both ways.
stdin == file for the same content (facts and findings), through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diagnostics.logs.blocks as blocks
from diagnostics.catalogue import PLACEHOLDER_RE, load_catalogue
from diagnostics.facts import facts_from_records
from diagnostics.facts.block_search import available
from diagnostics.facts.registry import all_keywords
from diagnostics.logs.interest import default_interest
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.logs.stream import stream_facts
from diagnostics.sources.files import open_binary

pytestmark = pytest.mark.skipif(not available(default_interest()), reason="Hyperscan is not available on this machine")
ROOT = Path(__file__).resolve().parents[2]
OPTS = ReadOptions(tz=timezone.utc, tz_name="UTC")

# One header per generation (cloudstack-log-formats.md §1); {ts} {lvl} {logger} {thread} are filled per record.
GENERATIONS = [
    "{ts} {lvl} [{logger}] ({thread}:job-{job}) {msg}",  # <= 4.14: no logid
    "{ts} {lvl} [{logger}] ({thread}:ctx-1a2b3c4d job-{job}/job-{work} ctx-2b3c4d5e) (logid:1a2b3c4d) {msg}",  # 4.15-4.19
    "{ts} {lvl} [{logger}] ({thread}:[ctx-1a2b3c4d, job-{job}/job-{work}, ctx-2b3c4d5e]) (logid:1a2b3c4d) {msg}",  # 4.20+
    "{iso} {lvl} [{logger}] ({thread}:[]) (logid:) {msg}",  # ISO `T`: early 4.20, system VMs
]
LOGGERS = [("c.c.v.VirtualMachineManagerImpl", "Work-Job-Executor-3"), ("c.c.a.m.AgentManagerImpl", "AgentManager-Handler-2"),
           ("c.c.c.CapacityManagerImpl", "Work-Job-Executor-9"), ("kvm.resource.LibvirtComputingResource", "AgentRequest-Handler-4"),
           ("cloud.agent.Agent", "Agent-Handler-1")]
LEVELS = ["DEBUG", "DEBUG", "INFO ", "WARN ", "ERROR"]
FILL = {"host": "Host[-3-Routing]", "vm": "VM instance {id: 57, name: i-2-57-VM}", "id": "57", "int": "4", "num": "2.5",
        "size": "(4.00 GB) 4294967296", "mhz": "2000", "duration": "30s", "list": "[3, 4]", "word": "kvm01",
        "text": "internal error: process exited while connecting to monitor"}


def _render(template: str) -> str:
    return PLACEHOLDER_RE.sub(lambda m: FILL.get(m.group("type") or "text", FILL["text"]), template)


CATALOGUE_MESSAGES = [_render(t.text) for t in load_catalogue().templates]
KEYWORD_MESSAGES = [f"something {kw} something" for kw in all_keywords()]
REAL_MESSAGES = [
    "Ping from Routing host 3(kvm03)", "Ping from Routing host 4(kvm04)",
    "Found the following agents behind on ping: []", "Found the following agents behind on ping: [4]",
    "Complete async job-1201, jobStatus: FAILED, resultCode: 530, result: null",
    "Unable to start VM on Host[-3-Routing] due to Unable to start instance due to internal error",
    "Execution is successful.", "Processing command: com.cloud.agent.api.ScaleVmCommand",
    "Host does not have enough RAM available, cannot allocate to this host.",
]
TRACE = [
    "com.cloud.utils.exception.CloudRuntimeException: Unable to scale VM",
    "\tat com.cloud.hypervisor.kvm.resource.wrapper.LibvirtScaleVmCommandWrapper.execute(LibvirtScaleVmCommandWrapper.java:76)",
    "Caused by: org.libvirt.LibvirtException: internal error: cannot set up guest memory 'pc.ram': Cannot allocate memory",
    "\t... 12 more",
    "2024-05-06T07:08:09.123456Z qemu-kvm: -object memory-backend-ram,id=pc.ram,size=8192M: cannot set up guest memory",
    "  <memory unit='KiB'>8388608</memory>",
    "2 is not a header",
]

messages = st.sampled_from(CATALOGUE_MESSAGES + KEYWORD_MESSAGES + REAL_MESSAGES + ["plain chatter", "Error while reading"])
record = st.tuples(st.integers(0, len(GENERATIONS) - 1), st.sampled_from(LEVELS), st.integers(0, len(LOGGERS) - 1), messages,
                   st.lists(st.sampled_from(TRACE), max_size=6))
head = st.sampled_from([[], ["\tat com.cloud.vm.VirtualMachineManagerImpl.start(VirtualMachineManagerImpl.java:1)", "\t... 3 more"],
                        ["com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM",
                         "\tat com.cloud.deploy.DeploymentPlanningManagerImpl.planDeployment(DeploymentPlanningManagerImpl.java:1)",
                         "Caused by: com.cloud.exception.AgentUnavailableException: Resource [Host:4] is unreachable"]])


def render_log(first: list[str], records: list[tuple]) -> str:
    lines = list(first)
    for i, (gen, lvl, who, msg, trace) in enumerate(records):
        logger, thread = LOGGERS[who]
        ts = f"2025-03-10 15:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d}"
        lines.append(GENERATIONS[gen].format(ts=ts, iso=ts.replace(" ", "T"), lvl=lvl, logger=logger, thread=thread,
                                             job=1200 + i % 3, work=1300 + i % 5, msg=msg))
        lines.extend(trace)
    return "\n".join(lines) + "\n"


def exact_facts(path: str) -> list[dict]:
    return [f.to_dict() for f in facts_from_records(read_records(path, OPTS, LogStats(path)))]


def fast_facts(path: str) -> list[dict]:
    stream, compressed = open_binary(path)
    stats = LogStats(path)
    stats.read.compressed = compressed
    try:
        return [f.to_dict() for f in blocks.scan_facts(path, OPTS, stats, interest=default_interest(), stream=stream)]
    finally:
        stream.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=head, records=st.lists(record, min_size=1, max_size=40), chunk=st.sampled_from([256, 1024, 4096, 4 << 20]))
def test_fast_and_exact_give_the_same_facts(first, records, chunk):
    text = render_log(first, records)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "management-server.log")
        Path(path).write_text(text, encoding="utf-8")
        saved = blocks.CHUNK
        blocks.CHUNK = chunk
        try:
            fast = fast_facts(path)
        finally:
            blocks.CHUNK = saved
        assert fast == exact_facts(path)


def test_five_agent_lines_with_a_timestamped_qemu_line_give_the_libvirt_error_both_ways(tmp_path):
    """The case of issue 11: a qemu line with its own ISO stamp inside the agent record must not end the record."""
    hdr = "2025-03-10 15:22:0{s},100 {lvl} [kvm.resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-4:[]) (logid:0f1e2d3c) "
    text = "\n".join([
        hdr.format(s=1, lvl="DEBUG") + "Executing: /usr/share/cloudstack-common/scripts/vm/network/security_group.py",
        hdr.format(s=2, lvl="DEBUG") + "Execution is successful.",
        hdr.format(s=3, lvl="WARN ") + "LibvirtException",
        "2025-03-10T15:22:03.998123Z qemu-kvm: -object memory-backend-ram,id=pc.ram,size=16384M: cannot set up guest memory 'pc.ram': Cannot allocate memory",
        "org.libvirt.LibvirtException: internal error: process exited while connecting to monitor",
        "\tat org.libvirt.ErrorHandler.processError(Unknown Source)",
        hdr.format(s=4, lvl="DEBUG") + "Processing command: com.cloud.agent.api.StopCommand",
    ]) + "\n"
    path = tmp_path / "agent.log"
    path.write_text(text)
    exact, fast = exact_facts(str(path)), fast_facts(str(path))
    assert fast == exact
    assert any(f["kind"] == "log_record" and "org.libvirt.LibvirtException" in f["exceptions"] for f in fast)
    stats = LogStats(str(path))
    list(stream_facts(str(path), OPTS, stats))
    assert stats.reader == "fast" and stats.layouts and stats.side == "agent"


def _analyze(args: list[str], stdin: bytes | None = None) -> dict:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "diagnostics", "analyze", "--format", "json", "--tz", "UTC", *args],
                         input=stdin, capture_output=True, env=env, timeout=300)
    return json.loads(out.stdout)


def test_stdin_gives_the_facts_and_findings_of_the_same_file(tmp_path):
    sample = ROOT / "samples" / "libvirt-memory-start" / "management-server.log"
    generated = render_log([], [(i % 4, LEVELS[i % 5], i % 5, (CATALOGUE_MESSAGES + REAL_MESSAGES)[i % 10], TRACE[: i % 4])
                                for i in range(200)])
    data = sample.read_bytes() + generated.encode()
    path = tmp_path / "management-server.log"
    path.write_bytes(data)
    from_file, from_stdin = _analyze([str(path)]), _analyze(["-"], stdin=data)

    def essence(doc):
        return (doc["summary"]["facts"],
                sorted((f["rule"], f["count"], f["category"], [str(e.get("line") if isinstance(e, dict) else e).rsplit(":", 1)[-1]
                                                                 for e in f["evidence"]]) for f in doc["findings"]))

    assert essence(from_stdin) == essence(from_file) and from_file["summary"]["facts"] > 50
    assert from_stdin["inputs"][0]["reader"] == from_file["inputs"][0]["reader"] == "fast"
