"""Pieces several incidents share: API request + async job submission, the standard background."""

from __future__ import annotations

from datetime import datetime, timedelta

from render import human, js
from world import MS, Ctx, Host, Scenario, Vm

JL = "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl"
MON = "org.apache.cloudstack.framework.jobs.impl.AsyncJobMonitor"
CM = "com.cloud.capacity.CapacityManagerImpl"
DPM = "com.cloud.deploy.DeploymentPlanningManagerImpl"
VMM = "com.cloud.vm.VirtualMachineManagerImpl"
UVM = "com.cloud.vm.UserVmManagerImpl"


def background(s: Scenario, start: datetime, end: datetime, api_calls: int, vm_uuids: list[str],
               free_mem_warn: bool = False, checker=None, checker_every: int = 300) -> None:
    """Standard background; `checker` is the per-host capacity-checker lines, or a function of the run time."""
    s.pings(start, end)
    s.stats(start, end, free_mem_warn=free_mem_warn)
    s.kvm_heartbeat(start, end)
    if s.era != "4.2":
        s.system_vm_chatter(start, end)
        s.job_gc(start, end)
    s.api_noise(start, end, api_calls, vm_uuids)
    if checker is not None:
        t = start + timedelta(seconds=96)
        while t < end:
            s.capacity_checker(t, checker(t) if callable(checker) else checker)
            t += timedelta(seconds=checker_every)


def submit(s: Scenario, t: datetime, client: str, query: str, job: int, cmd: str, vm: Vm | None,
           info: dict[str, str], api_ctx: Ctx | None = None, job_ctx: Ctx | None = None,
           job_thread: str | None = None) -> tuple[str, Ctx, datetime]:
    """===START===, submit async job, ===END=== on a Jetty thread; then the job executor picks it up.

    Returns (executor thread, executor context, time the job starts executing)."""
    c = api_ctx or s.ctx()
    th = f"{s.qtp}-{s.thread_no(14, 60)}"
    api = "com.cloud.api.ApiServlet"
    s.mgmt.add(t, "DEBUG", api, th, f"===START===  {client} -- GET  {query}", c.ndc, c.logid)
    itype, iid = ("VirtualMachine", vm.id) if vm else (None, None)
    user, acct = (vm.user_id, vm.account_id) if vm else (2, 2)
    s.mgmt.add(t + 87 * MS, "DEBUG", JL, th, f"submit async job-{job}, details: {s.async_job(job, cmd, user, acct, itype, iid, info)}", c.ndc, c.logid)
    s.mgmt.add(t + 89 * MS, "DEBUG", api, th, f"===END===  {client} -- GET  {query}", c.ndc, c.logid)
    jc = job_ctx or s.ctx(f"job-{job}")
    jt = job_thread or f"API-Job-Executor-{s.thread_no(1, 40)}"
    t2 = t + 102 * MS
    s.mgmt.add(t2, "INFO", MON, jt, f"Add job-{job} into job monitoring", jc.ndc, jc.logid)
    s.mgmt.add(t2 + 2 * MS, "DEBUG", JL, jt, f"Executing {s.async_job(job, cmd, user, acct, itype, iid, info, created=t)}", jc.ndc, jc.logid)
    return jt, jc, t2 + 4 * MS


def poll(s: Scenario, t: datetime, client: str, job_uuid: str, times: int, every: float = 3.0) -> None:
    """The UI polling queryAsyncJobResult for a job it submitted."""
    for k in range(times):
        ms = int((t + timedelta(seconds=k * every)).timestamp() * 1000)
        s.api_call(t + timedelta(seconds=k * every), client,
                   f"command=queryAsyncJobResult&jobId={job_uuid}&response=json&_={ms}", took=0.012)


def checker_lines(s: Scenario, state: dict[int, tuple[int, int, int, int, int, int]]) -> dict[int, list[str]]:
    """Steady capacity-checker lines from (running, stopped, used cpu, reserved cpu, used mem, reserved mem)."""
    return {hid: s.steady_host_lines(s.host(hid), *v) for hid, v in state.items()}


