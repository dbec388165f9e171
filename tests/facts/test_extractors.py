"""Every extractor: a real-format log excerpt in, the typed fact out (strings from cloudstack-log-formats.md)."""

from __future__ import annotations

from diagnostics.facts import facts_from_text

H4 = 'Host {"id":4,"uuid":"0b6e1c2a-7d3f-4c55-9a0e-5d1f2b3c4d5e","name":"kvm01","type":"Routing"}'
VM42 = 'VM instance {"id":42,"instanceName":"i-2-42-VM","uuid":"5b0c9f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b","type":"User","state":"Starting"}'
NDC = "(Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) (logid:0f1e2d3c)"
OLD_NDC = "(Work-Job-Executor-17:ctx-3d84aa87 job-61/job-62 ctx-25941f70) (logid:fc577e10)"


def one(text: str, kind: str):
    facts = [f for f in facts_from_text(text) if f.kind == kind]
    assert len(facts) == 1, facts
    return facts[0]


def test_capacity_check_block_becomes_one_fact_with_free_and_requested():
    text = f"""2025-03-10 15:11:55,713 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Checking if host: {H4} has enough capacity for requested CPU: 16000 and requested RAM: (32.00 GB) 34359738368 , cpuOverprovisioningFactor: 2.0
2025-03-10 15:11:55,713 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Hosts's actual total CPU: 96000 and CPU after applying overprovisioning: 192000
2025-03-10 15:11:55,713 DEBUG [c.c.c.CapacityManagerImpl] {NDC} considerReservedCapacity isfalse , not considering reserved capacity for calculating free capacity
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Free CPU: 88000 , Requested CPU: 16000
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Free RAM: (13.50 GB) 14495514624 , Requested RAM: (32.00 GB) 34359738368
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} STATS: Failed to alloc resource from host: {H4}, reservedCpu: 4000, used cpu: 100000, requested cpu: 16000, actual total cpu: 96000, total cpu with overprovisioning: 192000, reservedMem: (8.00 GB) 8589934592, used Mem: (112.00 GB) 120259084288, requested mem: (32.00 GB) 34359738368, total Mem: (125.50 GB) 134754598912, considerReservedCapacity?: true
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Host does not have enough RAM available, cannot allocate to this host.
"""
    f = one(text, "capacity_check")
    assert (f.host_id, f.host_name, f.outcome) == (4, "kvm01", "insufficient_ram")
    assert f.requested_ram == 34359738368 and f.free_ram == 14495514624
    assert f.requested_cpu == 16000 and f.free_cpu == 88000 and f.cpu_overprovisioning == 2.0
    assert f.used_ram == 120259084288 and f.reserved_ram == 8589934592 and f.total_ram == 134754598912
    assert f.total_cpu == 192000 and f.actual_total_cpu == 96000
    assert (f.job, f.work_job, f.logid, f.line) == (1310, 1311, "0f1e2d3c", 7)


def test_capacity_check_from_reserved_with_old_host_rendering():
    text = f"""2019-05-06 07:08:09,410 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} Checking if host: Host[-4-Routing] has enough capacity for requested CPU: 4000 and requested RAM: 8589934592 , cpuOverprovisioningFactor: 1.0
2019-05-06 07:08:09,411 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} We need to allocate to the last host again, so checking if there is enough reserved capacity
2019-05-06 07:08:09,411 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} Reserved CPU: 2000 , Requested CPU: 4000
2019-05-06 07:08:09,411 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} Reserved RAM: 4294967296 , Requested RAM: 8589934592
2019-05-06 07:08:09,412 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} Host does not have enough reserved CPU available, cannot allocate to this host.
"""
    f = one(text, "capacity_check")
    assert f.host_id == 4 and f.from_reserved and f.outcome == "insufficient_reserved_cpu"
    assert f.reserved_cpu == 2000 and f.reserved_ram == 4294967296 and f.requested_ram == 8589934592
    assert (f.job, f.work_job, f.logid) == (61, 62, "fc577e10")


