"""Build a realistic management-server.log of a given size for benchmarks (not committed; see bench_logs.py).

The mix follows a busy 4.20 management server at DEBUG: agent pings and stats command traces, API list polling,
async jobs, capacity-checker recalculation, deployment planning with capacity checks, and now and then a failure
with a stack trace. Timestamps advance realistically; ids vary.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta

H = 'Host {{"id":{h},"uuid":"0b6e1c2a-7d3f-4c55-9a0e-5d1f2b3c4d{h:02d}","name":"kvm{h:02d}","type":"Routing"}}'
VM = 'VM instance {{"id":{v},"instanceName":"i-2-{v}-VM","uuid":"5b0c9f1e-2c3d-4e5f-8a9b-0c1d2e3f{v:04d}","type":"User","state":"Starting"}}'

TEMPLATES = [
    (30, "DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-{t}:[]) (logid:) Ping from Routing host {h}(kvm{h:02d})"),
    (25, 'DEBUG [c.c.a.t.Request] (AgentManager-Handler-{t}:[]) (logid:) Seq {h}-{seq}: Received:  {{ Ans: , MgmtId: 345049296663, via: {h}(kvm{h:02d}), Ver: v1, Flags: 10, {{ GetHostStatsAnswer }} }}'),
    (20, 'DEBUG [c.c.a.t.Request] (StatsCollector-{t}:[ctx-{ctx}]) (logid:{ctx}) Seq {h}-{seq}: Sending  {{ Cmd , MgmtId: 345049296663, via: {h}(kvm{h:02d}), Ver: v1, Flags: 100011, [{{"com.cloud.agent.api.GetVmStatsCommand":{{"vmNames":["i-2-{v}-VM"],"hostGuid":"0b6e-LibvirtComputingResource","hostName":"kvm{h:02d}","wait":0,"bypassHostMaintenance":false}}}}] }}'),
    (15, "DEBUG [c.c.a.ApiServlet] (qtp1850777594-{t}:[ctx-{ctx}]) (logid:{ctx}) ===START===  10.20.0.{t} -- GET  command=listVirtualMachines&listall=true&response=json&page=1&pagesize=20"),
    (15, "DEBUG [c.c.a.ApiServlet] (qtp1850777594-{t}:[ctx-{ctx}]) (logid:{ctx}) ===END===  10.20.0.{t} -- GET  command=listVirtualMachines&listall=true&response=json&page=1&pagesize=20"),
    (10, "DEBUG [c.c.c.CapacityManagerImpl] (CapacityChecker:[ctx-{ctx}]) (logid:{ctx}) No need to calibrate cpu capacity, host:" + H + " usedCpu: 64000 reservedCpu: 0"),
    (10, "DEBUG [c.c.c.CapacityManagerImpl] (CapacityChecker:[ctx-{ctx}]) (logid:{ctx}) Found 12 VMs on " + H),
    (8, 'DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-{t}:[ctx-{ctx}, job-{job}]) (logid:{ctx}) Executing AsyncJob {{"id":{job},"uuid":"x","userId":2,"accountId":2,"instanceType":"VirtualMachine","instanceId":{v},"cmd":"org.apache.cloudstack.api.command.user.vm.StartVMCmd","status":"IN_PROGRESS"}}'),
    (8, 'DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-{t}:[ctx-{ctx}, job-{job}]) (logid:{ctx}) Complete async job-{job}, jobStatus: SUCCEEDED, resultCode: 0, result: org.apache.cloudstack.api.response.UserVmResponse/virtualmachine/{{"id":"x"}}'),
    (6, "DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-{t}:[ctx-{ctx}, job-{job}/job-{job2}, ctx-{ctx}]) (logid:{ctx}) Checking if host: " + H + " has enough capacity for requested CPU: 4000 and requested RAM: (8.00 GB) 8589934592 , cpuOverprovisioningFactor: 1.0"),
    (6, "DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-{t}:[ctx-{ctx}, job-{job}/job-{job2}, ctx-{ctx}]) (logid:{ctx}) Free RAM: (13.50 GB) 14495514624 , Requested RAM: (8.00 GB) 8589934592"),
    (6, "DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-{t}:[ctx-{ctx}, job-{job}/job-{job2}, ctx-{ctx}]) (logid:{ctx}) Host has enough CPU and RAM available"),
    (5, "DEBUG [c.c.u.d.T.Transaction] (Work-Job-Executor-{t}:[ctx-{ctx}]) (logid:{ctx}) Rolling back the transaction: Time = 3 Name =  Work-Job-Executor-{t}; called by -TransactionLegacy.rollback:888-TransactionLegacy.removeUpTo:831"),
    (4, "INFO  [c.c.a.m.AgentManagerImpl] (AgentMonitor-1:[ctx-{ctx}]) (logid:{ctx}) Found the following agents behind on ping: []"),
    (3, "DEBUG [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-{t}:[ctx-{ctx}, job-{job}/job-{job2}, ctx-{ctx}]) (logid:{ctx}) " + VM + " state transited from [Starting] to [Running] with event [OperationSucceeded]. VM's original host: " + H + ", new host: " + H + ", host before state transition: " + H),
    (1, "WARN  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-{t}:[ctx-{ctx}, job-{job}/job-{job2}, ctx-{ctx}]) (logid:{ctx}) Insufficient capacity \ncom.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for " + VM + "Scope=interface com.cloud.dc.DataCenter; id=1\n\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)\n\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:5500)\n\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n\t... 18 more"),
]


# Weights of a production server at DEBUG: agent traffic dominates, deployments are a small share.
PRODUCTION_WEIGHTS = [30, 25, 20, 15, 15, 10, 10, 1, 1, 0.5, 0.5, 0.5, 5, 4, 0.3, 0.05]


def build(path: str, size_bytes: int, seed: int = 7, profile: str = "production") -> int:
    rnd = random.Random(seed)
    weights = PRODUCTION_WEIGHTS if profile == "production" else [w for w, _ in TEMPLATES]
    templates = [t for _, t in TEMPLATES]
    ts = datetime(2025, 3, 10, 0, 0, 0)
    written = 0
    seq = 7251549216581238790
    with open(path, "w", buffering=1 << 20) as f:
        while written < size_bytes:
            chunk = []
            for tpl in rnd.choices(templates, weights, k=2000):
                ts += timedelta(milliseconds=rnd.randint(1, 40))
                seq += 1
                ctx = f"{rnd.getrandbits(32):08x}"
                job = rnd.randint(1000, 99999)
                line = ts.strftime("%Y-%m-%d %H:%M:%S,") + f"{ts.microsecond // 1000:03d} " + tpl.format(
                    t=rnd.randint(1, 60), h=rnd.randint(1, 40), v=rnd.randint(10, 9999), seq=seq, ctx=ctx, job=job, job2=job + 1)
                chunk.append(line)
            text = "\n".join(chunk) + "\n"
            f.write(text)
            written += len(text)
    return written


if __name__ == "__main__":
    target = sys.argv[1]
    size = int(float(sys.argv[2]) * (1 << 20)) if len(sys.argv) > 2 else 1 << 30
    n = build(target, size, profile=sys.argv[3] if len(sys.argv) > 3 else "production")
    print(f"wrote {n / (1 << 20):.0f} MiB to {target}")