def check_lines(s: Scenario, h: Host, cpu: int, ram: int, factor: str, from_reserved: bool, used_cpu: int,
                reserved_cpu: int, used_mem: int, reserved_mem: int, total_cpu: int, total_mem: int) -> tuple[list[str], bool]:
    """CapacityManagerImpl.checkIfHostHasCapacity, in the words of the era. Returns (messages, has capacity)."""
    hc = h.cap(s.era)
    human_ = human if s.era != "4.2" else str  # 4.2 printed raw byte counts
    f = float(factor)
    total_cpu_op = int(total_cpu * f)
    out = [f"Checking if host: {hc} has enough capacity for requested CPU: {cpu} and requested RAM: {human_(ram)} , cpuOverprovisioningFactor: {factor}",
           f"Hosts's actual total CPU: {total_cpu} and CPU after applying overprovisioning: {total_cpu_op}"]
    if from_reserved:
        out += ["We need to allocate to the last host again, so checking if there is enough reserved capacity",
                f"Reserved CPU: {reserved_cpu} , Requested CPU: {cpu}",
                f"Reserved RAM: {human_(reserved_mem)} , Requested RAM: {human_(ram)}"]
        if reserved_cpu < cpu:
            ok, reason = False, "Host does not have enough reserved CPU available"
        elif reserved_mem < ram:
            ok, reason = False, "Host does not have enough reserved RAM available"
        else:
            ok, reason = True, ""
    else:
        free_cpu = total_cpu_op - (reserved_cpu + used_cpu)
        free_mem = total_mem - (reserved_mem + used_mem)
        out += [f"Free CPU: {free_cpu} , Requested CPU: {cpu}", f"Free RAM: {human_(free_mem)} , Requested RAM: {human_(ram)}"]
        if reserved_cpu + used_cpu + cpu > total_cpu_op:
            ok, reason = False, "Host does not have enough CPU available"
        elif reserved_mem + used_mem + ram > total_mem:
            ok, reason = False, "Host does not have enough RAM available"
        else:
            ok, reason = True, ""
    old = s.old
    if ok:
        out.append("Host has enough CPU and RAM available")
        if old:
            out += [f"STATS: Can alloc CPU from host: {hc}, used: {used_cpu}, reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {total_cpu_op}; requested cpu:{cpu},alloc_from_last_host?:{str(from_reserved).lower()} ,considerReservedCapacity?: true",
                    f"STATS: Can alloc MEM from host: {hc}, used: {human_(used_mem)}, reserved: {human_(reserved_mem)}, total: {human_(total_mem)}; requested mem: {human_(ram)}, alloc_from_last_host?: {str(from_reserved).lower()} , considerReservedCapacity?: true"]
        else:
            out += [f"STATS: Can alloc CPU from host: {hc}, used: {used_cpu}, reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {total_cpu_op}; requested cpu: {cpu}, alloc_from_last_host?: {str(from_reserved).lower()}, considerReservedCapacity?: true",
                    f"STATS: Can alloc MEM from host: {hc}, used: {human_(used_mem)}, reserved: {human_(reserved_mem)}, total: {human_(total_mem)}; requested mem: {human_(ram)}, alloc_from_last_host?: {str(from_reserved).lower()}, considerReservedCapacity?: true"]
    else:
        if from_reserved:
            out.append(f"STATS: Failed to alloc resource from host: {hc} reservedCpu: {reserved_cpu}, requested cpu: {cpu}, reservedMem: {human_(reserved_mem)}, requested mem: {human_(ram)}")
        elif old:
            out.append(f"STATS: Failed to alloc resource from host: {hc}, reservedCpu: {reserved_cpu}, used cpu: {used_cpu}, requested cpu: {cpu}, actual total cpu: {total_cpu}, total cpu with overprovisioning: {total_cpu_op}, reservedMem: {human_(reserved_mem)}, used Mem: {human_(used_mem)}, requested mem: {human_(ram)}, total Mem:{human_(total_mem)} ,considerReservedCapacity?: true")
        else:
            out.append(f"STATS: Failed to alloc resource from host: {hc}, reservedCpu: {reserved_cpu}, used cpu: {used_cpu}, requested cpu: {cpu}, actual total cpu: {total_cpu}, total cpu with overprovisioning: {total_cpu_op}, reservedMem: {human_(reserved_mem)}, used Mem: {human_(used_mem)}, requested mem: {human_(ram)}, total Mem: {human_(total_mem)}, considerReservedCapacity?: true")
        out.append(f"{reason}, cannot allocate to this host.")
    return out, ok


