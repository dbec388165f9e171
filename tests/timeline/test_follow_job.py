"""`csdiag timeline --job` follows a job from management-server.log into the agent.log of the host that ran it."""

from __future__ import annotations

import json

import pytest

from diagnostics.cli import main

MGMT = """2025-03-10 16:20:28,900 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-3:[ctx-0f1e2d3c, job-1400]) (logid:0f1e2d3c) Executing AsyncJob {"id":1400,"cmd":"org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin"}
2025-03-10 16:20:29,010 DEBUG [c.c.a.t.Request] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401, ctx-88990011]) (logid:6d7e8f90) Seq 4-7251549216581238790: Sending  { Cmd , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM"}}}] }
2025-03-10 16:20:30,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-1:[]) (logid:) Ping from Routing host 5(kvm02)
2025-03-10 16:20:31,520 DEBUG [c.c.a.t.Request] (AgentManager-Handler-5:[]) (logid:) Seq 4-7251549216581238790: Processing:  { Ans: , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 10, [{"com.cloud.agent.api.StartAnswer":{"result":false,"details":"internal error: process exited while connecting to monitor","wait":0}}] }
2025-03-10 16:20:31,560 INFO  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401, ctx-88990011]) (logid:6d7e8f90) Unable to start VM on Host {"id":4,"uuid":"0b6e","name":"kvm01","type":"Routing"} due to internal error: process exited while connecting to monitor
2025-03-10 16:20:32,000 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-9:[ctx-99999999, job-1500]) (logid:99999999) Executing AsyncJob {"id":1500,"cmd":"org.apache.cloudstack.api.command.user.vm.ListVMsCmd"}
"""
AGENT = """2025-03-10 16:20:29,100 DEBUG [cloud.agent.Agent] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) Request:Seq 4-7251549216581238790:  { Cmd , MgmtId: 345049296663, via: 4, Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM"}}}] }
2025-03-10 16:20:30,500 INFO  [kvm.resource.LibvirtComputingResource] (AgentStatsCollector-1:[]) (logid:) unrelated stats line
2025-03-10 16:20:31,455 WARN  [resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) LibvirtException 
org.libvirt.LibvirtException: internal error: process exited while connecting to monitor
\tat org.libvirt.Connect.domainCreateXML(Unknown Source)
"""


@pytest.fixture
def incident(tmp_path):
    (tmp_path / "management-server.log").write_text(MGMT)
    (tmp_path / "kvm01").mkdir()
    (tmp_path / "kvm01" / "agent.log").write_text(AGENT)
    return tmp_path


def run_json(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out
    rows = [json.loads(line) for line in out.splitlines()]
    return exc.value.code, rows


def test_job_is_followed_into_the_agent_log_by_logid_and_seq(incident, capsys):
    code, rows = run_json(["timeline", str(incident), "--job", "1400", "--format", "json", "--tz", "UTC"], capsys)
    assert code == 0
    records = [r for r in rows if r["type"] == "record"]
    where = [(r["path"].rsplit("/", 2)[-1] if "kvm01" not in r["path"] else "kvm01/agent.log", r["line"]) for r in records]
    assert where == [
        ("management-server.log", 1), ("management-server.log", 2), ("kvm01/agent.log", 1),
        ("kvm01/agent.log", 3), ("management-server.log", 4), ("management-server.log", 5),
    ]
    agent_failure = records[3]
    assert any(f["kind"] == "libvirt_error" and f["reported_by"] == "agent" for f in agent_failure["facts"])
    assert rows[-1] == {"type": "summary", "records": 6, "tz": "UTC", "errors": []}


def test_filters_by_logid_host_level_and_time(incident, capsys):
    _, rows = run_json(["timeline", str(incident), "--logid", "6d7e8f90", "--format", "json", "--tz", "UTC"], capsys)
    assert [r["line"] for r in rows if r["type"] == "record"] == [2, 1, 3, 5]
    _, rows = run_json(["timeline", str(incident), "--level", "WARN", "--format", "json", "--tz", "UTC"], capsys)
    assert [r["level"] for r in rows if r["type"] == "record"] == ["WARN"]
    _, rows = run_json(["timeline", str(incident), "--host", "kvm02", "--format", "json", "--tz", "UTC"], capsys)
    assert [r["message"] for r in rows if r["type"] == "record"] == ["Ping from Routing host 5(kvm02)"]
    _, rows = run_json(["timeline", str(incident), "--since", "2025-03-10 16:20:31", "--until", "2025-03-10 16:20:31.6",
                        "--format", "json", "--tz", "UTC"], capsys)
    assert [r["ts"][11:26] for r in rows if r["type"] == "record"] == ["16:20:31.455000", "16:20:31.520000", "16:20:31.560000"]


def test_vm_filter_and_zone_statement(incident, capsys):
    _, rows = run_json(["timeline", str(incident), "--vm", "i-2-42-VM", "--format", "json", "--tz", "Europe/Berlin"], capsys)
    records = [r for r in rows if r["type"] == "record"]
    assert {r["logid"] for r in records} <= {"6d7e8f90", None, "0f1e2d3c"}
    assert records[0]["ts"].endswith("+01:00")
    assert rows[-1]["tz"] == "Europe/Berlin"


def test_text_output_names_the_zone_and_shows_facts(incident, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    with pytest.raises(SystemExit):
        main(["timeline", str(incident), "--tz", "UTC", "--facts-only"])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "times in zone UTC"
    assert "-> start_failure host_id=4 host_name=kvm01" in out
    assert "\x1b[" not in out


def test_stdin_is_read(incident, capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MGMT.encode())))
    code, rows = run_json(["timeline", "-", "--format", "json", "--tz", "UTC"], capsys)
    assert code == 0 and rows[-1]["records"] == 6
