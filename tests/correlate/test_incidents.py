"""Correlation: one incident per VM and operation, its steps, its cause, and what evidence is missing."""

from __future__ import annotations

from datetime import timezone

from diagnostics.analysis import analyze_paths

H4 = 'Host {"id":4,"uuid":"0b6e1c2a","name":"kvm01","type":"Routing"}'
VM = 'VM instance {"id":42,"instanceName":"i-2-42-VM","uuid":"5b0c9f1e","type":"User","state":"Starting"}'
W = "(Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401, ctx-88990011]) (logid:6d7e8f90)"
MGMT = f"""2025-03-10 16:19:58,000 DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) ===START===  10.20.0.15 -- GET  command=startVirtualMachine&id=5b0c9f1e&response=json
2025-03-10 16:19:58,100 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) submit async job-1400, details: AsyncJob {{"id":1400,"instanceType":"VirtualMachine","instanceId":42,"cmd":"org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin"}}
2025-03-10 16:20:28,900 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-3:[ctx-0f1e2d3c, job-1400]) (logid:0f1e2d3c) Executing AsyncJob {{"id":1400,"instanceType":"VirtualMachine","instanceId":42,"cmd":"org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin"}}
2025-03-10 16:20:29,010 DEBUG [c.c.a.t.Request] {W} Seq 4-7251549216581238790: Sending  {{ Cmd , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 100011, [{{"com.cloud.agent.api.StartCommand":{{"vm":{{"name":"i-2-42-VM"}}}}}}] }}
2025-03-10 16:20:31,560 INFO  [c.c.v.VirtualMachineManagerImpl] {W} Unable to start VM on {H4} due to internal error: Unable to find any usable hugetlbfs mount for 8388608 KiB
2025-03-10 16:20:31,600 DEBUG [c.c.c.CapacityManagerImpl] {W} {VM} state transited from [Starting] to [Stopped] with event [OperationFailed]. VM's original host: {H4}, new host: null, host before state transition: {H4}
2025-03-10 16:20:31,640 DEBUG [c.c.d.DeploymentPlanningManagerImpl] {W} Deploy avoids pods: [], clusters: [], hosts: [4].
2025-03-10 16:20:31,700 DEBUG [c.c.d.FirstFitPlanner] {W} No clusters found having a host with enough capacity, returning.
2025-03-10 16:20:31,761 ERROR [c.c.v.VmWorkJobDispatcher] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401]) (logid:6d7e8f90) Unable to complete AsyncJob {{"id":1401,"cmd":"com.cloud.vm.VmWorkStart"}}, job origin: 1400
com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for {VM}Scope=interface com.cloud.dc.DataCenter; id=1
\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)
2025-03-10 16:20:31,800 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-3:[ctx-0f1e2d3c, job-1400]) (logid:0f1e2d3c) Complete async job-1400, jobStatus: FAILED, resultCode: 533, result: org.apache.cloudstack.api.response.ExceptionResponse/null/{{"uuidList":[],"errorcode":533,"errortext":"Unable to create a deployment for VM"}}
"""
AGENT = """2025-03-10 16:20:30,100 DEBUG [cloud.agent.Agent] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) Request:Seq 4-7251549216581238790:  { Cmd , MgmtId: 345049296663, via: 4, Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM"}}}] }
2025-03-10 16:20:31,455 WARN  [resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) LibvirtException 
org.libvirt.LibvirtException: internal error: Unable to find any usable hugetlbfs mount for 8388608 KiB
\tat org.libvirt.Connect.domainCreateXML(Unknown Source)
2025-03-10 16:20:32,000 WARN  [kvm.resource.LibvirtComputingResource] (AgentStatsCollector-1:[]) (logid:) Couldn't retrieve free memory, returning -1.
"""


def analyse(tmp_path, with_agent: bool = True):
    (tmp_path / "management-server.log").write_text(MGMT)
    if with_agent:
        (tmp_path / "kvm01").mkdir()
        (tmp_path / "kvm01" / "agent.log").write_text(AGENT)
    return analyze_paths([str(tmp_path)], tz=timezone.utc, tz_name="UTC").document


