"""stale-capacity-start: stop -> changeServiceForVirtualMachine -> start refused for RAM the host has free (4.15.2).

CloudStack's capacity books for kvm01 drifted (a release line starts from a used value the previous allocation
never produced) and capacity.check.period is 1 h, so nothing recalibrates them before the start: the planner
sees 19.50 GB free where `free -m` on the host shows ~81 GB available.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import (CM, DPM, JL, MON, VMM, allocate_lines, background, begin_work, check_lines, domain_xml, emit,
                    end_work, release_lines, state_line, submit)
from render import GB, Style, js
from world import MS, Ctx, Host, Scenario, Vm

FFP = "com.cloud.deploy.FirstFitPlanner"
FFA = "com.cloud.agent.manager.allocator.impl.FirstFitAllocator"
TOTAL_CPU = 83200  # 32 cores x 2600 MHz
FACTOR = 2.0


def build() -> dict:
    s = Scenario("4.15", 4152, Style("log4j1-logid", "abbrev"), Style("log4j1-logid", "c3"), msid=345049296663, qtp="qtp504527234")
    ids = s.ids
    kvm01 = s.add_host(Host(4, "kvm01", ids.uuid(), "10.20.0.41"), ["i-2-42-VM", "i-5-61-VM", "i-3-77-VM", "r-12-VM", "i-9-101-VM", "i-9-102-VM"], True, skew=-0.84)
    kvm02 = s.add_host(Host(5, "kvm02", ids.uuid(), "10.20.0.42"), ["i-5-63-VM", "i-9-104-VM", "i-9-105-VM", "s-1-VM", "v-2-VM"], False)
    vm = Vm(42, "i-2-42-VM", ids.uuid(), "db-reporting-01")
    vm88 = Vm(88, "i-7-88-VM", ids.uuid(), "ci-runner-03", account="ci", account_id=7, user_id=9)
    start, end = datetime(2024, 6, 18, 8, 58, 4, 117000), datetime(2024, 6, 18, 9, 38, 51)
    background(s, start, end, 80, [vm.uuid, vm88.uuid, ids.uuid(), ids.uuid()])
    T = TOTAL_CPU
    M = kvm01.total_mem

    # 09:02 another user starts i-7-88-VM (2 x 2000 MHz, 8 GB) on its last host kvm01, from reserved capacity
    t = datetime(2024, 6, 18, 9, 2, 31, 404000)
    jt, jc, t = submit(s, t, "10.20.0.48", f"command=startVirtualMachine&id={vm88.uuid}&response=json", 57,
                       "org.apache.cloudstack.api.command.user.vm.StartVMCmd", vm88,
                       {"id": vm88.uuid, "response": "json", "ctxUserId": "9", "httpmethod": "GET", "ctxAccountId": "7", "cmdEventType": "VM.START", "uuid": vm88.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 57, 58, "VmWorkStart", vm88, {})
    s.vms_on[4].append(vm88.name)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm88, "Stopped", "Starting", "StartRequested", kvm01, None, None)])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["Deploy avoids pods: [], clusters: [], hosts: []", "DeploymentPlanner allocation algorithm: null",
             "Trying to allocate a host and storage pools from dc:1, pod:1,cluster:1, requested cpu: 4000, requested ram: (8.00 GB) 8589934592",
             "Is ROOT volume READY (pool already allocated)?: Yes", "This VM has last host_id specified, trying to choose the same host: 4"])
    msgs, _ = check_lines(s, kvm01, 4000, 8 * GB, "2.0", True, 60000, 4000, 90 * GB, 8 * GB, T, M)
    t = emit(s, t, "DEBUG", CM, wt, wc, ["Host: 4 has cpu capability (cpu:32, speed:2600) to support requested CPU: 2 and requested speed: 2000", *msgs])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["Last host [Host[-4-Routing]] is UP and has enough capacity. Checking for suitable pools for this host under zone [1], pod [1] and cluster [1].",
             "Returning Deployment Destination: Dest[Zone(Id)-Pod(Id)-Cluster(Id)-Host(Id)-Storage(Volume(Id|Type-->Pool(Id))] : Dest[Zone(1)-Pod(1)-Cluster(1)-Host(4)-Storage(Volume(131|ROOT-->Pool(1))]"])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm88, "Starting", "Starting", "OperationRetry", kvm01, kvm01, None)])
    t = emit(s, t + 40 * MS, "DEBUG", CM, wt, wc, allocate_lines(s, kvm01, 60000, 4000, T, FACTOR, 4000, 90 * GB, 8 * GB, M, 8 * GB, True))
    start_body = {"vm": {"id": 88, "name": vm88.name, "state": "Starting", "type": "User", "cpus": 2, "minSpeed": 1000, "maxSpeed": 2000,
                  "minRam": 4294967296, "maxRam": 8589934592, "arch": "x86_64", "os": "Ubuntu 20.04 LTS", "uuid": vm88.uuid, "enableDynamicallyScaleVm": False},
                  "hostIp": kvm01.ip, "executeInSequence": False, "wait": 0}
    seq88 = s.command(t + 30 * MS, 4, wt, wc, "com.cloud.agent.api.StartCommand", start_body, "com.cloud.agent.api.StartAnswer",
                      {"vm": {"id": 88, "name": vm88.name}, "hostGuid": f"{kvm01.uuid}-LibvirtComputingResource", "result": True, "wait": 0},
                      took=6.8, agent_lines=[("DEBUG", "com.cloud.hypervisor.kvm.resource.wrapper.LibvirtStartCommandWrapper", f"starting {vm88.name}: ")])
    a = s.agent_logs[4]
    a.entries[-1].extra = domain_xml(vm88, 8388608, 2, 4000) if a.entries[-1].msg.startswith("starting") else a.entries[-1].extra
    for e in a.entries:
        if e.msg == f"starting {vm88.name}: ":
            e.extra = domain_xml(vm88, 8388608, 2, 4000)
    t += timedelta(seconds=6.9)
    t = emit(s, t, "DEBUG", VMM, wt, wc, [f"Start completed for VM VM[User|{vm88.name}]"])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm88, "Starting", "Running", "OperationSucceeded", kvm01, kvm01, kvm01)])
    t = end_work(s, t + 5 * MS, wt, wc, 57, 58, "VmWorkStart", vm88)
    s.complete(t + 30 * MS, jt, jc, 57, "SUCCEEDED", 0,
               "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm88.uuid, "name": "ci-runner-03", "displayname": "ci-runner-03", "account": "ci", "domainid": ids.uuid(), "domain": "CI", "state": "Running", "hostname": "kvm01", "serviceofferingname": "Medium"}),
               "org.apache.cloudstack.api.command.user.vm.StartVMCmd")

    # 09:14 the admin stops i-2-42-VM (4 x 2000 MHz, 16 GB); the release starts from a used value nobody allocated
    op = "10.20.0.15"
    t = datetime(2024, 6, 18, 9, 14, 37, 912000)
    jt, jc, t = submit(s, t, op, f"command=stopVirtualMachine&id={vm.uuid}&forced=false&response=json", 61,
                       "org.apache.cloudstack.api.command.admin.vm.StopVMCmdByAdmin", vm,
                       {"id": vm.uuid, "forced": "false", "response": "json", "ctxUserId": "2", "httpmethod": "GET", "ctxAccountId": "2", "cmdEventType": "VM.STOP", "uuid": vm.uuid},
                       job_ctx=Ctx(("ctx-fc577e10", "job-61"), "fc577e10"), job_thread="API-Job-Executor-4")
    wt = "Work-Job-Executor-17"
    s.mgmt.add(t, "DEBUG", JL, jt, f"Sync job-62 execution on object VmWorkJobQueue.{vm.id}", jc.ndc, jc.logid)
    outer = Ctx(("ctx-3d84aa87", "job-61/job-62"), "fc577e10")
    wc = Ctx(("ctx-3d84aa87", "job-61/job-62", "ctx-25941f70"), "fc577e10")
    t += 61 * MS
    s.mgmt.add(t, "INFO", MON, wt, "Add job-62 into job monitoring", outer.ndc, outer.logid)
    s.mgmt.add(t + 2 * MS, "DEBUG", JL, wt, f"Executing AsyncJobVO: {{id:62, userId: 2, accountId: 2, instanceType: null, instanceId: null, cmd: com.cloud.vm.VmWorkStop, cmdInfo: rO0ABXNyABdjb20uY2xvdWQudm0uVm1Xb3JrU3RvcOPVqHV4, cmdVersion: 0, status: IN_PROGRESS, processStatus: 0, resultCode: 0, result: null, initMsid: {s.msid}, completeMsid: null, lastUpdated: null, lastPolled: null, created: {t.strftime('%a %b %d %H:%M:%S UTC %Y')}, removed: null}}", outer.ndc, outer.logid)
    s.mgmt.add(t + 5 * MS, "DEBUG", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Run VM work job: com.cloud.vm.VmWorkStop for VM {vm.id}, job origin: 61", outer.ndc, outer.logid)
    s.mgmt.add(t + 7 * MS, "INFO", "com.cloud.vm.VmWorkJobHandlerProxy", wt, "Execute VM work job: com.cloud.vm.VmWorkStop" + js({"cleanup": False, "userId": 2, "accountId": 2, "vmId": 42, "handlerName": "VirtualMachineManagerImpl"}), wc.ndc, wc.logid)
    t = emit(s, t + 9 * MS, "DEBUG", CM, wt, wc, [state_line(s, vm, "Running", "Stopping", "StopRequested", kvm01, kvm01, kvm01)])
    stop_seq = s.command(t + 20 * MS, 4, wt, wc, "com.cloud.agent.api.StopCommand",
                         {"isProxy": False, "checkBeforeCleanup": False, "forceStop": False, "volumesToDisconnect": [], "vmName": vm.name, "executeInSequence": False, "wait": 0},
                         "com.cloud.agent.api.StopAnswer", {"result": True, "wait": 0}, took=11.3, agent_thread_no=5,
                         agent_lines=[("DEBUG", "com.cloud.hypervisor.kvm.resource.LibvirtComputingResource", "Try to stop the vm at first")])
    s.vms_on[4].remove(vm.name)
    t += timedelta(seconds=11.4)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Stopping", "Stopped", "OperationSucceeded", kvm01, None, kvm01)])
    # books before this release: used 98 GB / 64000 MHz (after i-7-88-VM); the release claims 106 GB / 76000 MHz
    t = emit(s, t, "DEBUG", CM, wt, wc, release_lines(s, kvm01, 76000, 0, T, FACTOR, 8000, 106 * GB, 0, M, 16 * GB, True))
    s.mgmt.add(t, "DEBUG", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Done with run of VM work job: com.cloud.vm.VmWorkStop for VM {vm.id}, job origin: 61", outer.ndc, outer.logid)
    s.complete(t + 2 * MS, wt, outer, 62, "SUCCEEDED", 0, "null", "com.cloud.vm.VmWorkStop")
    s.complete(t + 40 * MS, jt, jc, 61, "SUCCEEDED", 0,
               "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm.uuid, "name": "db-reporting-01", "displayname": "db-reporting-01", "account": "admin", "state": "Stopped", "serviceofferingname": "Large"}),
               "org.apache.cloudstack.api.command.admin.vm.StopVMCmdByAdmin")

    # 09:16 change the offering to XLarge (8 x 2000 MHz, 32 GB): a synchronous call
    xl = ids.uuid()
    t = datetime(2024, 6, 18, 9, 16, 5, 220000)
    s.api_call(t, op, f"command=changeServiceForVirtualMachine&id={vm.uuid}&serviceofferingid={xl}&response=json", took=0.214)

    # 09:17 start: last host refused (reserved CPU, then free RAM), kvm02 refused, no destination
    t = datetime(2024, 6, 18, 9, 17, 40, 18000)
    jt, jc, t = submit(s, t, op, f"command=startVirtualMachine&id={vm.uuid}&response=json", 63,
                       "org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin", vm,
                       {"id": vm.uuid, "response": "json", "ctxUserId": "2", "httpmethod": "GET", "ctxAccountId": "2", "cmdEventType": "VM.START", "uuid": vm.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 63, 64, "VmWorkStart", vm, {})
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Stopped", "Starting", "StartRequested", kvm01, None, None)])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["Deploy avoids pods: [], clusters: [], hosts: []", "DeploymentPlanner allocation algorithm: null",
             "Trying to allocate a host and storage pools from dc:1, pod:1,cluster:1, requested cpu: 16000, requested ram: (32.00 GB) 34359738368",
             "Is ROOT volume READY (pool already allocated)?: Yes", "This VM has last host_id specified, trying to choose the same host: 4"])
    r1, _ = check_lines(s, kvm01, 16000, 32 * GB, "2.0", True, 68000, 8000, 90 * GB, 16 * GB, T, M)
    r2, _ = check_lines(s, kvm01, 16000, 32 * GB, "2.0", False, 68000, 8000, 90 * GB, 16 * GB, T, M)
    t = emit(s, t, "DEBUG", CM, wt, wc, ["Host: 4 has cpu capability (cpu:32, speed:2600) to support requested CPU: 8 and requested speed: 2000", *r1, *r2])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["The last host of this VM does not have enough capacity", "Cannot choose the last host to deploy this VM "])
    t = emit(s, t, "DEBUG", FFP, wt, wc, ["Searching all possible resources under this Zone: 1",
             "Listing clusters in order of aggregate capacity, that have (at least one host with) enough CPU and RAM capacity under this Zone: 1",
             "Removing from the clusterId list these clusters from avoid set: []"])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["Checking resources in Cluster: 1 under Pod: 1"])
    ac = Ctx((*wc.ndc, "FirstFitRoutingAllocator"), wc.logid)
    t = emit(s, t, "DEBUG", FFA, wt, ac, ["Looking for hosts in dc: 1  pod:1  cluster:1",
             "FirstFitAllocator has 2 hosts to check for allocation: [Host[-4-Routing], Host[-5-Routing]]",
             "Found 2 hosts for allocation after prioritization: [Host[-4-Routing], Host[-5-Routing]]",
             "Looking for speed=16000Mhz, Ram=32768 MB"])
    for h, used_cpu, rcpu, used_mem, rmem in ((kvm01, 68000, 8000, 90 * GB, 16 * GB), (kvm02, 70000, 0, 112 * GB, 0)):
        msgs, _ = check_lines(s, h, 16000, 32 * GB, "2.0", False, used_cpu, rcpu, used_mem, rmem, T, M)
        t = emit(s, t, "DEBUG", CM, wt, ac, [f"Host: {h.id} has cpu capability (cpu:32, speed:2600) to support requested CPU: 8 and requested speed: 2000", *msgs])
        t = emit(s, t, "DEBUG", FFA, wt, ac, [f"Not using host {h.id}; host has cpu capability? true, host has capacity?false"])
    t = emit(s, t, "DEBUG", FFA, wt, ac, ["Host Allocator returning 0 suitable hosts"])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["No suitable hosts found", "No suitable hosts found under this Cluster: 1",
             "Could not find suitable Deployment Destination for this VM under any clusters, returning. "])
    t = emit(s, t, "DEBUG", FFP, wt, wc, ["Searching all possible resources under this Zone: 1",
             "Listing clusters in order of aggregate capacity, that have (at least one host with) enough CPU and RAM capacity under this Zone: 1",
             "Removing from the clusterId list these clusters from avoid set: [1]",
             "No clusters found after removing disabled clusters and clusters in avoid list, returning."])
    t = emit(s, t, "DEBUG", DPM, wt, wc, ["Deploy avoids pods: [], clusters: [1], hosts: []"])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm, "Starting", "Stopped", "OperationFailed", kvm01, None, None)])
    ice = f"com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM[User|{vm.name}]Scope=interface com.cloud.dc.DataCenter; id=1"
    t = emit(s, t + 3 * MS, "ERROR", "com.cloud.vm.VmWorkJobHandlerProxy", wt, wc, [f"Invocation exception, caused by: {ice}"])
    t = emit(s, t, "INFO", "com.cloud.vm.VmWorkJobHandlerProxy", wt, wc, [f"Rethrow exception {ice}"])
    outer = Ctx(wc.ndc[:-1], wc.logid)
    t = emit(s, t, "DEBUG", "com.cloud.vm.VmWorkJobDispatcher", wt, outer, [f"Done with run of VM work job: com.cloud.vm.VmWorkStart for VM {vm.id}, job origin: 63"])
    frames_ice = [ice] + traces.frames("com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1228)",
                                       "com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:5303)") + traces.work_job("VmWorkStart", 5426, java=11)
    det = (f"AsyncJobVO: {{id:64, userId: 2, accountId: 2, instanceType: null, instanceId: null, cmd: com.cloud.vm.VmWorkStart, "
           f"cmdInfo: rO0ABXNyABhjb20uY2xvdWQudm0uVm1Xb3JrU3RhcnR9cM, cmdVersion: 0, status: IN_PROGRESS, processStatus: 0, resultCode: 0, "
           f"result: null, initMsid: {s.msid}, completeMsid: null, lastUpdated: null, lastPolled: null, created: Tue Jun 18 09:17:40 UTC 2024, removed: null}}")
    s.mgmt.add(t, "ERROR", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Unable to complete {det}, job origin:63", outer.ndc, outer.logid, frames_ice)
    t += 2 * MS
    s.complete(t, wt, outer, 64, "FAILED", 0, "rO0ABXNyADdjb20uY2xvdWQuZXhjZXB0aW9uLkluc3VmZmljaWVudFNlcnZlckNhcGFjaXR5RXhjZXB0aW9uAAAAAFZNT3ACAAFaABVhZmZpbml0eUdyb3Vwc0FwcGxpZWR4cgAxY29tLmNsb3VkLmV4Y2VwdGlvbi5JbnN1ZmZpY2llbnRDYXBhY2l0eUV4Y2VwdGlvbgAAAABWTU91AgACTAACaWR0ABBMamF2YS9sYW5nL0xvbmc7TAAFc2NvcGV0ABFMamF2YS9sYW5nL0NsYXNzO3hy", "com.cloud.vm.VmWorkStart")
    t += 60 * MS
    cmd = "org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin"
    s.mgmt.add(t, "INFO", cmd, jt, ice, jc.ndc, jc.logid)
    api_frames = [ice] + traces.frames("com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1228)",
                                       "com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:5303)") + traces.work_job("VmWorkStart", 5426, java=11)
    s.mgmt.add(t + MS, "INFO", cmd, jt, f"Unable to create a deployment for VM[User|{vm.name}]", jc.ndc, jc.logid, api_frames)
    s.complete(t + 9 * MS, jt, jc, 63, "FAILED", 533,
               "org.apache.cloudstack.api.response.ExceptionResponse/null/" + js({"uuidList": [], "errorcode": 533, "errortext": f"Unable to create a deployment for VM[User|{vm.name}]"}), cmd)
    for k in range(3):
        tt = t + timedelta(seconds=1 + 3 * k)
        s.api_call(tt, op, f"command=queryAsyncJobResult&jobId={s.job_uuid(63)}&response=json&_={int(tt.timestamp() * 1000)}", took=0.011)

    # 09:31 the hourly capacity checker finally recalibrates kvm01 from the VMs it actually finds


    s.capacity_checker(datetime(2024, 6, 18, 9, 31, 12, 5000), {
        4: ["Found 6 VMs on host 4", "Found 0 VMs are Migrating from host 4", "Found 2 VM, not running on host 4",
            "Calibrate used cpu for host: 4 old usedCpu:68000 new usedCpu:40000",
            "Calibrate reserved cpu for host: 4 old reservedCpu:8000 new reservedCpu:20000",
            f"Calibrate used memory for host: 4 old usedMem: (90.00 GB) {90 * GB} new usedMem: (42.00 GB) {42 * GB}",
            f"Calibrate reserved memory for host: 4 old reservedMem:{16 * GB} new reservedMem:{40 * GB}"],
        5: s.steady_host_lines(kvm02, 5, 0, 70000, 0, 112 * GB, 0)})


    free = ("               total        used        free      shared  buff/cache   available\n"
            "Mem:          128498       44012       62871         214       21615       83192\n"
            "Swap:           8191           0        8191\n")
    expected = {
        "title": "Start after an offering upgrade refused for RAM the host has: stale capacity books on kvm01",
        "cloudstack_version": "4.15.2", "format_generation": "log4j1-logid", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "capacity_check", "host_id": 4, "outcome": "insufficient_reserved_cpu", "from_reserved": True, "requested_ram": 32 * GB},
            {"kind": "capacity_check", "host_id": 4, "outcome": "insufficient_ram", "requested_ram": 32 * GB, "free_ram": 19 * GB + GB // 2},
            {"kind": "capacity_check", "host_id": 5, "outcome": "insufficient_ram", "requested_ram": 32 * GB},
            {"kind": "capacity_change", "op": "allocate", "resource": "memory", "host_id": 4, "old_used": 90 * GB, "new_used": 98 * GB},
            {"kind": "capacity_change", "op": "release", "resource": "memory", "host_id": 4, "old_used": 106 * GB, "new_used": 90 * GB},
            {"kind": "capacity_change", "op": "calibrate", "resource": "memory", "host_id": 4, "old_used": 90 * GB, "new_used": 42 * GB},
            {"kind": "vm_state", "from_state": "Stopped", "to_state": "Starting", "event": "StartRequested"},
            {"kind": "insufficient_capacity", "exception": "InsufficientServerCapacityException", "scope": "zone", "scope_id": 1},
            {"kind": "async_job", "phase": "complete", "job": 63, "status": "FAILED", "result_code": 533},
            {"kind": "api_call", "command": "changeServiceForVirtualMachine", "phase": "start"},
        ],
        "findings": [{"category": "stale_capacity"}, {"category": "insufficient_capacity"}],
        "absent_findings": [{"category": c} for c in ("libvirt_memory", "scale_rejected", "agent_connectivity", "resource_limit")],
        "root_cause": {"category": "stale_capacity", "step": "start", "host": "kvm01"},
        "follow": [{"logid": "fc577e10", "seq": stop_seq, "files": ["management-server.log", "kvm01/agent.log"]},
                   {"logid": next(x[3] for x in s.sent if x[2] == seq88), "seq": seq88, "files": ["management-server.log", "kvm01/agent.log"]}],
    }
    return {"name": "stale-capacity-start", "scenario": s, "logs": {"management-server.log": s.mgmt, "kvm01/agent.log": s.agent_logs[4]},
            "files": {"kvm01/free_-m.txt": (free, None)}, "expected": expected}