def release_lines(s: Scenario, h: Host, used_cpu: int, reserved_cpu: int, total_cpu: int, factor: float, cpu: int,
                  used_mem: int, reserved_mem: int, total_mem: int, ram: int, to_reserved: bool) -> list[str]:
    """releaseVmCapacity: the CPU and memory `release ... from host` lines."""
    hc = h.cap(s.era)
    tcpu = int(total_cpu * factor)
    ncpu, nrcpu = used_cpu - cpu, reserved_cpu + (cpu if to_reserved else 0)
    nmem, nrmem = used_mem - ram, reserved_mem + (ram if to_reserved else 0)
    tr = str(to_reserved).lower()
    if s.old:
        return [f"Hosts's actual total CPU: {total_cpu} and CPU after applying overprovisioning: {tcpu}",
                f"Hosts's actual total RAM: {human(total_mem)} and RAM after applying overprovisioning: {human(total_mem)}",
                f"release cpu from host: {hc}, old used: {used_cpu},reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {tcpu}; new used: {ncpu},reserved:{nrcpu}; movedfromreserved: false,moveToReservered{tr}",
                f"release mem from host: {hc}, old used: {human(used_mem)},reserved: {human(reserved_mem)}, total: {human(total_mem)}; new used: {human(nmem)},reserved:{human(nrmem)}; movedfromreserved: false,moveToReservered{tr}"]
    return [f"Hosts's actual total CPU: {total_cpu} and CPU after applying overprovisioning: {tcpu}",
            f"Hosts's actual total RAM: {human(total_mem)} and RAM after applying overprovisioning: {human(total_mem)}",
            f"release cpu from host: {hc}, old used: {used_cpu}, reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {tcpu}; new used: {ncpu},reserved:{nrcpu}; movedfromreserved: false,moveToReservered: {tr}",
            f"release mem from host: {hc}, old used: {human(used_mem)}, reserved: {human(reserved_mem)}, total: {human(total_mem)}; new used: {human(nmem)}, reserved: {human(nrmem)}; movedfromreserved: false, moveToReservered: {tr}"]