def test_capacity_check_ok():
    text = f"""2025-03-10 15:11:55,713 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Checking if host: {H4} has enough capacity for requested CPU: 2000 and requested RAM: (2.00 GB) 2147483648 , cpuOverprovisioningFactor: 1.0
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Free RAM: (60.00 GB) 64424509440 , Requested RAM: (2.00 GB) 2147483648
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] {NDC} Host has enough CPU and RAM available
"""
    assert one(text, "capacity_check").outcome == "ok"


def test_release_and_allocate_capacity():
    text = f"""2025-03-10 15:10:02,530 DEBUG [c.c.c.CapacityManagerImpl] {NDC} release mem from host: {H4}, old used: (120.00 GB) 128849018880, reserved: (0 bytes) 0, total: (125.50 GB) 134754598912; new used: (112.00 GB) 120259084288, reserved: (8.00 GB) 8589934592; movedfromreserved: false, moveToReservered: true
2025-03-10 15:12:00,000 DEBUG [c.c.c.CapacityManagerImpl] {NDC} RAM STATS after allocation: for host: {H4}, old used: (112.00 GB) 120259084288, old reserved: (0 bytes) 0, total: (125.50 GB) 134754598912; new used: (120.00 GB) 128849018880, reserved: (0 bytes) 0; requested mem: (8.00 GB) 8589934592, alloc_from_last: false
"""
    facts = [f for f in facts_from_text(text) if f.kind == "capacity_change"]
    rel, alloc = facts
    assert (rel.op, rel.resource, rel.old_used, rel.new_used, rel.new_reserved, rel.total) == (
        "release", "memory", 128849018880, 120259084288, 8589934592, 134754598912)
    assert (alloc.op, alloc.requested, alloc.new_used, alloc.host_name) == ("allocate", 8589934592, 128849018880, "kvm01")


def test_insufficient_capacity_exception_in_trace_new_and_old_renderings():
    new = f"""2025-03-10 15:11:55,761 ERROR [c.c.v.VmWorkJobDispatcher] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311]) (logid:0f1e2d3c) Unable to complete AsyncJob {{"id":1311,"cmd":"com.cloud.vm.VmWorkStart"}}, job origin: 1310
com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for {VM42}Scope=interface com.cloud.dc.DataCenter; id=1
\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)
"""
    f = one(new, "insufficient_capacity")
    assert (f.exception, f.resource, f.scope, f.scope_id, f.vm) == ("InsufficientServerCapacityException", "compute", "zone", 1, "i-2-42-VM")
    old = "2019-05-06 07:08:12,000 INFO  [o.a.c.a.c.a.v.StartVMCmdByAdmin] (API-Job-Executor-3:ctx-0f1e2d3c job-60) (logid:0f1e2d3c) com.cloud.exception.InsufficientServerCapacityException: Unable to find a server to scale the vm to.Scope=interface com.cloud.org.Cluster; id=2"
    f = one(old, "insufficient_capacity")
    assert (f.scope, f.scope_id) == ("cluster", 2)
    storage = "2025-01-01 00:00:00,000 WARN  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-1:[]) (logid:) com.cloud.exception.InsufficientStorageCapacityException: insufficient capacity to allocate all volumesScope=interface com.cloud.storage.StoragePool; id=7"
    f = one(storage, "insufficient_capacity")
    assert (f.resource, f.scope, f.scope_id) == ("storage", "storage_pool", 7)
    addr = "2025-01-01 00:00:00,000 WARN  [c.c.n.IpAddressManagerImpl] (qtp-1:[]) (logid:) com.cloud.exception.InsufficientAddressCapacityException: Insufficient address capacityScope=interface com.cloud.dc.DataCenter; id=1"
    assert one(addr, "insufficient_capacity").resource == "address"


