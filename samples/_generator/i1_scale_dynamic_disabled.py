"""scale-dynamic-disabled: a live scale refused because enable.dynamic.scale.vm is false (4.20.1, log4j2)."""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import CM, MS, background, begin_work, emit, end_work, poll, release_lines, state_line, submit
from render import GB, Style, js
from world import Host, Scenario, Vm


def build() -> dict:
    s = Scenario("4.20", 1201, Style("log4j2", "abbrev"), Style("log4j2", "c3"), msid=90520741420039)
    ids = s.ids
    kvm01 = s.add_host(Host(4, "kvm01", ids.uuid(), "10.20.0.41"), ["i-2-42-VM", "i-5-61-VM", "i-7-88-VM", "r-12-VM", "i-2-97-VM"], True, skew=1.27)
    s.add_host(Host(5, "kvm02", ids.uuid(), "10.20.0.42"), ["i-5-63-VM", "i-9-104-VM", "s-1-VM", "v-2-VM"], False)
    vm = Vm(42, "i-2-42-VM", ids.uuid(), "web-prod-01")
    others = [ids.uuid() for _ in range(6)]
    start, end = datetime(2025, 3, 10, 13, 48, 2, 311000), datetime(2025, 3, 10, 14, 19, 40)
    stop61 = datetime(2025, 3, 10, 13, 58, 19)

    def checker(t: datetime) -> dict[int, list[str]]:
        k2 = s.steady_host_lines(s.host(5), 4, 0, 22000, 0, 48 * GB, 0)
        if t < stop61:
            return {4: s.steady_host_lines(kvm01, 5, 1, 30000, 2000, 60 * GB, 2 * GB), 5: k2}
        return {4: s.steady_host_lines(kvm01, 4, 2, 26000, 6000, 56 * GB, 6 * GB), 5: k2}

    background(s, start, end, 70, [vm.uuid, *others], checker=checker)
    s.other_job(datetime(2025, 3, 10, 13, 55, 40, 17000), 1198, 9, 7, "10.20.0.48",
                f"command=createTags&resourceids={others[1]}&resourcetype=UserVm&tags[0].key=owner&tags[0].value=team-b&response=json",
                "org.apache.cloudstack.api.command.user.tag.CreateTagsCmd",
                {"resourceids": others[1], "resourcetype": "UserVm", "response": "json", "ctxUserId": "9", "ctxAccountId": "7", "cmdEventType": "CREATE_TAGS"},
                'org.apache.cloudstack.api.response.SuccessResponse/null/{"success":true}')
    s.other_job(datetime(2025, 3, 10, 14, 11, 2, 640000), 1203, 9, 7, "10.20.0.48",
                f"command=deleteTags&resourceids={others[1]}&resourcetype=UserVm&tags[0].key=owner&response=json",
                "org.apache.cloudstack.api.command.user.tag.DeleteTagsCmd",
                {"resourceids": others[1], "resourcetype": "UserVm", "response": "json", "ctxUserId": "9", "ctxAccountId": "7", "cmdEventType": "DELETE_TAGS"},
                'org.apache.cloudstack.api.response.SuccessResponse/null/{"success":true}')

    # another tenant stops one of its VMs on kvm01: a normal work job (job-1195/job-1196) in the same file
    vm61 = Vm(61, "i-5-61-VM", others[2], "build-agent-07", account="devops", account_id=5, user_id=6)
    t = datetime(2025, 3, 10, 13, 58, 19, 540000)
    jt, jc, t = submit(s, t, "10.20.0.48", f"command=stopVirtualMachine&id={vm61.uuid}&response=json", 1195,
                       "org.apache.cloudstack.api.command.user.vm.StopVMCmd", vm61,
                       {"id": vm61.uuid, "response": "json", "ctxUserId": "6", "ctxAccountId": "5", "cmdEventType": "VM.STOP", "uuid": vm61.uuid})
    wt, wc, t = begin_work(s, t, jt, jc, 1195, 1196, "VmWorkStop", vm61, {})
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm61, "Running", "Stopping", "StopRequested", kvm01, kvm01, kvm01)])
    s.command(t + 14 * MS, 4, wt, wc, "com.cloud.agent.api.StopCommand",
              {"isProxy": False, "checkBeforeCleanup": False, "forceStop": False, "volumesToDisconnect": [], "vmName": vm61.name, "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
              "com.cloud.agent.api.StopAnswer", {"result": True, "wait": 0, "bypassHostMaintenance": False}, took=5.1)
    s.vms_on[4].remove(vm61.name)
    t += timedelta(seconds=5.2)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, vm61, "Stopping", "Stopped", "OperationSucceeded", kvm01, None, kvm01)])
    t = emit(s, t, "DEBUG", CM, wt, wc, release_lines(s, kvm01, 30000, 2000, 83200, 2.0, 4000, 60 * GB, 2 * GB, kvm01.total_mem, 4 * GB, True))
    t = end_work(s, t, wt, wc, 1195, 1196, "VmWorkStop", vm61)
    s.complete(t + 30 * MS, jt, jc, 1195, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/" + js({"id": vm61.uuid, "name": "build-agent-07", "state": "Stopped"}),
               "org.apache.cloudstack.api.command.user.vm.StopVMCmd")

    # the operator looks the VM and the offerings up, then asks for a live scale to "Large" (4 vCPU, 8 GB)
    large = ids.uuid()
    op = "10.20.0.15"
    t = datetime(2025, 3, 10, 14, 1, 31, 872000)
    s.api_call(t, op, f"command=listVirtualMachines&response=json&id={vm.uuid}&_={int(t.timestamp() * 1000)}", took=0.051)
    t2 = t + timedelta(seconds=6.4)
    s.api_call(t2, op, f"command=listServiceOfferings&response=json&virtualmachineid={vm.uuid}&issystem=false&_={int(t2.timestamp() * 1000)}", took=0.033)
    t = datetime(2025, 3, 10, 14, 2, 11, 101000)
    query = f"command=scaleVirtualMachine&id={vm.uuid}&serviceofferingid={large}&response=json"
    info = {"serviceofferingid": large, "id": vm.uuid, "response": "json", "ctxUserId": "2", "httpmethod": "GET",
            "ctxStartEventId": "50231", "ctxDetails": js({"interface com.cloud.vm.VirtualMachine": vm.uuid, "interface com.cloud.offering.ServiceOffering": large}),
            "cmdEventType": "VM.UPGRADE", "ctxAccountId": "2", "uuid": vm.uuid}
    cmd = "org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin"
    jt, jc, t = submit(s, t, op, query, 1201, cmd, vm, info)
    inner = s.ctx(*jc.ndc[1:], logid=None)
    rl_ctx = type(jc)((*jc.ndc, inner.ndc[0]), jc.logid)
    rlm = "com.cloud.resourcelimit.ResourceLimitManagerImpl"
    t += timedelta(milliseconds=51)
    s.mgmt.add(t, "DEBUG", rlm, jt, "Checking if  amount of resources of Type = 'cpu', tag = 'null' for Account Name = admin in Domain Id = 1 is exceeded: Account Resource Limit = -1, Current Account Resource Amount = 38, Current Account Resource Reservation = 0, Requested Resource Amount = 2.", rl_ctx.ndc, rl_ctx.logid)
    s.mgmt.add(t + MS, "DEBUG", rlm, jt, "Checking if  amount of resources of Type = 'memory', tag = 'null' for Account Name = admin in Domain Id = 1 is exceeded: Account Resource Limit = -1, Current Account Resource Amount = 77824, Current Account Resource Reservation = 0, Requested Resource Amount = 4096.", rl_ctx.ndc, rl_ctx.logid)
    msg = "Dynamically scaling virtual machines is disabled for this zone, please contact your admin."
    trace = [f"com.cloud.exception.PermissionDeniedException: {msg}"] + traces.frames(
        "com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:2126)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:2032)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1979)",
    ) + traces.spring_proxy("upgradeVirtualMachine") + traces.api_dispatch(
        "org.apache.cloudstack.api.command.user.vm.ScaleVMCmd", "ScaleVMCmd.java", 189)
    t += timedelta(milliseconds=37)
    s.mgmt.add(t, "ERROR", "com.cloud.api.ApiAsyncJobDispatcher", jt, f"Unexpected exception while executing {cmd}", jc.ndc, jc.logid, trace)
    result = 'org.apache.cloudstack.api.response.ExceptionResponse/null/' + js({"uuidList": [], "errorcode": 530, "errortext": msg})
    s.complete(t + 8 * MS, jt, jc, 1201, "FAILED", 530, result, cmd)
    job_uuid = s.job_uuid(1201)
    poll(s, datetime(2025, 3, 10, 14, 2, 12, 402000), op, job_uuid, 2)
    # the operator checks the zone setting afterwards
    t = datetime(2025, 3, 10, 14, 6, 48, 90000)
    s.api_call(t, op, f"command=listConfigurations&response=json&name=enable.dynamic.scale.vm&zoneid={ids.uuid()}&_={int(t.timestamp() * 1000)}", took=0.02)


    follow = next(x for x in s.sent if x[1] == 4 and x[0] > datetime(2025, 3, 10, 14, 0))
    expected = {
        "title": "Live scale of a running VM refused: enable.dynamic.scale.vm is false for the zone",
        "cloudstack_version": "4.20.1", "format_generation": "log4j2", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "api_call", "command": "scaleVirtualMachine", "phase": "start"},
            {"kind": "async_job", "phase": "complete", "job": 1201, "status": "FAILED", "result_code": 530},
            {"kind": "scale_error", "reason": "dynamic_scaling_disabled"},
            {"kind": "resource_limit", "resource_type": "memory", "requested": 4096, "exceeded": False},
        ],
        "findings": [{"category": "scale_rejected"}],
        "absent_findings": [{"category": c} for c in ("insufficient_capacity", "libvirt_memory", "agent_connectivity", "stale_capacity", "resource_limit")],
        "root_cause": {"category": "scale_rejected", "step": "live_scale", "host": None},
        "follow": [{"logid": follow[3], "seq": follow[2], "files": ["management-server.log", "kvm01/agent.log"]}],
    }
    return {"name": "scale-dynamic-disabled", "scenario": s, "logs": {"management-server.log": s.mgmt, "kvm01/agent.log": s.agent_logs[4]},
            "expected": expected}