def allocate_lines(s: Scenario, h: Host, used_cpu: int, reserved_cpu: int, total_cpu: int, factor: float, cpu: int,
                   used_mem: int, reserved_mem: int, total_mem: int, ram: int, from_last: bool) -> list[str]:
    """allocateVmCapacity: current/free, then `CPU STATS` and `RAM STATS after allocation`."""
    hc = h.cap(s.era)
    tcpu = int(total_cpu * factor)
    free_cpu = tcpu - (reserved_cpu + used_cpu)
    free_mem = total_mem - (reserved_mem + used_mem)
    nrcpu = reserved_cpu - cpu if from_last and reserved_cpu >= cpu and reserved_mem >= ram else reserved_cpu
    nrmem = reserved_mem - ram if from_last and reserved_cpu >= cpu and reserved_mem >= ram else reserved_mem
    fl = str(from_last).lower()
    out = [f"Hosts's actual total CPU: {total_cpu} and CPU after applying overprovisioning: {tcpu}",
           f"We are allocating VM, increasing the used capacity of this host:{hc}",
           f"Current Used CPU: {used_cpu} , Free CPU:{free_cpu} ,Requested CPU: {cpu}",
           f"Current Used RAM: {human(used_mem)} , Free RAM:{human(free_mem)} ,Requested RAM: {human(ram)}"]
    if from_last:
        out += ["We are allocating VM to the last host again, so adjusting the reserved capacity if it is not less than required",
                f"Reserved CPU: {reserved_cpu} , Requested CPU: {cpu}", f"Reserved RAM: {human(reserved_mem)} , Requested RAM: {human(ram)}"]
    if s.old:
        out += [f"CPU STATS after allocation: for host: {hc}, old used: {used_cpu}, old reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {tcpu}; new used:{used_cpu + cpu}, reserved:{nrcpu}; requested cpu:{cpu},alloc_from_last:{fl}",
                f"RAM STATS after allocation: for host: {hc}, old used: {human(used_mem)}, old reserved: {human(reserved_mem)}, total: {human(total_mem)}; new used: {human(used_mem + ram)}, reserved: {human(nrmem)}; requested mem: {human(ram)},alloc_from_last:{fl}"]
    else:
        out += [f"CPU STATS after allocation: for host: {hc}, old used: {used_cpu}, old reserved: {reserved_cpu}, actual total: {total_cpu}, total with overprovisioning: {tcpu}; new used: {used_cpu + cpu}, reserved: {nrcpu}; requested cpu: {cpu}, alloc_from_last: {fl}",
                f"RAM STATS after allocation: for host: {hc}, old used: {human(used_mem)}, old reserved: {human(reserved_mem)}, total: {human(total_mem)}; new used: {human(used_mem + ram)}, reserved: {human(nrmem)}; requested mem: {human(ram)}, alloc_from_last: {fl}"]
    return out


def state_line(s: Scenario, vm: Vm, old: str, new: str, event: str, last: Host | None, new_host: Host | None,
               before: Host | None) -> str:
    """CapacityManagerImpl.postStateTransitionEvent in the shape of the era."""
    if s.old:
        i = lambda h: str(h.id) if h else "null"  # noqa: E731
        return (f"VM state transitted from :{old} to {new} with event: {event}vm's original host id: {i(last)} "
                f"new host id: {i(new_host)} host id before state transition: {i(before)}")
    r = lambda h: h.render(s.era) if h else "null"  # noqa: E731
    return (f"{vm.render(s.era, new)} state transited from [{old}] to [{new}] with event [{event}]. VM's original host: "
            f"{r(last)}, new host: {r(new_host)}, host before state transition: {r(before)}")


def emit(s: Scenario, t: datetime, level: str, logger: str, thread: str, c: Ctx, msgs: list[str], step_ms: int = 1) -> datetime:
    for m in msgs:
        s.mgmt.add(t, level, logger, thread, m, c.ndc, c.logid)
        t += timedelta(milliseconds=step_ms)
    return t