def test_start_failure_incident_names_the_libvirt_cause_not_the_capacity_symptom(tmp_path):
    doc = analyse(tmp_path)
    (incident,) = doc["incidents"]
    assert incident["vm"] == "i-2-42-VM" and incident["outcome"] == "failed" and incident["jobs"] == [1400]
    assert incident["failed_step"] == "start"
    assert incident["root_cause"]["category"] == "libvirt_memory"
    assert "hugetlbfs" in incident["root_cause"]["summary"] or "huge" in incident["root_cause"]["summary"].lower()
    by_id = {f["id"]: f for f in doc["findings"]}
    contributing = [by_id[c["finding"]] for c in incident["contributing"]]
    symptoms = [by_id[c["finding"]] for c in incident["symptoms"]]
    # a symptom is listed as a symptom, never as a contributing cause (issue 13 §2)
    assert any(f["category"] == "insufficient_capacity" and f["symptom_of"] for f in symptoms)
    assert not any(f["symptom_of"] for f in contributing)
    assert all(c["summary"] != incident["root_cause"]["summary"] for c in incident["contributing"])
    assert all(not by_id[fid]["benign"] or by_id[fid]["rule"] != incident["root_cause"]["rule"] for fid in incident["findings"])
    start = next(s for s in incident["steps"] if s["step"] == "start")
    assert start["status"] == "failed" and any(e["path"].endswith("agent.log") for e in start["evidence"])


def test_clock_skew_is_estimated_from_seq_pairs(tmp_path):
    (incident,) = analyse(tmp_path)["incidents"]
    skew = incident["clock_skew"]
    assert skew["pairs"] == 1 and abs(skew["offset_s"] - 1.09) < 0.01 and "Seq" in skew["method"]


def test_missing_agent_log_is_named_with_the_command_to_get_it(tmp_path):
    (incident,) = analyse(tmp_path, with_agent=False)["incidents"]
    assert any("no agent.log from host kvm01" in m and "csdiag probe kvm01" in m for m in incident["missing_evidence"])
    assert incident["root_cause"]["category"] in ("start_failed", "libvirt_memory")


def test_benign_balloon_warning_is_never_the_cause(tmp_path):
    (tmp_path / "agent.log").write_text("\n".join(
        f"2025-03-10 16:2{i}:32,000 WARN  [kvm.resource.LibvirtComputingResource] (AgentStatsCollector-1:[]) (logid:) Couldn't retrieve free memory, returning -1."
        for i in range(5)) + "\n")
    doc = analyze_paths([str(tmp_path)], tz=timezone.utc).document
    assert doc["incidents"] == []
    assert doc["summary"]["status"] == "OK"
    assert all(f["benign"] for f in doc["findings"])


def test_an_api_call_and_its_job_are_one_incident_when_no_line_joins_them(tmp_path):
    """The call names the VM by UUID, the job (whose submission has another logid) by instance name: still one
    operation, not a phantom incident beside the real one (issue 13 §2)."""
    (tmp_path / "management-server.log").write_text(
        "2025-03-10 14:02:11,101 DEBUG [c.c.a.ApiServlet] (qtp1850777594-31:[ctx-a1b2c3d4]) (logid:a1b2c3d4) ===START===  "
        "10.20.0.15 -- GET  command=scaleVirtualMachine&id=5b0c9f1e-7a2d-4c3b-8e1f-0a9b8c7d6e5f&serviceofferingid=77e1a2b3&response=json\n"
        "2025-03-10 14:02:11,250 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) "
        'Executing AsyncJob {"id":1201,"instanceType":"VirtualMachine","instanceId":42,"cmd":"org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin"}\n'
        "2025-03-10 14:02:11,297 ERROR [c.c.a.ApiAsyncJobDispatcher] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) "
        "Unexpected exception while executing org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin\n"
        "com.cloud.exception.PermissionDeniedException: Dynamically scaling virtual machines is disabled for this zone, please contact your admin.\n"
        "2025-03-10 14:02:11,305 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) "
        'Complete async job-1201, jobStatus: FAILED, resultCode: 530, result: org.apache.cloudstack.api.response.ExceptionResponse/null/'
        '{"uuidList":[],"errorcode":530,"errortext":"Dynamically scaling virtual machines is disabled for this zone, please contact your admin."}\n')
    doc = analyze_paths([str(tmp_path)], tz=timezone.utc, tz_name="UTC").document
    (incident,) = doc["incidents"]
    assert incident["jobs"] == [1201] and incident["outcome"] == "failed" and incident["status"] == "WARNING"
    assert incident["root_cause"]["category"] == "scale_rejected"
    assert incident["vm"] == "5b0c9f1e-7a2d-4c3b-8e1f-0a9b8c7d6e5f"


def test_a_call_whose_job_start_was_not_logged_adopts_the_job_that_ended(tmp_path):
    import tomllib
    from pathlib import Path

    rule = tomllib.loads((Path(__file__).parents[2] / "rules" / "scaling" / "dynamic-scaling-disabled.toml").read_text())
    (tmp_path / "management-server.log").write_text(rule["example"][0]["log"].lstrip())
    doc = analyze_paths([str(tmp_path)], tz=timezone.utc, tz_name="UTC").document
    (incident,) = doc["incidents"]
    assert incident["jobs"] == [1201] and incident["outcome"] == "failed"
    assert incident["root_cause"]["rule"] == "scaling.dynamic-scaling-disabled"
    assert doc["summary"]["status"] == "WARNING"
