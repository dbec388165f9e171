"""healthy-scale: negative control; a live scale on KVM and a stop/change/start that both succeed (4.20.1).

One benign wrinkle is kept on purpose: the restarted VM's old reservation (smaller than its new offering)
is not consumed at allocation and the next capacity-checker run calibrates it away, as CloudStack does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common import (CM, DPM, VMM, allocate_lines, background, begin_work, check_lines, domain_xml, emit, end_work,
                    release_lines, state_line, submit)
from render import GB, Style, js
from world import MS, Ctx, Host, Scenario, Vm

T = 83200
FACTOR = 2.0
SW = "com.cloud.hypervisor.kvm.resource.wrapper.LibvirtScaleVmCommandWrapper"


def build() -> dict:
    s = Scenario("4.20", 4208, Style("log4j2", "abbrev"), Style("log4j2", "c3"), msid=90520741420039)
    ids = s.ids
    kvm01 = s.add_host(Host(4, "kvm01", ids.uuid(), "10.20.0.41"), ["i-2-42-VM", "i-5-61-VM", "i-7-88-VM", "r-12-VM"], True, skew=0.62)
    kvm02 = s.add_host(Host(5, "kvm02", ids.uuid(), "10.20.0.42"), ["i-3-77-VM", "i-5-63-VM", "i-9-104-VM", "s-1-VM", "v-2-VM"], True, skew=-1.14)
    vm = Vm(42, "i-2-42-VM", ids.uuid(), "web-prod-01")
    vm77 = Vm(77, "i-3-77-VM", ids.uuid(), "report-gen-01", account="finance", account_id=3, user_id=4)
    M = kvm01.total_mem
    start, end = datetime(2025, 3, 12, 9, 58, 41, 70000), datetime(2025, 3, 12, 10, 33, 5)
    h1, h2 = kvm01.cap(s.era), kvm02.cap(s.era)
    start77 = datetime(2025, 3, 12, 10, 21, 30)
    calibrated: list[datetime] = []

    def checker(t: datetime) -> dict[int, list[str]]:
        k1 = s.steady_host_lines(kvm01, 4, 0, 40000 if t < datetime(2025, 3, 12, 10, 6) else 44000, 0,
                                 60 * GB if t < datetime(2025, 3, 12, 10, 6) else 64 * GB, 0)
        if t < datetime(2025, 3, 12, 10, 18):
            return {4: k1, 5: s.steady_host_lines(kvm02, 5, 0, 38000, 0, 48 * GB, 0)}
        if t < start77:
            return {4: k1, 5: s.steady_host_lines(kvm02, 4, 1, 34000, 4000, 44 * GB, 4 * GB)}
        if calibrated:
            return {4: k1, 5: s.steady_host_lines(kvm02, 5, 0, 42000, 0, 52 * GB, 0)}
        calibrated.append(t)  # the reservation the start did not consume is dropped once
        return {4: k1, 5: [f"Found 5 VMs on {h2}", f"Found 0 VMs are Migrating from {h2}", f"Found 0 VM, not running on {h2}",
                           f"Calibrate reserved cpu for host: {h2} old reservedCpu:4000 new reservedCpu:0",
                           f"Calibrate reserved memory for host: {h2} old reservedMem:{4 * GB} new reservedMem:0"]}

    background(s, start, end, 80, [vm.uuid, vm77.uuid, ids.uuid()], checker=checker)
    op = "10.20.0.15"

    # 10:05 live scale i-2-42-VM: Medium (2 x 2000 MHz, 4 GB, dynamic) -> Large (4 x 2000 MHz, 8 GB)
    large = ids.uuid()
    t = datetime(2025, 3, 12, 10, 5, 12, 448000)
    cmd = "org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin"
    jt, jc, t = submit(s, t, op, f"command=scaleVirtualMachine&id={vm.uuid}&serviceofferingid={large}&response=json", 1401, cmd, vm,
                       {"serviceofferingid": large, "id": vm.uuid, "response": "json", "ctxUserId": "2", "httpmethod": "GET", "cmdEventType": "VM.UPGRADE", "ctxAccountId": "2", "uuid": vm.uuid})
    rl = Ctx((*jc.ndc, f"ctx-{ids.hex8()}"), jc.logid)
    rlm = "com.cloud.resourcelimit.ResourceLimitManagerImpl"
    t = emit(s, t + 40 * MS, "DEBUG", rlm, jt, rl, [
        "Checking if  amount of resources of Type = 'cpu', tag = 'null' for Account Name = admin in Domain Id = 1 is exceeded: Account Resource Limit = -1, Current Account Resource Amount = 38, Current Account Resource Reservation = 0, Requested Resource Amount = 2.",
        "Checking if  amount of resources of Type = 'memory', tag = 'null' for Account Name = admin in Domain Id = 1 is exceeded: Account Resource Limit = -1, Current Account Resource Amount = 77824, Current Account Resource Reservation = 0, Requested Resource Amount = 4096."])
    msgs, _ = check_lines(s, kvm01, 4000, 4 * GB, "2.0", False, 40000, 0, 60 * GB, 0, T, M)
    t = emit(s, t + 5 * MS, "DEBUG", CM, jt, jc, [f"{kvm01.render(s.era)} has cpu capability (cpu: 32, speed: 2600 ) to support requested CPU: 4 and requested speed: 2000", *msgs])
    wt, wc, t = begin_work(s, t + 3 * MS, jt, jc, 1401, 1402, "VmWorkReconfigure", vm, {})
    details = f"{vm.to()} memory to [8388608 KiB], CPU cores to [4] and cpu_shares to [8000]"
    scale = {"vm": {"id": 42, "name": vm.name, "type": "User", "cpus": 4, "minSpeed": 1000, "maxSpeed": 2000, "minRam": 4294967296, "maxRam": 8589934592,
                    "uuid": vm.uuid, "enableDynamicallyScaleVm": True}, "vmName": vm.name, "cpus": 4, "minSpeed": 1000, "maxSpeed": 2000,
             "minRam": 4294967296, "maxRam": 8589934592, "limitCpuUse": False, "wait": 0, "bypassHostMaintenance": False}
    dimm = "<memory model='dimm'><target><size unit='KiB'>4194304</size><node>0</node></target></memory>"
    seq = s.command(t + 12 * MS, 4, wt, wc, "com.cloud.agent.api.ScaleVmCommand", scale, "com.cloud.agent.api.ScaleVmAnswer",
                    {"result": True, "details": f"Successfully scaled {details}.", "wait": 0, "bypassHostMaintenance": False}, took=1.31, agent_thread_no=3,
                    agent_lines=[("DEBUG", SW, f"Scaling {details}."), ("DEBUG", SW, f"Attaching memory device [{dimm}] to {vm.to()}."),
                                 ("INFO", SW, f"Successfully increased cpu_shares of VM [{vm.name}] from [4000] to [8000].")])
    t += timedelta(seconds=1.4)
    t = emit(s, t, "DEBUG", CM, wt, wc, release_lines(s, kvm01, 40000, 0, T, FACTOR, 4000, 60 * GB, 0, M, 4 * GB, False))
    t = emit(s, t, "DEBUG", CM, wt, wc, allocate_lines(s, kvm01, 36000, 0, T, FACTOR, 8000, 56 * GB, 0, M, 8 * GB, False))
    t = end_work(s, t, wt, wc, 1401, 1402, "VmWorkReconfigure", vm)
    s.complete(t + 25 * MS, jt, jc, 1401, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm.uuid, "name": "web-prod-01", "state": "Running", "serviceofferingname": "Large", "cpunumber": 4, "memory": 8192}), cmd)

    # 10:18 stop i-3-77-VM on kvm02, 10:19 change offering (2 x 2000 / 4 GB -> 4 x 2000 / 8 GB), 10:21 start
    M2 = kvm02.total_mem
    t = datetime(2025, 3, 12, 10, 18, 3, 907000)
    scmd = "org.apache.cloudstack.api.command.user.vm.StopVMCmd"
    jt, jc, t = submit(s, t, "10.20.0.31", f"command=stopVirtualMachine&id={vm77.uuid}&response=json", 1410, scmd, vm77,
                       {"id": vm77.uuid, "response": "json", "ctxUserId": "4", "ctxAccountId": "3", "cmdEventType": "VM.STOP", "uuid": vm77.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 1410, 1411, "VmWorkStop", vm77, {})
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm77, "Running", "Stopping", "StopRequested", kvm02, kvm02, kvm02)])
    stop_seq = s.command(t + 11 * MS, 5, wt, wc, "com.cloud.agent.api.StopCommand",
                         {"isProxy": False, "checkBeforeCleanup": False, "forceStop": False, "volumesToDisconnect": [], "vmName": vm77.name, "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
                         "com.cloud.agent.api.StopAnswer", {"result": True, "wait": 0, "bypassHostMaintenance": False}, took=6.2)
    s.vms_on[5].remove(vm77.name)
    t += timedelta(seconds=6.3)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm77, "Stopping", "Stopped", "OperationSucceeded", kvm02, None, kvm02)])
    t = emit(s, t, "DEBUG", CM, wt, wc, release_lines(s, kvm02, 38000, 0, T, FACTOR, 4000, 48 * GB, 0, M2, 4 * GB, True))
    t = end_work(s, t, wt, wc, 1410, 1411, "VmWorkStop", vm77)
    s.complete(t + 30 * MS, jt, jc, 1410, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm77.uuid, "name": "report-gen-01", "state": "Stopped"}), scmd)
    big = ids.uuid()
    t = datetime(2025, 3, 12, 10, 19, 44, 120000)
    s.api_call(t, "10.20.0.31", f"command=changeServiceForVirtualMachine&id={vm77.uuid}&serviceofferingid={big}&response=json", took=0.171)
    t = start77
    stcmd = "org.apache.cloudstack.api.command.user.vm.StartVMCmd"
    jt, jc, t = submit(s, t, "10.20.0.31", f"command=startVirtualMachine&id={vm77.uuid}&response=json", 1415, stcmd, vm77,
                       {"id": vm77.uuid, "response": "json", "ctxUserId": "4", "ctxAccountId": "3", "cmdEventType": "VM.START", "uuid": vm77.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 1415, 1416, "VmWorkStart", vm77, {})
    hv = kvm02.render(s.era)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm77, "Stopped", "Starting", "StartRequested", kvm02, None, None)])
    t = emit(s, t, "DEBUG", DPM, wt, wc, [f"This VM has last host_id specified, trying to choose the same host: {hv}"])
    r1, _ = check_lines(s, kvm02, 8000, 8 * GB, "2.0", True, 34000, 4000, 44 * GB, 4 * GB, T, M2)
    r2, _ = check_lines(s, kvm02, 8000, 8 * GB, "2.0", False, 34000, 4000, 44 * GB, 4 * GB, T, M2)
    t = emit(s, t, "DEBUG", CM, wt, wc, [*r1, *r2])
    t = emit(s, t, "DEBUG", DPM, wt, wc, [f"Last host [{hv}] of VM [{vm77.render(s.era, 'Starting')}] is UP and has enough capacity. Checking for suitable pools for this host under zone [1], pod [1] and cluster [1].",
             "Returning Deployment Destination: Dest[Zone(Id)-Pod(Id)-Cluster(Id)-Host(Id)-Storage(Volume(Id|Type-->Pool(Id))] : Dest[Zone(1)-Pod(1)-Cluster(1)-Host(5)-Storage(Volume(119|ROOT-->Pool(1))]."])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm77, "Starting", "Starting", "OperationRetry", kvm02, kvm02, None), "VM starting again on the last host it was stopped on"])
    t = emit(s, t + 15 * MS, "DEBUG", CM, wt, wc, allocate_lines(s, kvm02, 34000, 4000, T, FACTOR, 8000, 44 * GB, 4 * GB, M2, 8 * GB, True))
    vmto = {"id": 77, "name": vm77.name, "state": "Starting", "type": "User", "cpus": 4, "minSpeed": 1000, "maxSpeed": 2000, "minRam": 4294967296, "maxRam": 8589934592,
            "arch": "x86_64", "os": "Ubuntu 22.04 LTS", "uuid": vm77.uuid, "enableDynamicallyScaleVm": False}
    start_seq = s.command(t + 20 * MS, 5, wt, wc, "com.cloud.agent.api.StartCommand", {"vm": vmto, "hostIp": kvm02.ip, "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
                          "com.cloud.agent.api.StartAnswer", {"vm": vmto, "result": True, "wait": 0, "bypassHostMaintenance": False}, took=7.9,
                          agent_lines=[("DEBUG", "com.cloud.hypervisor.kvm.resource.wrapper.LibvirtStartCommandWrapper", f"starting {vm77.name}: ")], agent_thread_no=1)
    for e in s.agent_logs[5].entries:
        if e.msg == f"starting {vm77.name}: ":
            e.extra = domain_xml(vm77, 8388608, 4, 8000)
    s.vms_on[5].append(vm77.name)
    t += timedelta(seconds=8)
    t = emit(s, t, "DEBUG", VMM, wt, wc, [f"Start completed for VM {vm77.render(s.era, 'Starting')}"])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm77, "Starting", "Running", "OperationSucceeded", kvm02, kvm02, kvm02)])
    t = end_work(s, t, wt, wc, 1415, 1416, "VmWorkStart", vm77)
    s.complete(t + 30 * MS, jt, jc, 1415, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm77.uuid, "name": "report-gen-01", "state": "Running", "hostname": "kvm02"}), stcmd)

    expected = {
        "title": "Negative control: a live scale on KVM and a stop/changeServiceForVirtualMachine/start, both successful",
        "cloudstack_version": "4.20.1", "format_generation": "log4j2", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "async_job", "phase": "complete", "job": 1401, "status": "SUCCEEDED", "result_code": 0},
            {"kind": "async_job", "phase": "complete", "job": 1415, "status": "SUCCEEDED", "result_code": 0},
            {"kind": "capacity_check", "host_id": 4, "outcome": "ok", "requested_ram": 4 * GB},
            {"kind": "capacity_check", "host_id": 5, "outcome": "insufficient_reserved_cpu", "from_reserved": True, "requested_ram": 8 * GB},
            {"kind": "capacity_check", "host_id": 5, "outcome": "ok", "from_reserved": False, "requested_ram": 8 * GB},
            {"kind": "capacity_change", "op": "allocate", "resource": "memory", "host_id": 4, "old_used": 56 * GB, "new_used": 64 * GB},
            {"kind": "vm_state", "from_state": "Starting", "to_state": "Running", "event": "OperationSucceeded"},
            {"kind": "api_call", "command": "changeServiceForVirtualMachine", "phase": "start"},
        ],
        "findings": [],
        # the start after the upgrade logs the normal "not enough reserved CPU" of a bigger offering on its last host,
        # so insufficient_capacity (at info level) is not excluded here
        "absent_findings": [{"category": c} for c in ("start_failed", "stale_capacity", "scale_rejected", "libvirt_memory",
                                                       "resource_limit", "agent_connectivity", "host_resource")],
        "root_cause": None,
        "follow": [{"logid": next(x[3] for x in s.sent if x[2] == seq), "seq": seq, "files": ["management-server.log", "kvm01/agent.log"]},
                   {"logid": next(x[3] for x in s.sent if x[2] == start_seq), "seq": start_seq, "files": ["management-server.log", "kvm02/agent.log"]},
                   {"logid": next(x[3] for x in s.sent if x[2] == stop_seq), "seq": stop_seq, "files": ["management-server.log", "kvm02/agent.log"]}],
    }
    sensors = ("coretemp-isa-0000\nAdapter: ISA adapter\nPackage id 0:  +54.0\u00b0C  (high = +80.0\u00b0C, crit = +100.0\u00b0C)\n"
               + "".join(f"Core {i}:        +{48 + (i * 7) % 9}.0\u00b0C  (high = +80.0\u00b0C, crit = +100.0\u00b0C)\n" for i in range(8))
               + "\ncoretemp-isa-0001\nAdapter: ISA adapter\nPackage id 1:  +57.0\u00b0C  (high = +80.0\u00b0C, crit = +100.0\u00b0C)\n"
               + "".join(f"Core {i}:        +{50 + (i * 5) % 8}.0\u00b0C  (high = +80.0\u00b0C, crit = +100.0\u00b0C)\n" for i in range(8))
               + "\nacpitz-acpi-0\nAdapter: ACPI interface\ntemp1:        +27.8\u00b0C  (crit = +119.0\u00b0C)\n")
    free = ("               total        used        free      shared  buff/cache   available\n"
            "Mem:          128498       71266       29806         188       27426       56121\n"
            "Swap:           8191          12        8179\n")
    return {"name": "healthy-scale", "scenario": s, "logs": {"management-server.log": s.mgmt, "kvm01/agent.log": s.agent_logs[4], "kvm02/agent.log": s.agent_logs[5]},
            "files": {"kvm01/sensors.txt": (sensors, None), "kvm01/free_-m.txt": (free, None)}, "expected": expected}