def test_vm_state_transition_both_generations():
    new = f"2025-03-10 16:20:31,600 DEBUG [c.c.c.CapacityManagerImpl] {NDC} {VM42} state transited from [Starting] to [Stopped] with event [OperationFailed]. VM's original host: {H4}, new host: null, host before state transition: {H4}"
    f = one(new, "vm_state")
    assert (f.vm, f.from_state, f.to_state, f.event, f.last_host_id, f.new_host_id, f.host_id) == ("i-2-42-VM", "Starting", "Stopped", "OperationFailed", 4, None, 4)
    old = f"2021-06-01 10:00:00,100 DEBUG [c.c.c.CapacityManagerImpl] {OLD_NDC} VM state transitted from :Starting to Starting with event: OperationRetryvm's original host id: 1 new host id: 1 host id before state transition: 1"
    f = one(old, "vm_state")
    assert (f.from_state, f.to_state, f.event, f.new_host_id) == ("Starting", "Starting", "OperationRetry", 1)


def test_async_jobs_submit_execute_complete_and_work_jobs():
    text = """2025-03-10 14:02:11,188 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (qtp1850777594-31:[ctx-a1b2c3d4]) (logid:a1b2c3d4) submit async job-1201, details: AsyncJob {"id":1201,"uuid":"x","userId":2,"accountId":2,"instanceType":"VirtualMachine","instanceId":42,"cmd":"org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin"}
2019-05-06 07:08:09,300 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-7:ctx-9c0e4a11 job-1201) (logid:9c0e4a11) Executing AsyncJobVO: {id:1201, userId: 2, accountId: 2, instanceType: VirtualMachine, instanceId: 42, cmd: org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin, cmdInfo: {}}
2025-03-10 14:02:11,305 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Complete async job-1201, jobStatus: FAILED, resultCode: 530, result: org.apache.cloudstack.api.response.ExceptionResponse/null/{"uuidList":[],"errorcode":530,"errortext":"Dynamically scaling virtual machines is disabled for this zone, please contact your admin."}
2025-03-10 15:11:55,702 DEBUG [c.c.v.VmWorkJobDispatcher] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311]) (logid:0f1e2d3c) Run VM work job: com.cloud.vm.VmWorkStart for VM 42, job origin: 1310
"""
    jobs = [f for f in facts_from_text(text) if f.kind == "async_job"]
    assert [j.phase for j in jobs] == ["submit", "execute", "complete", "work_run"]
    assert jobs[0].command == jobs[1].command == "ScaleVMCmdByAdmin" and jobs[1].instance_id == 42
    assert (jobs[2].status, jobs[2].result_code) == ("FAILED", 530) and jobs[2].result.startswith("Dynamically scaling")
    assert (jobs[3].job, jobs[3].work_job, jobs[3].command, jobs[3].instance_id) == (1310, 1311, "VmWorkStart", 42)


def test_agent_commands_on_both_sides_and_noise_skipped():
    text = """2025-03-10 17:05:12,300 WARN  [c.c.a.m.AgentAttache] (Work-Job-Executor-5:[ctx-3e4f5a6b, job-1500/job-1501, ctx-4f5a6b7c]) (logid:3e4f5a6b) Seq 4-7251549216581239001: Timed out on Seq 4-7251549216581239001:  { Cmd , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.ScaleVmCommand":{"vmName":"i-2-42-VM","cpus":4,"wait":0}}] }
2025-03-10 16:20:31,520 DEBUG [c.c.a.t.Request] (AgentManager-Handler-5:[]) (logid:) Seq 4-7251549216581238790: Processing:  { Ans: , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 10, [{"com.cloud.agent.api.StartAnswer":{"result":false,"details":"internal error: process exited while connecting to monitor","wait":0}}] }
2025-03-10 16:20:31,000 DEBUG [c.c.a.t.Request] (AgentManager-Handler-5:[]) (logid:) Seq 4-7251549216581238791: Received:  { Ans: , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 10, { GetHostStatsAnswer } }
2025-03-10 16:20:29,100 DEBUG [cloud.agent.Agent] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) Request:Seq 4-7251549216581238790:  { Cmd , MgmtId: 345049296663, via: 4, Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM"}}}] }
"""
    cmds = [f for f in facts_from_text(text) if f.kind == "agent_command"]
    assert [(c.action, c.commands) for c in cmds] == [("timed_out", ("ScaleVmCommand",)), ("processing", ("StartAnswer",)), ("request", ("StartCommand",))]
    assert cmds[0].vm == "i-2-42-VM" and cmds[0].host_name == "kvm01" and cmds[0].job == 1500
    assert cmds[1].result is False and cmds[1].details.startswith("internal error")
    assert cmds[2].seq == cmds[1].seq and cmds[2].logid == "6d7e8f90"


