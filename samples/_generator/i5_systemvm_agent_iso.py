"""systemvm-agent-iso: scaling the console proxy live is refused; stop/change/start works (4.20.1).

The second file is the console proxy's own agent log (`/var/log/cloud.log` inside v-2-VM): log4j2 with
`%d{ISO8601}` (a `T` between date and time) and no `(logid:...)` field.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import CM, DPM, VMM, background, begin_work, checker_lines, emit, end_work, state_line, submit
from render import GB, Log, Style, js  # noqa: F401
from world import MS, Host, Scenario, Vm


def build() -> dict:
    s = Scenario("4.20", 4201, Style("log4j2", "abbrev"), Style("log4j2", "c3"), msid=181903519326530, qtp="qtp1364767791")
    ids = s.ids
    s.add_host(Host(1, "kvm-a1", ids.uuid(), "10.20.0.11"), ["i-2-14-VM", "i-2-15-VM", "r-4-VM", "s-1-VM"], False)
    kvm2 = s.add_host(Host(2, "kvm-a2", ids.uuid(), "10.20.0.12"), ["i-3-21-VM", "i-3-22-VM", "v-2-VM"], False)
    cpvm = Vm(2, "v-2-VM", ids.uuid(), "v-2-VM", account="system", account_id=1, user_id=1, vtype="ConsoleProxy")
    cp_host_uuid = ids.uuid()
    start, end = datetime(2025, 9, 21, 20, 31, 2, 905000), datetime(2025, 9, 21, 21, 4, 17)
    background(s, start, end, 50, [ids.uuid(), ids.uuid()], checker=checker_lines(s, {
        1: (4, 0, 14000, 0, 22 * GB, 0), 2: (3, 0, 9000, 0, 13 * GB, 0)}))
    cl = Log(Style("log4j2-nologid", "c3", "T"), skew=0.0)
    A, NIO = "com.cloud.agent.Agent", "com.cloud.utils.nio.NioClient"

    def cpvm_pings(t0: datetime, t1: datetime, seq: int) -> int:
        t = t0
        while t < t1:
            seq += 1
            cmd = js([{"com.cloud.agent.api.PingCommand": {"hostType": "ConsoleProxy", "hostId": 9, "wait": 0, "bypassHostMaintenance": False}}])
            ans = js([{"com.cloud.agent.api.PingAnswer": {"_command": {"hostType": "ConsoleProxy", "hostId": 9, "wait": 0, "bypassHostMaintenance": False}, "sendStartup": False, "result": True, "wait": 0, "bypassHostMaintenance": False}}])
            cl.add(t, "DEBUG", A, "Agent-Handler-2", f"Sending ping: Seq 9-{seq}:  {{ Cmd , MgmtId: -1, via: 9, Ver: v1, Flags: 11, {cmd} }}")
            th = f"AgentManager-Handler-{s.thread_no(1, 20)}"
            if t >= start:  # the management-server.log excerpt starts later than cloud.log
                s.mgmt.add(t + 6 * MS, "DEBUG", "com.cloud.agent.manager.AgentManagerImpl", th, f"SeqA 9-{seq}: Processing Seq 9-{seq}:  {{ Cmd , MgmtId: -1, via: 9, Ver: v1, Flags: 11, {cmd} }}")
                s.mgmt.add(t + 8 * MS, "DEBUG", "com.cloud.agent.manager.AgentManagerImpl", th, f"SeqA 9-{seq}: Sending Seq 9-{seq}:  {{ Ans: , MgmtId: {s.msid}, via: 9, Ver: v1, Flags: 100010, {ans} }}")
            cl.add(t + 12 * MS, "DEBUG", A, "Agent-Handler-2", f"Received response: Seq 9-{seq}:  {{ Ans: , MgmtId: {s.msid}, via: 9, Ver: v1, Flags: 100010, {ans} }}")
            t += timedelta(seconds=60, milliseconds=3)
        return seq

    seq = cpvm_pings(start + timedelta(seconds=11.417) - timedelta(minutes=117), datetime(2025, 9, 21, 20, 44, 30), 48092)
    follow_seq = f"9-{seq}"

    # 20:41 live scale of the console proxy: refused, system VMs carry no dynamic-scaling tools
    op = "10.20.0.15"
    big = ids.uuid()
    t = datetime(2025, 9, 21, 20, 41, 3, 233000)
    cmd = "org.apache.cloudstack.api.command.admin.systemvm.ScaleSystemVMCmd"
    jt, jc, t = submit(s, t, op, f"command=scaleSystemVm&id={cpvm.uuid}&serviceofferingid={big}&response=json", 3320, cmd, None,
                       {"id": cpvm.uuid, "serviceofferingid": big, "response": "json", "ctxUserId": "2", "httpmethod": "GET", "ctxAccountId": "2", "cmdEventType": "VM.UPGRADE"})
    msg = f"Unable to scale {cpvm.render(s.era, 'Running')} as it does not have tools to support dynamic scaling."
    tr = [f"com.cloud.utils.exception.CloudRuntimeException: {msg}"] + traces.frames(
        "com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:2131)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:2032)",
        "com.cloud.server.ManagementServerImpl.upgradeSystemVM(ManagementServerImpl.java:4697)") + traces.spring_proxy("upgradeSystemVM", "$Proxy307") + traces.api_dispatch(
        cmd, "ScaleSystemVMCmd.java", 128)
    t += 58 * MS
    s.mgmt.add(t, "ERROR", "com.cloud.api.ApiAsyncJobDispatcher", jt, f"Unexpected exception while executing {cmd}", jc.ndc, jc.logid, tr)
    s.complete(t + 7 * MS, jt, jc, 3320, "FAILED", 530, "org.apache.cloudstack.api.response.ExceptionResponse/null/" + js({"uuidList": [], "errorcode": 530, "errortext": msg}), cmd)

    # 20:44 stop, 20:45 change offering, 20:46 start on its last host
    t = datetime(2025, 9, 21, 20, 44, 31, 870000)
    cmd_stop = "org.apache.cloudstack.api.command.admin.systemvm.StopSystemVmCmd"
    jt, jc, t = submit(s, t, op, f"command=stopSystemVm&id={cpvm.uuid}&response=json", 3322, cmd_stop, None, {"id": cpvm.uuid, "response": "json", "cmdEventType": "PROXY.STOP"})
    wt, wc, t = begin_work(s, t, jt, jc, 3322, 3323, "VmWorkStop", cpvm, {})
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, cpvm, "Running", "Stopping", "StopRequested", kvm2, kvm2, kvm2)])
    s.command(t + 9 * MS, 2, wt, wc, "com.cloud.agent.api.StopCommand",
              {"isProxy": False, "checkBeforeCleanup": False, "forceStop": False, "volumesToDisconnect": [], "vmName": "v-2-VM", "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
              "com.cloud.agent.api.StopAnswer", {"result": True, "wait": 0, "bypassHostMaintenance": False}, took=4.2)
    cl.add(t + timedelta(seconds=0.4), "INFO", A, "AgentShutdownThread", "Stopping the agent: Reason = sig.kill")
    s.vms_on[2].remove("v-2-VM")
    t += timedelta(seconds=4.3)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, cpvm, "Stopping", "Stopped", "OperationSucceeded", kvm2, None, kvm2)])
    t = end_work(s, t, wt, wc, 3322, 3323, "VmWorkStop", cpvm)
    s.complete(t + 30 * MS, jt, jc, 3322, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.SystemVmResponse/systemvm/" + js({"id": cpvm.uuid, "systemvmtype": "consoleproxy", "name": "v-2-VM", "state": "Stopped"}), cmd_stop)
    t = datetime(2025, 9, 21, 20, 45, 12, 4000)
    s.api_call(t, op, f"command=changeServiceForSystemVm&id={cpvm.uuid}&serviceofferingid={big}&response=json", took=0.097)
    t = datetime(2025, 9, 21, 20, 46, 20, 551000)
    cmd_start = "org.apache.cloudstack.api.command.admin.systemvm.StartSystemVMCmd"
    jt, jc, t = submit(s, t, op, f"command=startSystemVm&id={cpvm.uuid}&response=json", 3325, cmd_start, None, {"id": cpvm.uuid, "response": "json", "cmdEventType": "PROXY.START"})
    wt, wc, t = begin_work(s, t, jt, jc, 3325, 3326, "VmWorkStart", cpvm, {})
    h2 = kvm2.render(s.era)
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, cpvm, "Stopped", "Starting", "StartRequested", kvm2, None, None)])
    t = emit(s, t, "DEBUG", DPM, wt, wc, [f"This VM has last host_id specified, trying to choose the same host: {h2}",
             f"Last host [{h2}] of VM [{cpvm.render(s.era, 'Starting')}] is UP and has enough capacity. Checking for suitable pools for this host under zone [1], pod [1] and cluster [1].",
             "Returning Deployment Destination: Dest[Zone(Id)-Pod(Id)-Cluster(Id)-Host(Id)-Storage(Volume(Id|Type-->Pool(Id))] : Dest[Zone(1)-Pod(1)-Cluster(1)-Host(2)-Storage(Volume(3|ROOT-->Pool(1))]."])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, cpvm, "Starting", "Starting", "OperationRetry", kvm2, kvm2, None)])
    vmto = {"id": 2, "name": "v-2-VM", "state": "Starting", "type": "ConsoleProxy", "cpus": 1, "minSpeed": 500, "maxSpeed": 500, "minRam": 2147483648, "maxRam": 2147483648,
            "arch": "x86_64", "os": "Debian GNU/Linux 12 (64-bit)", "uuid": cpvm.uuid, "enableDynamicallyScaleVm": False}
    s.command(t + 30 * MS, 2, wt, wc, "com.cloud.agent.api.StartCommand", {"vm": vmto, "hostIp": kvm2.ip, "executeInSequence": False, "wait": 0, "bypassHostMaintenance": False},
              "com.cloud.agent.api.StartAnswer", {"vm": vmto, "result": True, "wait": 0, "bypassHostMaintenance": False}, took=24.6)
    s.vms_on[2].append("v-2-VM")
    t += timedelta(seconds=24.7)
    t = emit(s, t, "DEBUG", VMM, wt, wc, [f"Start completed for VM {cpvm.render(s.era, 'Starting')}"])
    t = emit(s, t, "DEBUG", CM, wt, wc, [state_line(s, cpvm, "Starting", "Running", "OperationSucceeded", kvm2, kvm2, kvm2)])
    t = end_work(s, t, wt, wc, 3325, 3326, "VmWorkStart", cpvm)
    s.complete(t + 30 * MS, jt, jc, 3325, "SUCCEEDED", 0, "org.apache.cloudstack.api.response.SystemVmResponse/systemvm/" + js({"id": cpvm.uuid, "systemvmtype": "consoleproxy", "name": "v-2-VM", "state": "Running"}), cmd_start)

    # inside v-2-VM: the agent starts, connects to the management server, gets its startup answer
    t = datetime(2025, 9, 21, 20, 47, 10, 112000)
    who = f"[id: 9, uuid: {cp_host_uuid}, name: v-2-VM]"
    cl.add(t, "INFO", A, "main", f"Initialising agent {who}")
    cl.add(t + timedelta(milliseconds=1201), "INFO", A, "main", f"Connecting to host: {s.mgmt_ip}")
    cl.add(t + timedelta(milliseconds=1204), "INFO", NIO, "main", f"Connecting to {s.mgmt_ip}")
    cl.add(t + timedelta(milliseconds=2311), "INFO", NIO, "main", "SSL: Handshake done")
    cl.add(t + timedelta(milliseconds=2335), "INFO", NIO, "main", f"Connected to {s.mgmt_ip}")
    cl.add(t + timedelta(milliseconds=2447 - 112), "INFO", A, "Agent-Handler-1", f"Connected to the host: {s.mgmt_ip}")
    startup = js([{"com.cloud.agent.api.StartupProxyCommand": {"proxyPort": 80, "proxyVmId": 2, "type": "ConsoleProxy", "dataCenter": "1", "pod": "1",
                   "guid": f"Proxy.{cp_host_uuid}", "name": "v-2-VM", "version": "4.20.1.0", "privateIpAddress": "10.20.0.201",
                   "publicIpAddress": "203.0.113.41", "resourceName": "ConsoleProxyResource", "wait": 0, "bypassHostMaintenance": False}}])
    cl.add(t + timedelta(milliseconds=2449 - 112), "DEBUG", A, "Agent-Handler-1", f"Sending Startup: Seq 9-1:  {{ Cmd , MgmtId: -1, via: 9, Ver: v1, Flags: 101, {startup} }}")
    mc = s.ctx()
    s.mgmt.add(t + timedelta(milliseconds=2471), "DEBUG", "com.cloud.agent.transport.Request", "AgentConnectTaskPool-6", f"Seq 9-1: Processing the first command  {{ Cmd , MgmtId: -1, via: 9, Ver: v1, Flags: 101, {startup} }}", mc.ndc, mc.logid)
    cl.add(t + timedelta(milliseconds=2790), "INFO", A, "Agent-Handler-2", f"Process agent startup answer, agent {who} connected to the server")
    cl.add(t + timedelta(milliseconds=2793), "INFO", A, "Agent-Handler-2", f"Startup Response Received: agent {who}")
    cl.add(t + timedelta(milliseconds=3904), "INFO", A, "AgentRequest-Handler-1", f"Processing agent ready command, agent id = 9, uuid = {cp_host_uuid}, name = v-2-VM")
    cl.add(t + timedelta(milliseconds=3911), "INFO", A, "AgentRequest-Handler-1", f"Ready command is processed for agent {who}")
    cpvm_pings(t + timedelta(seconds=62.5), end, 0)


    expected = {
        "title": "Live scale of the console proxy v-2-VM refused (no dynamic-scaling tools); stop, change offering and start succeed",
        "cloudstack_version": "4.20.1", "format_generation": "iso-t", "vm": "v-2-VM", "tz": "UTC",
        "facts": [
            {"kind": "api_call", "command": "scaleSystemVm", "phase": "start"},
            {"kind": "scale_error", "reason": "not_dynamically_scalable"},
            {"kind": "async_job", "phase": "complete", "job": 3320, "status": "FAILED", "result_code": 530},
            {"kind": "async_job", "phase": "complete", "job": 3325, "status": "SUCCEEDED", "result_code": 0},
            {"kind": "agent_event", "event": "connected", "side": "agent"},
            {"kind": "agent_event", "event": "tls_handshake_done", "side": "agent"},
        ],
        "findings": [{"category": "scale_rejected"}],
        "absent_findings": [{"category": c} for c in ("insufficient_capacity", "libvirt_memory", "agent_connectivity", "stale_capacity", "resource_limit")],
        "root_cause": {"category": "scale_rejected", "step": "live_scale", "host": None},
        "follow": [{"seq": follow_seq, "files": ["management-server.log", "v-2-VM/cloud.log"]}],
    }
    return {"name": "systemvm-agent-iso", "scenario": s, "logs": {"management-server.log": s.mgmt, "v-2-VM/cloud.log": cl}, "expected": expected}
