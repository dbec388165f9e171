"""ping-timeout-during-scale: the agent link dies while a live scale's ScaleVmCommand is in flight (4.2.1 layout).

Layout of the oldest generation: no logid, `(Job-Executor-11:job-1076)` NDC, `%c{3}` loggers on both sides, raw
byte counts. The agent finishes the scale but its answer never arrives; both tries time out, the monitor finds the
host behind on ping, and the agent reconnects minutes later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import background, check_lines, emit
from render import GB, Style, js  # noqa: F401
from world import MS, Ctx, Host, Scenario, Vm

AM = "com.cloud.agent.manager.AgentManagerImpl"
AJ = "com.cloud.async.AsyncJobManagerImpl"


def build() -> dict:
    s = Scenario("4.2", 4021, Style("log4j1", "c3"), Style("log4j1", "c3"), msid=90520735423495)
    ids = s.ids
    kvm01 = s.add_host(Host(4, "kvm01", ids.uuid(), "10.20.0.41", cpus=24, speed=2600), ["i-3-93-VM", "i-2-44-VM", "i-5-50-VM", "r-7-VM"], True, skew=1.8)
    s.add_host(Host(5, "kvm02", ids.uuid(), "10.20.0.42", cpus=24, speed=2600), ["i-5-51-VM", "i-6-60-VM", "s-1-VM", "v-2-VM"], False)
    vm = Vm(93, "i-3-93-VM", ids.uuid(), "billing-db", account="billing", account_id=3, user_id=3)
    start, end = datetime(2014, 3, 12, 9, 46, 12, 448000), datetime(2014, 3, 12, 10, 13, 58)
    link_down, link_up = datetime(2014, 3, 12, 9, 59, 31), datetime(2014, 3, 12, 10, 6, 29, 640000)
    s.ping_gaps[4] = [(link_down, link_up + timedelta(seconds=20))]
    disconnect = datetime(2014, 3, 12, 10, 2, 17, 23000)
    s.link_down[4] = (link_down, disconnect, link_up + timedelta(seconds=20))
    background(s, start, end, 55, [vm.uuid, ids.uuid(), ids.uuid()])
    a = s.agent_logs[4]
    # the agent keeps "sending" pings into the dead link; no response comes back
    t = link_down + timedelta(seconds=19.2)
    aseq = [s.next_aseq(4) for _ in range(5)]
    for k in range(5):
        cmd = js([{"com.cloud.agent.api.PingRoutingWithNwGroupsCommand": {"newGroupStates": {}, "newStates": {}, "_gatewayAccessible": True, "_vnetAccessible": True, "hostType": "Routing", "hostId": 4, "wait": 0}}])
        a.add(t + timedelta(seconds=60 * k), "DEBUG", "com.cloud.agent.Agent", "Agent-Handler-1", f"Sending ping: Seq {aseq[k]}:  {{ Cmd , MgmtId: -1, via: 4, Ver: v1, Flags: 11, {cmd} }}")

    # 09:58:40 live scale of i-3-93-VM from 2 x 2000 MHz / 4 GB to 4 x 2000 MHz / 8 GB
    off = ids.uuid()
    sess = "F3B1C7D2A9E04C6B8E1F5A3D7C9B2E40"
    t = datetime(2014, 3, 12, 9, 58, 40, 117000)
    q = f"command=scaleVirtualMachine&id={vm.uuid}&serviceofferingid={off}&response=json&sessionkey=T0u4%2FxsQH9w6uX7m1yqO5H2c5Jg%3D&_=1394618320113"
    api_th = "catalina-exec-7"
    none = Ctx((), None)
    s.mgmt.add(t, "DEBUG", "com.cloud.api.ApiServlet", api_th, f"===START===  10.20.0.15 -- GET  {q}")
    info = {"id": vm.uuid, "serviceofferingid": off, "response": "json", "sessionkey": "T0u4/xsQH9w6uX7m1yqO5H2c5Jg=", "ctxUserId": "2", "ctxAccountId": "2", "ctxStartEventId": "18842", "_": "1394618320113"}
    det = (f"AsyncJobVO {{id:1076, userId: 2, accountId: 2, sessionKey: null, instanceType: VirtualMachine, instanceId: 93, "
           f"cmd: org.apache.cloudstack.api.command.user.vm.ScaleVMCmd, cmdOriginator: null, cmdInfo: {js(info)}, cmdVersion: 0, "
           f"callbackType: 0, callbackAddress: null, status: 0, processStatus: 0, resultCode: 0, result: null, initMsid: {s.msid}, "
           f"completeMsid: null, lastUpdated: null, lastPolled: null, created: null}}")
    s.mgmt.add(t + 41 * MS, "DEBUG", AJ, api_th, f"submit async job-1076 = [ {sess} ], details: {det}")
    jt = "Job-Executor-11"
    jc = Ctx(("job-1076",), None)
    s.mgmt.add(t + 44 * MS, "DEBUG", AJ, jt, "Executing org.apache.cloudstack.api.command.user.vm.ScaleVMCmd for job-1076", jc.ndc)
    s.mgmt.add(t + 47 * MS, "DEBUG", "com.cloud.api.ApiServlet", api_th, f"===END===  10.20.0.15 -- GET  {q}")
    msgs, _ = check_lines(s, kvm01, 4000, 4 * GB, "1.0", False, 41600, 0, 40 * GB, 0, 62400, 96 * GB)
    t = emit(s, t + 80 * MS, "DEBUG", "com.cloud.capacity.CapacityManagerImpl", jt, jc, msgs)
    vmto = {"id": 93, "name": vm.name, "bootloader": "PyGrub", "type": "User", "cpus": 4, "minSpeed": 2000, "maxSpeed": 2000,
            "minRam": 8589934592, "maxRam": 8589934592, "os": "CentOS 6.4 (64-bit)", "enableHA": False, "limitCpuUse": False, "uuid": vm.uuid}
    scale = {"vmName": vm.name, "cpus": 4, "minSpeed": 2000, "maxSpeed": 2000, "speed": 2000, "minRam": 8589934592, "maxRam": 8589934592,
             "limitCpuUse": False, "vm": vmto, "wait": 120}
    seq1 = s.command(t + 12 * MS, 4, jt, jc, "com.cloud.agent.api.ScaleVmCommand", scale, "com.cloud.agent.api.ScaleVmAnswer",
                     {}, flags="100111", answered=False, agent_thread_no=3)
    # the agent finishes at 10:00:05 and writes an answer the dead link swallows
    a.add(datetime(2014, 3, 12, 10, 0, 5, 380000), "DEBUG", "com.cloud.agent.Agent", "agentRequest-Handler-3",
          f"Seq {seq1}:  {{ Ans: , MgmtId: {s.msid}, via: 4, Ver: v1, Flags: 110, {js([{'com.cloud.agent.api.ScaleVmAnswer': {'result': True, 'wait': 0}}])} }}")

    def timed_out(seq: str, payload: dict, at: datetime) -> None:
        line = f"Seq {seq}: Timed out on Seq {seq}:  {{ Cmd , MgmtId: {s.msid}, via: 4, Ver: v1, Flags: 100111, {js([{'com.cloud.agent.api.ScaleVmCommand': payload}])} }}"
        s.mgmt.add(at, "WARN", "com.cloud.agent.manager.AgentAttache", jt, line, jc.ndc)
        n = seq.split("-", 1)[1]
        tr = [f"com.cloud.exception.AgentUnavailableException: Resource [Host:4] is unreachable: Host 4: Operation timed out on reconfiguring VM[User|{vm.name}]"] + traces.frames(
            "com.cloud.vm.VirtualMachineManagerImpl.reConfigureVm(VirtualMachineManagerImpl.java:3293)",
            "com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:1264)",
            "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1199)",
            "com.cloud.utils.component.ComponentInstantiationPostProcessor$InterceptorDispatcher.intercept(ComponentInstantiationPostProcessor.java:125)",
            "org.apache.cloudstack.api.command.user.vm.ScaleVMCmd.execute(ScaleVMCmd.java:104)",
            "com.cloud.api.ApiDispatcher.dispatch(ApiDispatcher.java:158)",
            "com.cloud.async.AsyncJobManagerImpl$1.run(AsyncJobManagerImpl.java:531)",
            "java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:471)",
            "java.util.concurrent.FutureTask$Sync.innerRun(FutureTask.java:334)",
            "java.util.concurrent.FutureTask.run(FutureTask.java:166)",
            "java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1145)",
            "java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:615)",
            "java.lang.Thread.run(Thread.java:744)") + [
            f"Caused by: com.cloud.exception.OperationTimedoutException: Commands {n} to Host 4 timed out after 120"] + traces.frames(
            "com.cloud.agent.manager.AgentAttache.send(AgentAttache.java:414)",
            "com.cloud.agent.manager.AgentManagerImpl.send(AgentManagerImpl.java:394)",
            "com.cloud.agent.manager.AgentManagerImpl.send(AgentManagerImpl.java:350)",
            "com.cloud.vm.VirtualMachineManagerImpl.reConfigureVm(VirtualMachineManagerImpl.java:3278)") + ["\t... 12 more"]
        s.mgmt.add(at + 3 * MS, "WARN", "com.cloud.vm.UserVmManagerImpl", jt, "Received exception while scaling ", jc.ndc, None, tr)

    t1 = t + 12 * MS + timedelta(seconds=120, milliseconds=4)
    timed_out(seq1, scale, t1)
    # second try (scale.retry = 2) goes into the dead link and never reaches the agent
    msgs, _ = check_lines(s, kvm01, 4000, 4 * GB, "1.0", False, 41600, 0, 40 * GB, 0, 62400, 96 * GB)
    t2 = emit(s, t1 + 30 * MS, "DEBUG", "com.cloud.capacity.CapacityManagerImpl", jt, jc, msgs)
    seq2 = s.command(t2 + 9 * MS, 4, jt, jc, "com.cloud.agent.api.ScaleVmCommand", scale, "com.cloud.agent.api.ScaleVmAnswer", {}, flags="100111", answered=False)
    # drop the agent-side lines of the second try: it never arrived
    a.entries = [e for e in a.entries if seq2 not in e.msg and not (e.msg == "Processing command: com.cloud.agent.api.ScaleVmCommand" and e.ts > t1)]

    # 10:02:17 the monitor finds kvm01 behind on ping (last ping 09:59:2x + 150 s)
    t = datetime(2014, 3, 12, 10, 2, 17, 23000)
    s.mgmt.add(t, "INFO", AM, "AgentMonitor-1", "Found the following agents behind on ping: [4]")
    s.mgmt.add(t + 9 * MS, "DEBUG", "com.cloud.host.Status", "AgentMonitor-1", "Ping timeout for host 4, do invstigation")
    tp = "AgentTaskPool-2"
    t = emit(s, t + 14 * MS, "INFO", AM, tp, Ctx((), None), ["Investigating why host 4 has disconnected with event PingTimeout"])
    t = emit(s, t + timedelta(seconds=0.8), "INFO", AM, tp, none, ["The state determined is Disconnected"])
    t = emit(s, t, "WARN", AM, tp, none, ["Agent is disconnected but the host is still up: 4-kvm01"])
    s.mgmt.add(t + 20 * MS, "WARN", "org.apache.cloudstack.alerts", tp, " alertType:: 7 // dataCenterId:: 1 // podId:: 1 // clusterId:: null // message:: Host disconnected, name: kvm01 (id:4), availability zone: ams1, pod: pod-a")
    t = emit(s, t + 40 * MS, "INFO", AM, tp, none, ["Host 4 is disconnecting with event AgentDisconnected"])
    t = emit(s, t, "DEBUG", AM, tp, none, ["The next status of agent 4is Disconnected, current status is Up", "Deregistering link for 4 with state Disconnected"])
    for k, lost in enumerate(s.lost.get(4, [])):  # queued stats requests; the waiting scale is not cancelled
        s.mgmt.add(t + (2 + k) * MS, "DEBUG", "com.cloud.agent.manager.AgentAttache", tp, f"Seq {lost}: Cancelling.")
    t = emit(s, t + 5 * MS, "DEBUG", AM, tp, none, [f"Sending Disconnect to listener: com.cloud.vm.VirtualMachineManagerImpl"])

    t3 = t2 + 9 * MS + timedelta(seconds=120, milliseconds=3)
    timed_out(seq2, scale, t3)
    s.complete(t3 + 47 * MS, jt, jc, 1076, "FAILED", 530, "Error Code: 530 Error text: Failed to scale vm", "")

    # the agent notices after ping.interval x retries, reconnects once the network is back
    t = datetime(2014, 3, 12, 10, 4, 49, 611000)
    a.add(t, "ERROR", "com.cloud.agent.Agent", "Agent-Handler-1", "Ping Interval has gone past 300000.  Attempting to reconnect.")
    t += timedelta(seconds=5.002)
    a.add(t, "INFO", "com.cloud.agent.Agent", "Agent-Handler-1", "Lost connection to the server. Dealing with the remaining commands...")
    a.add(t + 9 * MS, "INFO", "com.cloud.utils.nio.NioClient", "Agent-Handler-1", "NioClient connection closed")
    t += timedelta(seconds=5.01)
    while t < link_up:
        a.add(t, "INFO", "com.cloud.agent.Agent", "Agent-Handler-1", "Reconnecting...")
        a.add(t + MS, "INFO", "com.cloud.utils.nio.NioClient", "Agent-Handler-1", "Connecting to 10.20.0.5:8250")
        a.add(t + timedelta(seconds=3.004), "WARN", "com.cloud.utils.nio.NioConnection", "Agent-Handler-1",
              "Unable to connect to remote: is there a server running on port 8250",
              extra=["java.net.NoRouteToHostException: No route to host"] + traces.frames(
                  "sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)",
                  "sun.nio.ch.SocketChannelImpl.finishConnect(SocketChannelImpl.java:739)",
                  "com.cloud.utils.nio.NioClient.init(NioClient.java:56)",
                  "com.cloud.utils.nio.NioConnection.start(NioConnection.java:83)",
                  "com.cloud.agent.Agent.reconnect(Agent.java:509)",
                  "com.cloud.agent.Agent$ServerHandler.doTask(Agent.java:854)",
                  "com.cloud.utils.nio.Task.run(Task.java:83)",
                  "java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1145)",
                  "java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:615)",
                  "java.lang.Thread.run(Thread.java:744)"))
        t += timedelta(seconds=8.01)
    a.add(t, "INFO", "com.cloud.agent.Agent", "Agent-Handler-1", "Reconnecting...")
    a.add(t + MS, "INFO", "com.cloud.utils.nio.NioClient", "Agent-Handler-1", "Connecting to 10.20.0.5:8250")
    a.add(t + 70 * MS, "INFO", "com.cloud.utils.nio.NioClient", "Agent-Handler-1", "Connected to 10.20.0.5:8250")
    a.add(t + 5 * S(), "INFO", "com.cloud.agent.Agent", "Agent-Handler-1", "Connected to the server")
    back = t + 5 * S() + 300 * MS
    a.add(back, "INFO", "com.cloud.agent.Agent", "Agent-Handler-2", "Proccess agent startup answer, agent id = 4")
    a.add(back + 2 * MS, "INFO", "com.cloud.agent.Agent", "Agent-Handler-2", "Startup Response Received: agent id = 4")
    a.add(back + 900 * MS, "INFO", "com.cloud.agent.Agent", "agentRequest-Handler-1", "Proccess agent ready command, agent id = 4")
    a.add(back + 902 * MS, "INFO", "com.cloud.agent.Agent", "agentRequest-Handler-1", "Ready command is processed: agent id = 4")
    mt = back - timedelta(seconds=1.8)
    startup = js([{"com.cloud.agent.api.StartupRoutingCommand": {"cpus": 24, "speed": 2600, "memory": 101390516224, "dom0MinMemory": 0, "poolSync": False,
                   "caps": "hvm", "hypervisorType": "KVM", "hostDetails": {"Host.OS": "CentOS", "Host.OS.Version": "6.5", "Host.OS.Kernel.Version": "2.6.32-431.el6.x86_64"},
                   "hypervisorVersion": "0.12.1", "type": "Routing", "dataCenter": "1", "pod": "1", "cluster": "1", "guid": f"{kvm01.uuid}-LibvirtComputingResource",
                   "name": "kvm01", "version": "4.2.1", "privateIpAddress": "10.20.0.41", "wait": 0}}])
    s.mgmt.add(mt, "DEBUG", "com.cloud.agent.transport.Request", "AgentConnectTaskPool-3", f"Seq 4-{s._aseq[4] + 1}: Processing the first command  {{ Cmd , MgmtId: -1, via: 4, Ver: v1, Flags: 111, {startup} }}")
    s.mgmt.add(mt + 180 * MS, "DEBUG", AM, "AgentConnectTaskPool-3", "create ConnectedAgentAttache for 4")


    expected = {
        "title": "Agent ping timeout on kvm01 while a live scale's ScaleVmCommand is in flight; the answer is lost and both tries time out",
        "cloudstack_version": "4.2.1", "format_generation": "log4j1", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "agent_event", "event": "behind_on_ping", "side": "management", "host_ids": [4]},
            {"kind": "agent_event", "event": "ping_timeout", "side": "management", "host_id": 4},
            {"kind": "agent_event", "event": "investigating", "side": "management", "host_id": 4},
            {"kind": "agent_event", "event": "disconnected_host_up", "side": "management", "host_id": 4},
            {"kind": "agent_command", "seq": seq1, "action": "timed_out"},
            {"kind": "agent_command", "seq": seq2, "action": "timed_out"},
            {"kind": "agent_event", "event": "lost_connection", "side": "agent"},
            {"kind": "agent_event", "event": "connect_failed", "side": "agent"},
            {"kind": "async_job", "phase": "complete", "job": 1076, "result_code": 530},
        ],
        "findings": [{"category": "agent_connectivity"}],
        "absent_findings": [{"category": c} for c in ("insufficient_capacity", "libvirt_memory", "stale_capacity", "resource_limit")],
        "root_cause": {"category": "agent_connectivity", "step": "live_scale", "host": "kvm01"},
        "follow": [{"seq": seq1, "files": ["management-server.log", "kvm01/agent.log"]}],
    }
    return {"name": "ping-timeout-during-scale", "scenario": s, "logs": {"management-server.log": s.mgmt, "kvm01/agent.log": a}, "expected": expected}


def S() -> timedelta:
    return timedelta(seconds=1)