def test_ping_timeout_and_agent_reconnect_events():
    text = f"""2025-03-10 17:05:00,012 INFO  [c.c.a.m.AgentManagerImpl] (AgentMonitor-1:[ctx-1c2d3e4f]) (logid:1c2d3e4f) Found the following agents behind on ping: [4, 7]
2025-03-10 17:05:00,020 DEBUG [c.c.a.m.AgentManagerImpl] (AgentMonitor-1:[ctx-1c2d3e4f]) (logid:1c2d3e4f) Ping timeout for agent {H4}, do investigation
2025-03-10 17:05:30,900 WARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-3:[ctx-2d3e4f5a]) (logid:2d3e4f5a) Agent is disconnected but the host is still up: {H4} state: Enabled
2025-03-10 17:04:10,001 INFO  [cloud.agent.Agent] (Agent-Handler-1:[]) (logid:) Lost connection to host: 10.20.0.5. Attempting reconnection while we still have 1 commands in progress.
2025-03-10 17:04:15,020 WARN  [utils.nio.NioConnection] (Agent-Handler-1:[]) (logid:) Unable to connect to remote: is there a server running on port 8250?
2025-03-10 17:05:40,700 INFO  [utils.nio.NioClient] (Agent-Handler-1:[]) (logid:) SSL: Handshake done
2025-03-10 17:05:41,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentConnectTaskPool-1:[]) (logid:) Unable to acquire lock on host {H4}, to process agent connection
"""
    events = [f for f in facts_from_text(text) if f.kind == "agent_event"]
    assert [e.event for e in events] == ["behind_on_ping", "ping_timeout", "disconnected_host_up", "lost_connection", "connect_failed", "tls_handshake_done", "host_lock"]
    assert events[0].host_ids == (4, 7) and events[1].host_name == "kvm01" and events[3].peer == "10.20.0.5"
    assert events[3].side == "agent"


def test_libvirt_start_error_on_agent_and_relayed_by_management():
    text = f"""2025-03-10 16:20:31,455 WARN  [resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) LibvirtException 
org.libvirt.LibvirtException: internal error: Unable to find any usable hugetlbfs mount for 8388608 KiB
\tat org.libvirt.ErrorHandler.processError(Unknown Source)
\tat org.libvirt.Connect.domainCreateXML(Unknown Source)
2025-03-10 16:20:31,560 INFO  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401, ctx-88990011]) (logid:6d7e8f90) Unable to start VM on {H4} due to internal error: Unable to find any usable hugetlbfs mount for 8388608 KiB
"""
    facts = facts_from_text(text)
    errs = [f for f in facts if f.kind == "libvirt_error"]
    assert [(e.reported_by, e.operation, e.error_class, e.signature) for e in errs] == [
        ("agent", "start", "internal_error", "hugepages"), ("management", "start", "internal_error", "hugepages")]
    start = next(f for f in facts if f.kind == "start_failure")
    assert (start.host_name, start.event, start.job) == ("kvm01", "host_failed", 1400)