def begin_work(s: Scenario, t: datetime, api_thread: str, api_ctx: Ctx, parent: int, child: int, work: str,
               vm: Vm, params: dict[str, str]) -> tuple[str, Ctx, datetime]:
    """The API job hands a VmWorkXxx to a Work-Job-Executor; returns (thread, inner context, time)."""
    s.mgmt.add(t, "DEBUG", JL, api_thread, f"Sync job-{child} execution on object VmWorkJobQueue.{vm.id}", api_ctx.ndc, api_ctx.logid)
    wt = f"Work-Job-Executor-{s.thread_no(1, 40)}"
    outer = s.ctx(f"job-{parent}/job-{child}")
    outer = Ctx(outer.ndc, api_ctx.logid)
    t += timedelta(milliseconds=s.ids.rng.randrange(30, 90))
    cmdinfo = "rO0ABXNyABhjb20uY2xvdWQudm0uVm1Xb3JrU3RhcnR9cM" if work == "VmWorkStart" else "rO0ABXNyABdjb20uY2xvdWQudm0uVm1Xb3JrU3RvcOPVqHV4"
    if s.old:
        det = (f"AsyncJobVO: {{id:{child}, userId: {vm.user_id}, accountId: {vm.account_id}, instanceType: null, instanceId: null, "
               f"cmd: com.cloud.vm.{work}, cmdInfo: {cmdinfo}, cmdVersion: 0, status: IN_PROGRESS, processStatus: 0, "
               f"resultCode: 0, result: null, initMsid: {s.msid}, completeMsid: null, lastUpdated: null, lastPolled: null, "
               f"created: {t.strftime('%a %b %d %H:%M:%S UTC %Y')}, removed: null}}")
    else:
        det = s.async_job(child, f"com.cloud.vm.{work}", vm.user_id, vm.account_id, None, None, {}, created=t)
    s.mgmt.add(t, "INFO", MON, wt, f"Add job-{child} into job monitoring", outer.ndc, outer.logid)
    s.mgmt.add(t + 2 * MS, "DEBUG", JL, wt, f"Executing {det}", outer.ndc, outer.logid)
    s.mgmt.add(t + 5 * MS, "DEBUG", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Run VM work job: com.cloud.vm.{work} for VM {vm.id}, job origin: {parent}", outer.ndc, outer.logid)
    inner = Ctx((*outer.ndc, f"ctx-{s.ids.hex8()}"), outer.logid)
    body = js({"dcId": 0, "rawParams": params, "userId": vm.user_id, "accountId": vm.account_id, "vmId": vm.id, "handlerName": "VirtualMachineManagerImpl"})
    s.mgmt.add(t + 7 * MS, "INFO", "com.cloud.vm.VmWorkJobHandlerProxy", wt, f"Execute VM work job: com.cloud.vm.{work}{body}", inner.ndc, inner.logid)
    return wt, inner, t + 9 * MS


def end_work(s: Scenario, t: datetime, wt: str, inner: Ctx, parent: int, child: int, work: str, vm: Vm) -> datetime:
    outer = Ctx(inner.ndc[:-1], inner.logid)
    s.mgmt.add(t, "DEBUG", "com.cloud.vm.VmWorkJobDispatcher", wt, f"Done with run of VM work job: com.cloud.vm.{work} for VM {vm.id}, job origin: {parent}", outer.ndc, outer.logid)
    return s.complete(t + 2 * MS, wt, outer, child, "SUCCEEDED", 0, "null", f"com.cloud.vm.{work}")


def domain_xml(vm: Vm, mem_kib: int, vcpus: int, shares: int, dynamic: bool = False) -> list[str]:
    """The head of the libvirt domain XML the agent logs when it starts a VM (DEBUG `starting ...`)."""
    maxmem = [f"<maxMemory slots='16' unit='KiB'>{mem_kib * 4}</maxMemory>"] if dynamic else []
    return [f"<domain type='kvm'>", f"<name>{vm.name}</name>", f"<uuid>{vm.uuid}</uuid>",
            f"<description>Ubuntu 22.04 LTS</description>", *maxmem, f"<memory>{mem_kib}</memory>",
            f"<currentMemory>{mem_kib}</currentMemory>", f"<vcpu current=\"{vcpus}\">{vcpus if not dynamic else vcpus * 2}</vcpu>",
            "<os>", "<type  arch='x86_64' machine='pc'>hvm</type>", "<boot dev='hd'/>", "</os>",
            f"<cputune>", f"<shares>{shares}</shares>", "</cputune>", "<features>", "<acpi />", "<apic />", "<pae />", "</features>",
            "<cpu mode='host-passthrough'></cpu>", "<devices>", "<emulator>/usr/libexec/qemu-kvm</emulator>",
            "<memballoon model='virtio'>", "</memballoon>", "</devices>", "</domain>"]
