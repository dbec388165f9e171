"""rotated-gz: an incident across midnight; the stop and the offering change are in yesterday's rotated `.gz` (4.20.1).

The VM is stopped at 23:41 and upgraded to 8 x 2000 MHz / 32 GB. By the time it is started (00:58) its
reservation on kvm01 has expired (capacity.skipcounting.hours), kvm01 has no 32 GB free, and the whole cluster
is past cluster.memory.allocated.capacity.disablethreshold (0.95): no destination, InsufficientServerCapacityException.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import CM, DPM, background, begin_work, check_lines, emit, end_work, release_lines, state_line, submit
from render import GB, Log, Style, js, render_body, stamp
from world import MS, Ctx, Host, Scenario, Vm

T = 83200
FACTOR = 2.0
FFP = "com.cloud.deploy.FirstFitPlanner"
MIDNIGHT = datetime(2025, 3, 10)


def split(log: Log) -> tuple[tuple[str, int], tuple[str, int]]:
    """Yesterday's part (rotated) and today's part of one log, as the daily RollingFile leaves them."""
    parts: list[list[str]] = [[], []]
    counts = [0, 0]
    for e in log.sorted():
        k = 0 if e.ts < MIDNIGHT else 1
        counts[k] += 1
        parts[k].append(f"{stamp(e.ts, log.style.t_sep)} {render_body(e, log.style)}")
        parts[k].extend(e.extra)
    return ("\n".join(parts[0]) + "\n", counts[0]), ("\n".join(parts[1]) + "\n", counts[1])


def build() -> dict:
    s = Scenario("4.20", 4209, Style("log4j2", "abbrev"), Style("log4j2", "c3"), msid=90520741420039)
    ids = s.ids
    kvm01 = s.add_host(Host(4, "kvm01", ids.uuid(), "10.20.0.41"), ["i-2-42-VM", "i-5-61-VM", "i-7-88-VM", "i-2-97-VM", "r-12-VM"], True, skew=0.35)
    kvm02 = s.add_host(Host(5, "kvm02", ids.uuid(), "10.20.0.42"), ["i-5-63-VM", "i-9-104-VM", "i-9-105-VM", "s-1-VM", "v-2-VM"], False)
    vm = Vm(42, "i-2-42-VM", ids.uuid(), "web-prod-01")
    M = kvm01.total_mem
    h1 = kvm01.cap(s.era)
    stop_at, change_at = datetime(2025, 3, 9, 23, 41, 10), datetime(2025, 3, 9, 23, 43, 2)
    expire = stop_at + timedelta(hours=1)
    done: set[str] = set()

    def checker(t: datetime) -> dict[int, list[str]]:
        k2 = s.steady_host_lines(kvm02, 5, 0, 70000, 0, 119 * GB, 0)
        if t < stop_at:
            return {4: s.steady_host_lines(kvm01, 5, 0, 64000, 0, 118 * GB, 0), 5: k2}
        if t < change_at:
            return {4: s.steady_host_lines(kvm01, 4, 1, 56000, 8000, 102 * GB, 16 * GB), 5: k2}
        if t < expire:
            if "grow" in done:
                return {4: s.steady_host_lines(kvm01, 4, 1, 56000, 16000, 102 * GB, 32 * GB), 5: k2}
            done.add("grow")
            return {4: [f"Found 4 VMs on {h1}", f"Found 0 VMs are Migrating from {h1}", f"Found 1 VM, not running on {h1}",
                        f"Calibrate reserved cpu for host: {h1} old reservedCpu:8000 new reservedCpu:16000",
                        f"Calibrate reserved memory for host: {h1} old reservedMem:{16 * GB} new reservedMem:{32 * GB}"], 5: k2}
        if "expire" in done:
            return {4: s.steady_host_lines(kvm01, 4, 1, 56000, 0, 102 * GB, 0), 5: k2}
        done.add("expire")  # capacity.skipcounting.hours passed: the stopped VM no longer holds its reservation
        return {4: [f"Found 4 VMs on {h1}", f"Found 0 VMs are Migrating from {h1}", f"Found 1 VM, not running on {h1}",
                    f"Calibrate reserved cpu for host: {h1} old reservedCpu:16000 new reservedCpu:0",
                    f"Calibrate reserved memory for host: {h1} old reservedMem:{32 * GB} new reservedMem:0"], 5: k2}

    start, end = datetime(2025, 3, 9, 23, 36, 51, 640000), datetime(2025, 3, 10, 1, 2, 12)
    background(s, start, end, 90, [vm.uuid, ids.uuid(), ids.uuid()], checker=checker)
    al = "com.cloud.alert.AlertManagerImpl"
    for at in (datetime(2025, 3, 9, 23, 38, 27, 902000), datetime(2025, 3, 10, 0, 38, 27, 911000)):
        c = s.ctx()
        s.mgmt.add(at, "WARN", al, "CapacityChecker", "alertType=[0] dataCenterId=[1] podId=[1] clusterId=[1] message=[System Alert: Low Available Memory in cluster [kvm-cl01] pod [pod-a] of availability zone [zone-ams1].].", c.ndc, c.logid)
    op = "10.20.0.15"

    # 23:41 stop, 23:43 upgrade to XLarge (8 x 2000 MHz, 32 GB)
    t = stop_at
    scmd = "org.apache.cloudstack.api.command.admin.vm.StopVMCmdByAdmin"
    jt, jc, t = submit(s, t, op, f"command=stopVirtualMachine&id={vm.uuid}&response=json", 1290, scmd, vm,
                       {"id": vm.uuid, "response": "json", "ctxUserId": "2", "ctxAccountId": "2", "cmdEventType": "VM.STOP", "uuid": vm.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 1290, 1291, "VmWorkStop", vm, {})
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Running", "Stopping", "StopRequested", kvm01, kvm01, kvm01)])
    stop_seq = s.command(t + 10 * MS, 4, wt, wc, "com.cloud.agent.api.StopCommand",
                         {"isProxy": False, "checkBeforeCleanup": False, "forceStop": False, "volumesToDisconnect": [], "vmName": vm.name, "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
                         "com.cloud.agent.api.StopAnswer", {"result": True, "wait": 0, "bypassHostMaintenance": False}, took=9.4)
    s.vms_on[4].remove(vm.name)
    t += timedelta(seconds=9.5)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Stopping", "Stopped", "OperationSucceeded", kvm01, None, kvm01)])
    t = emit(s, t, "DEBUG", CM, wt, wc, release_lines(s, kvm01, 64000, 0, T, FACTOR, 8000, 118 * GB, 0, M, 16 * GB, True))
    t = end_work(s, t, wt, wc, 1290, 1291, "VmWorkStop", vm)
    s.complete(t + 30 * MS, jt, jc, 1290, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm.uuid, "name": "web-prod-01", "state": "Stopped"}), scmd)
    xl = ids.uuid()
    s.api_call(change_at + timedelta(milliseconds=318), op, f"command=changeServiceForVirtualMachine&id={vm.uuid}&serviceofferingid={xl}&response=json", took=0.204)

    # 00:58 start: no reservation left, kvm01 lacks 32 GB, the cluster is past its disable threshold
    t = datetime(2025, 3, 10, 0, 58, 14, 77000)
    stcmd = "org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin"
    jt, jc, t = submit(s, t, op, f"command=startVirtualMachine&id={vm.uuid}&response=json", 1302, stcmd, vm,
                       {"id": vm.uuid, "response": "json", "ctxUserId": "2", "ctxAccountId": "2", "cmdEventType": "VM.START", "uuid": vm.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 1302, 1303, "VmWorkStart", vm, {})
    hv = kvm01.render(s.era)
    vm_s = vm.render(s.era, "Starting")
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Stopped", "Starting", "StartRequested", kvm01, None, None)])
    t = emit(s, t, "DEBUG", DPM, wt, wc, [f"This VM has last host_id specified, trying to choose the same host: {hv}"])
    r1, _ = check_lines(s, kvm01, 16000, 32 * GB, "2.0", True, 56000, 0, 102 * GB, 0, T, M)
    r2, _ = check_lines(s, kvm01, 16000, 32 * GB, "2.0", False, 56000, 0, 102 * GB, 0, T, M)
    t = emit(s, t, "DEBUG", CM, wt, wc, [*r1, *r2])
    t = emit(s, t, "DEBUG", DPM, wt, wc, [f"Cannot deploy VM [{vm_s}] to the last host [{hv}] because this host does not have enough capacity to deploy this VM.",
             f"Cannot choose the last host to deploy this VM {vm_s}.",
             f"DeploymentPlan [DataCenterDeployment] has not specified host. Trying to find another destination to deploy VM [{vm_s}], avoiding pods [], clusters [] and hosts [].",
             "Deploy avoids pods: [], clusters: [], hosts: []."])
    zone = f'Zone {{"id":1,"name":"zone-ams1","uuid":"{ids.uuid()}"}}'
    t = emit(s, t, "DEBUG", FFP, wt, wc, [f"Searching all possible resources under this Zone: {zone}",
             "Listing clusters in order of aggregate capacity, that have (at least one host with) enough CPU and RAM capacity under this Zone: 1"])
    t = emit(s, t, "WARN", FFP, wt, wc, ["Cannot allocate cluster list [1] for VM creation since their allocated percentage crosses the disable capacity threshold defined at each cluster at Global Settings Configuration [name: cluster.memory.allocated.capacity.disablethreshold, value: 0.95] for capacity Type : 0, skipping these clusters"])
    t = emit(s, t, "DEBUG", FFP, wt, wc, ["No clusters found after removing disabled clusters and clusters in avoid list, returning."])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Starting", "Stopped", "OperationFailed", kvm01, None, None)])
    ice = f"com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for {vm_s}Scope=interface com.cloud.dc.DataCenter; id=1"
    outer = Ctx(wc.ndc[:-1], wc.logid)
    body = js({"id": 1303, "uuid": s.job_uuid(1303), "userId": 2, "accountId": 2, "instanceType": None, "instanceId": None, "cmd": "com.cloud.vm.VmWorkStart",
               "cmdInfo": "rO0ABXNyABhjb20uY2xvdWQudm0uVm1Xb3JrU3RhcnR9cM", "cmdVersion": 0, "status": "IN_PROGRESS", "processStatus": 0, "resultCode": 0,
               "result": None, "initMsid": s.msid, "completeMsid": None, "lastUpdated": None, "lastPolled": None, "created": "Mon Mar 10 00:58:14 UTC 2025", "removed": None})
    wframes = [ice] + traces.frames("com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)",
                                    "com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:5790)") + traces.work_job("VmWorkStart", 5914)
    s.mgmt.add(t + 2 * MS, "ERROR", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Unable to complete AsyncJob {body}, job origin: 1302", outer.ndc, outer.logid, wframes)
    s.complete(t + 5 * MS, wt, outer, 1303, "FAILED", 0, "rO0ABXNyADdjb20uY2xvdWQuZXhjZXB0aW9uLkluc3VmZmljaWVudFNlcnZlckNhcGFjaXR5RXhjZXB0aW9u", "com.cloud.vm.VmWorkStart")
    t += 40 * MS
    s.mgmt.add(t, "INFO", stcmd, jt, ice, jc.ndc, jc.logid)
    s.mgmt.add(t + MS, "INFO", stcmd, jt, f"Unable to create a deployment for {vm_s}", jc.ndc, jc.logid, wframes)
    s.complete(t + 9 * MS, jt, jc, 1302, "FAILED", 533, "org.apache.cloudstack.api.response.ExceptionResponse/null/" + js({"uuidList": [], "errorcode": 533, "errortext": f"Unable to create a deployment for {vm_s}"}), stcmd)
    for k in range(3):
        tt = t + timedelta(seconds=1 + 3 * k)
        s.api_call(tt, op, f"command=queryAsyncJobResult&jobId={s.job_uuid(1302)}&response=json&_={int(tt.timestamp() * 1000)}", took=0.01)


    (m_old, m_new), (a_old, a_new) = split(s.mgmt), split(s.agent_logs[4])
    expected = {
        "title": "Start after an upgrade fails across midnight: reservation expired, kvm01 full, cluster past the 0.95 memory disable threshold",
        "cloudstack_version": "4.20.1", "format_generation": "log4j2", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "api_call", "command": "changeServiceForVirtualMachine", "phase": "start"},
            {"kind": "capacity_change", "op": "release", "resource": "memory", "host_id": 4, "old_used": 118 * GB, "new_used": 102 * GB},
            {"kind": "capacity_check", "host_id": 4, "outcome": "insufficient_reserved_cpu", "from_reserved": True, "requested_ram": 32 * GB},
            {"kind": "capacity_check", "host_id": 4, "outcome": "insufficient_ram", "requested_ram": 32 * GB, "free_ram": 23 * GB + GB // 2},
            {"kind": "planner", "event": "last_host_refused", "host_id": 4},
            {"kind": "planner", "event": "threshold"},
            {"kind": "alert", "alert_type": "0"},
            {"kind": "insufficient_capacity", "exception": "InsufficientServerCapacityException", "scope": "zone", "scope_id": 1},
            {"kind": "async_job", "phase": "complete", "job": 1302, "status": "FAILED", "result_code": 533},
        ],
        "findings": [{"category": "insufficient_capacity"}],
        "absent_findings": [{"category": c} for c in ("libvirt_memory", "scale_rejected", "agent_connectivity", "resource_limit")],
        "root_cause": {"category": "insufficient_capacity", "step": "start", "host": "kvm01"},
        "follow": [{"logid": next(x[3] for x in s.sent if x[2] == stop_seq), "seq": stop_seq,
                    "files": ["management-server.log.2025-03-09.gz", "kvm01/agent.log.2025-03-09.gz"]}],
    }
    return {"name": "rotated-gz", "scenario": s, "files": {"management-server.log.2025-03-09.gz": m_old, "management-server.log": m_new,
                                            "kvm01/agent.log.2025-03-09.gz": a_old, "kvm01/agent.log": a_new}, "expected": expected}