def test_live_scale_libvirt_error_and_balloon_warning():
    text = """2025-03-10 16:30:00,000 ERROR [resource.wrapper.LibvirtScaleVmCommandWrapper] (AgentRequest-Handler-3:[]) (logid:7e8f9012) Unable to scale VM {id: "42", name: "i-2-42-VM", uuid: "5b0c9f1e", type: "User"} memory to [8388608 KiB], CPU cores to [4] and cpu_shares to [8000] due to [unsupported configuration: Attaching memory device with size '4194304' would exceed domain's maxMemory config].
2025-03-10 16:20:31,700 WARN  [kvm.resource.LibvirtComputingResource] (AgentStatsCollector-1:[]) (logid:) Couldn't retrieve free memory, returning -1.
"""
    errs = [f for f in facts_from_text(text) if f.kind == "libvirt_error"]
    assert (errs[0].operation, errs[0].signature, errs[0].vm, errs[0].error_class) == ("scale", "max_memory_exceeded", "i-2-42-VM", "unsupported_configuration")
    assert errs[1].signature == "balloon_free_memory"


def test_resource_limit_exceeded_and_checking_line():
    text = """2025-03-10 14:02:11,260 ERROR [c.c.r.ResourceLimitManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Maximum amount of resources of Type = 'memory', tag = 'null' for Account Name = alice in Domain Id = 1 is exceeded: Account Resource Limit = 40960, Current Account Resource Amount = 36864, Current Account Resource Reservation = 0, Requested Resource Amount = 8192.
2025-03-10 14:02:11,259 DEBUG [c.c.r.ResourceLimitManagerImpl] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Checking if  amount of resources of Type = 'cpu', tag = 'null' for Account Name = alice in Domain Id = 1 is exceeded: Account Resource Limit = 8, Current Account Resource Amount = 6, Current Account Resource Reservation = 0, Requested Resource Amount = 4.
2025-03-10 14:02:11,270 ERROR [c.c.r.ResourceLimitManagerImpl] (API-Job-Executor-12:[]) (logid:9c0e4a11) Maximum domain resource limits of Type 'memory' for Domain Id = 3b9c is exceeded: Domain Resource Limit = 65536, Current Domain Resource Amount = 65000, Current Resource Reservation = 0, Requested Resource Amount = 4096.
"""
    limits = [f for f in facts_from_text(text) if f.kind == "resource_limit"]
    assert [(x.resource_type, x.owner_kind, x.owner, x.limit, x.current, x.requested, x.exceeded) for x in limits] == [
        ("memory", "account", "alice", 40960, 36864, 8192, True),
        ("cpu", "account", "alice", 8, 6, 4, True),
        ("memory", "domain", "3b9c", 65536, 65000, 4096, True),
    ]


def test_scale_refusals_each_get_a_reason():
    cases = {
        "com.cloud.exception.PermissionDeniedException: Dynamically scaling virtual machines is disabled for this zone, please contact your admin.": "dynamic_scaling_disabled",
        'com.cloud.utils.exception.CloudRuntimeException: Unable to scale VM[User|i-2-42-VM] as it does not have tools to support dynamic scaling.': "not_dynamically_scalable",
        'com.cloud.exception.InvalidParameterValueException: While the VM is running, only scalling up it is supported. New service offering {"memory": 2048, "speed": 2000, "cpu": 2} should have at least one value (ram, speed or cpu) greater than the current values {"memory": 4096, "speed": 2000, "cpu": 2}.': "scale_down_running",
        "com.cloud.exception.InvalidParameterValueException: Not upgrading vm VM[User|i-2-42-VM] since it already has the requested service offering (Large)": "same_offering",
        'com.cloud.exception.InvalidParameterValueException: Unable to live scale VM on KVM when current service offering is a "Fixed Offering". KVM needs the tag "maxMemory" to live scale': "fixed_offering",
        "com.cloud.exception.InvalidParameterValueException: Unable to upgrade virtual machine VM[User|i-2-42-VM]  in state Running; make sure the virtual machine is stopped": "not_stopped",
    }
    for text, reason in cases.items():
        log = f"2025-03-10 14:02:11,297 ERROR [c.c.a.ApiAsyncJobDispatcher] (API-Job-Executor-12:[ctx-9c0e4a11, job-1201]) (logid:9c0e4a11) Unexpected exception while executing org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin\n{text}\n\tat com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:2126)"
        f = one(log, "scale_error")
        assert f.reason == reason, text
    f = one(log.replace(text, list(cases)[2]), "scale_error")
    assert (f.new_memory, f.current_memory) == (2048 << 20, 4096 << 20)


def test_planner_avoid_set_and_no_capacity_and_host_tags():
    text = f"""2025-03-10 16:20:31,640 DEBUG [c.c.d.DeploymentPlanningManagerImpl] {NDC} Deploy avoids pods: [], clusters: [], hosts: [4].
2025-03-10 15:11:55,730 DEBUG [c.c.d.FirstFitPlanner] {NDC} No clusters found having a host with enough capacity, returning.
2025-03-10 15:11:55,715 DEBUG [c.c.d.DeploymentPlanningManagerImpl] {NDC} Cannot deploy VM [{VM42}] to the last host [{H4}] because this host does not have enough capacity to deploy this VM.
2025-03-10 15:11:55,716 ERROR [c.c.d.FirstFitPlanner] {NDC} No suitable host found for the following compute offering tags [ssd, gpu].
"""
    planner = [f for f in facts_from_text(text) if f.kind == "planner"]
    assert [p.event for p in planner] == ["avoid_set", "no_capacity", "last_host_refused", "host_tag_mismatch"]
    assert planner[0].avoid_hosts == (4,) and planner[2].host_name == "kvm01" and planner[2].vm == "i-2-42-VM"
    assert planner[3].scope == "ssd, gpu"


def test_api_call_keeps_lifecycle_commands_and_drops_secrets():
    text = """2025-01-02 03:04:05,678 DEBUG [c.c.a.ApiServlet] (qtp1850777594-18:[ctx-3f1d0a1d]) (logid:3f1d0a1d) ===START===  10.1.1.5 -- GET  command=changeServiceForVirtualMachine&id=6c4f&serviceofferingid=9a1b&apiKey=SECRETKEY&signature=SIG&response=json
2025-01-02 03:04:05,679 DEBUG [c.c.a.ApiServlet] (qtp1850777594-18:[ctx-3f1d0a1d]) (logid:3f1d0a1d) ===START===  10.1.1.5 -- GET  command=listVirtualMachines&response=json
"""
    f = one(text, "api_call")
    assert (f.command, f.offering, f.vm_uuid, f.phase) == ("changeServiceForVirtualMachine", "9a1b", "6c4f", "start")
    assert "SECRETKEY" not in f.params and "SIG" not in f.params


def test_host_identity_once_per_host_and_nic_change():
    text = "\n".join(
        ["2019-05-06 07:08:10,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-12:null) (logid:) Ping from Routing host 3(kvm03)"] * 5
        + [
            '2025-01-01 00:00:00,000 DEBUG [c.c.a.t.Request] (Work-Job-Executor-1:[ctx-1, job-1/job-2]) (logid:1) Seq 4-1: Sending  { Cmd , MgmtId: 1, via: 4(kvm01), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM","nics":[{"deviceId":0,"networkRateMbps":200,"mac":"02:00:4c:5e:00:01"}]}}}] }',
            '2025-01-02 00:00:00,000 DEBUG [c.c.a.t.Request] (Work-Job-Executor-1:[ctx-1, job-3/job-4]) (logid:1) Seq 4-2: Sending  { Cmd , MgmtId: 1, via: 4(kvm01), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM","nics":[{"deviceId":0,"networkRateMbps":200,"mac":"02:00:4c:5e:00:99"}]}}}] }',
        ]
    )
    facts = facts_from_text(text)
    ident = [f for f in facts if f.kind == "host_identity"]
    assert [(f.host_id, f.host_name) for f in ident] == [(3, "kvm03")]
    nic = next(f for f in facts if f.kind == "nic_change")
    assert (nic.vm, nic.previous_mac, nic.mac, nic.device_id) == ("i-2-42-VM", "02:00:4c:5e:00:01", "02:00:4c:5e:00:99", 0)
