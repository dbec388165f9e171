"""Entities of one incident (hosts, VMs, management server) and the background traffic around it.

Background is what makes a sample honest: pings, stats polls, capacity-checker runs, other users' API calls
and async jobs, system-VM chatter. Every generation (4.2 / 4.15 / 4.19 / 4.20) renders the same events in
its own words, so `era` switches the few strings that changed between releases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from render import GB, Ids, Log, Style, human, js

S = timedelta(seconds=1)
MS = timedelta(milliseconds=1)


@dataclass
class Host:
    id: int
    name: str
    uuid: str
    ip: str
    cpus: int = 32
    speed: int = 2600
    total_mem: int = 134754598912  # (125.50 GB)

    def render(self, era: str) -> str:
        if era in ("4.2", "4.15"):
            return f"Host[-{self.id}-Routing]"
        return f'Host {{"id":{self.id},"uuid":"{self.uuid}","name":"{self.name}","type":"Routing"}}'

    def cap(self, era: str) -> str:
        """How CapacityManagerImpl names the host: the bare id before 4.18, the object after."""
        return str(self.id) if era in ("4.2", "4.15") else self.render(era)


@dataclass
class Vm:
    id: int
    name: str
    uuid: str
    display: str
    account: str = "admin"
    account_id: int = 2
    user_id: int = 2
    vtype: str = "User"

    def render(self, era: str, state: str = "Running") -> str:
        if era in ("4.2", "4.15"):
            return f"VM[{self.vtype}|{self.name}]"
        if era in ("4.18", "4.19"):
            return f'VM instance {{"id":{self.id},"instanceName":"{self.name}","uuid":"{self.uuid}","type":"{self.vtype}"}}'
        return (f'VM instance {{"id":{self.id},"instanceName":"{self.name}","uuid":"{self.uuid}",'
                f'"type":"{self.vtype}","state":"{state}"}}')

    def to(self) -> str:
        """VirtualMachineTO.toString on the agent."""
        return f'VM {{id: "{self.id}", name: "{self.name}", uuid: "{self.uuid}", type: "User"}}'


@dataclass
class Ctx:
    """A CallContext: its NDC entries and the logid every line under it carries."""

    ndc: tuple[str, ...]
    logid: str | None


@dataclass
class Scenario:
    """One incident's world and logs. `era` is 4.2, 4.15, 4.19 or 4.20."""

    era: str
    seed: int
    mgmt_style: Style
    agent_style: Style
    msid: int
    mgmt_ip: str = "10.20.0.5"
    zone: str = "zone-ams1"
    pod: str = "pod-a"
    cluster: str = "kvm-cl01"
    hosts: list[Host] = field(default_factory=list)
    vms_on: dict[int, list[str]] = field(default_factory=dict)  # host id -> instance names reported in pings
    agent_logs: dict[int, Log] = field(default_factory=dict)
    agent_skew: dict[int, float] = field(default_factory=dict)
    agent_debug: bool = True
    qtp: str = "qtp1850777594"

    def __post_init__(self) -> None:
        self.ids = Ids(self.seed)
        self.mgmt = Log(self.mgmt_style)
        self._mseq: dict[int, int] = {}
        self._aseq: dict[int, int] = {}
        self._thread_n = 10
        self.ping_gaps: dict[int, list[tuple[datetime, datetime]]] = {}
        self._job_uuids: dict[int, str] = {}
        # host id -> (link dies, management disconnects the host, agent is back): stats stop reaching the agent
        self.link_down: dict[int, tuple[datetime, datetime, datetime]] = {}
        self.lost: dict[int, list[str]] = {}
        self.sent: list[tuple[datetime, int, str, str | None, str]] = []

    # ---------------------------------------------------------------- identities
    def add_host(self, host: Host, vms: list[str], agent_log: bool, skew: float = 0.0) -> Host:
        self.hosts.append(host)
        self.vms_on[host.id] = vms
        self._mseq[host.id] = (self.ids.rng.randrange(1 << 14, 1 << 15) << 48) + self.ids.rng.randrange(10**5)
        self._aseq[host.id] = self.ids.rng.randrange(2000, 90000)
        if agent_log:
            self.agent_logs[host.id] = Log(self.agent_style, skew)
            self.agent_skew[host.id] = skew
        return host

    def host(self, hid: int) -> Host:
        return next(h for h in self.hosts if h.id == hid)

    def ctx(self, *extra: str, logid: str | None = None) -> Ctx:
        """A fresh context; `extra` NDC entries (job-..., ctx-...) follow the first ctx."""
        if self.era == "4.2":
            return Ctx(tuple(extra), None)
        h = logid or self.ids.hex8()
        return Ctx((f"ctx-{h}", *extra), h)

    def next_mseq(self, hid: int) -> str:
        self._mseq[hid] += 1
        return f"{hid}-{self._mseq[hid]}"

    def next_aseq(self, hid: int) -> str:
        self._aseq[hid] += 1
        return f"{hid}-{self._aseq[hid]}"

    def seq_map(self) -> dict[str, str]:
        """Old -> new Seq ids so that each host's management sequence grows with time.

        Background traffic is generated before the incident itself, so Seq numbers were handed out out of time
        order; the same set of numbers is reassigned in the order the commands were sent."""
        out: dict[str, str] = {}
        for hid in {h for _, h, *_ in self.sent}:
            sends = sorted((t, seq) for t, h, seq, *_ in self.sent if h == hid)
            numbers = sorted(int(seq.split("-")[1]) for _, seq in sends)
            out.update({seq: f"{hid}-{n}" for (_, seq), n in zip(sends, numbers)})
        return out

    def thread_no(self, lo: int = 1, hi: int = 50) -> int:
        return self.ids.rng.randrange(lo, hi)

    # ---------------------------------------------------------------- strings that changed between releases
    @property
    def old(self) -> bool:
        return self.era in ("4.2", "4.15")

    def req_logger(self) -> str:
        return "com.cloud.agent.transport.Request"

    def via(self, hid: int, agent_side: bool = False) -> str:
        if agent_side or self.era == "4.2":
            return str(hid)
        return f"{hid}({self.host(hid).name})"

    def cmd_line(self, seq: str, verb: str, hid: int, flags: str, payload: str, agent_side: bool = False,
                 ans: bool = False, mgmt_id: int | None = None) -> str:
        """Request.toString: `Seq 4-123: Sending  { Cmd , MgmtId: ..., via: 4(kvm01), Ver: v1, Flags: 100011, [...] }`."""
        kind = "Ans: " if ans else "Cmd "
        mid = self.msid if mgmt_id is None else mgmt_id
        return f"Seq {seq}: {verb} {{ {kind}, MgmtId: {mid}, via: {self.via(hid, agent_side)}, Ver: v1, Flags: {flags}, {payload} }}"

    def agent_thread(self, n: int) -> str:
        return f"{'agentRequest' if self.old or self.era == '4.19' else 'AgentRequest'}-Handler-{n}"

    def async_job(self, job: int, cmd: str, user: int, account: int, itype: str | None, iid: int | None,
                  info: dict[str, str], status: str = "IN_PROGRESS", created: datetime | None = None) -> str:
        """AsyncJobVO.toString in the shape of the era."""
        created_s = created.strftime("%a %b %d %H:%M:%S UTC %Y") if created else None
        if self.era in ("4.15", "4.2"):
            return (f"AsyncJobVO: {{id:{job}, userId: {user}, accountId: {account}, instanceType: {itype}, "
                    f"instanceId: {iid}, cmd: {cmd}, cmdInfo: {js(info)}, cmdVersion: 0, status: {status}, "
                    f"processStatus: 0, resultCode: 0, result: null, initMsid: {self.msid}, completeMsid: null, "
                    f"lastUpdated: null, lastPolled: null, created: {created_s}, removed: null}}")
        body = {"id": job, "uuid": self.job_uuid(job), "userId": user, "accountId": account, "instanceType": itype,
                "instanceId": iid, "cmd": cmd, "cmdInfo": js(info), "cmdVersion": 0, "status": status,
                "processStatus": 0, "resultCode": 0, "result": None, "initMsid": self.msid, "completeMsid": None,
                "lastUpdated": None, "lastPolled": None, "created": created_s, "removed": None}
        return "AsyncJob " + js(body)

    def job_uuid(self, job: int) -> str:
        if job not in self._job_uuids:
            self._job_uuids[job] = self.ids.uuid()
        return self._job_uuids[job]

    # ---------------------------------------------------------------- background: agent pings
    def _in_gap(self, hid: int, t: datetime) -> bool:
        return any(a <= t <= b for a, b in self.ping_gaps.get(hid, []))

    def pings(self, start: datetime, end: datetime, interval: int = 60) -> None:
        """PingRoutingCommand every `interval` s per host, seen by AgentManagerImpl and (DEBUG) by the agent."""
        for k, h in enumerate(self.hosts):
            t = start + timedelta(seconds=7 + 13 * k) + self.ids.jitter(0, 0.9)
            while t < end:
                if not self._in_gap(h.id, t):
                    self._ping(h, t)
                t += timedelta(seconds=interval) + self.ids.jitter(-0.05, 0.05)

    def _ping(self, h: Host, t: datetime) -> None:
        seq = self.next_aseq(h.id)
        report = {vm: {"state": "PowerOn", "host": h.name} for vm in self.vms_on[h.id]}
        if self.era == "4.2":
            cmd = {"com.cloud.agent.api.PingRoutingWithNwGroupsCommand": {"newGroupStates": {}, "newStates": {},
                   "_gatewayAccessible": True, "_vnetAccessible": True, "hostType": "Routing", "hostId": h.id, "wait": 0}}
            ans = {"com.cloud.agent.api.PingAnswer": {"_command": {"hostType": "Routing", "hostId": h.id, "wait": 0},
                   "result": True, "wait": 0}}
        else:
            cmd = {"com.cloud.agent.api.PingRoutingCommand": {"_hostVmStateReport": report, "_gatewayAccessible": True,
                   "_vnetAccessible": True, "hostType": "Routing", "hostId": h.id, "outOfBand": False, "wait": 0,
                   "bypassHostMaintenance": False}}
            ans = {"com.cloud.agent.api.PingAnswer": {"_command": {"hostType": "Routing", "hostId": h.id,
                   "outOfBand": False, "wait": 0, "bypassHostMaintenance": False}, "sendStartup": False,
                   "result": True, "wait": 0, "bypassHostMaintenance": False}}
        thread = f"AgentManager-Handler-{self.thread_no(1, 20)}"
        mgr = "com.cloud.agent.manager.AgentManagerImpl"
        self.mgmt.add(t, "DEBUG", mgr, thread, f"SeqA {seq}: Processing Seq {seq}:  {{ Cmd , MgmtId: -1, via: {h.id}, Ver: v1, Flags: 11, {js([cmd])} }}")
        self.mgmt.add(t + 2 * MS, "DEBUG", mgr, thread, f"SeqA {seq}: Sending Seq {seq}:  {{ Ans: , MgmtId: {self.msid}, via: {h.id}, Ver: v1, Flags: 100010, {js([ans])} }}")
        self.mgmt.add(t + 3 * MS, "DEBUG", mgr, thread, f"Ping from Routing host {h.id}({h.name})")
        a = self.agent_logs.get(h.id)
        if a is not None and self.agent_debug:
            at = "Agent-Handler-1" if self.old else "Agent-Handler-3"
            a.add(t - 11 * MS, "DEBUG", "com.cloud.agent.Agent", at,
                  f"Sending ping: Seq {seq}:  {{ Cmd , MgmtId: -1, via: {h.id}, Ver: v1, Flags: 11, {js([cmd])} }}")
            a.add(t + 9 * MS, "DEBUG", "com.cloud.agent.Agent", at,
                  f"Received response: Seq {seq}:  {{ Ans: , MgmtId: {self.msid}, via: {h.id}, Ver: v1, Flags: 100010, {js([ans])} }}")

    # ---------------------------------------------------------------- background: a command to an agent and its answer
    def command(self, t: datetime, hid: int, thread: str, ctx: Ctx, cmd_class: str, cmd_body: dict, ans_class: str,
                ans_body: dict, took: float = 0.05, agent_lines: list[tuple[str, str, str]] | None = None,
                flags: str = "100011", answered: bool = True, agent_thread_no: int | None = None,
                delivered: bool = True) -> str:
        """Send one command (management DEBUG trace, agent DEBUG trace with the same logid and Seq); returns the Seq."""
        seq = self.next_mseq(hid)
        payload = js([{cmd_class: cmd_body}])
        short = cmd_class.rsplit(".", 1)[1]
        ans_short = ans_class.rsplit(".", 1)[1]
        rq = self.req_logger()
        self.sent.append((t, hid, seq, ctx.logid, cmd_class))
        self.mgmt.add(t, "DEBUG", rq, thread, self.cmd_line(seq, "Sending ", hid, flags, payload), ctx.ndc, ctx.logid)
        done = t + timedelta(seconds=took)
        a = self.agent_logs.get(hid) if delivered else None
        n = agent_thread_no or self.thread_no(1, 6)
        athread = self.agent_thread(n)
        arrive = t + timedelta(milliseconds=self.ids.rng.randrange(2, 9))
        if a is not None:
            if self.agent_debug:
                a.add(arrive, "DEBUG", "com.cloud.agent.Agent", athread,
                      "Request:" + self.cmd_line(seq, "", hid, flags, payload, agent_side=True),
                      (), ctx.logid)
                a.add(arrive + MS, "DEBUG", "com.cloud.agent.Agent", athread, f"Processing command: {cmd_class}", (), ctx.logid)
            off = 2
            for level, logger, msg in agent_lines or []:
                a.add(arrive + off * MS, level, logger, athread, msg, (), ctx.logid)
                off += 3
        if not answered:
            return seq
        ans = js([{ans_class: ans_body}])
        if a is not None and self.agent_debug:
            a.add(done - 3 * MS, "DEBUG", "com.cloud.agent.Agent", athread,
                  f"Seq {seq}:  {{ Ans: , MgmtId: {self.msid}, via: {hid}, Ver: v1, Flags: 10, {ans} }}", (), ctx.logid)
        if self.era != "4.2":
            hthread = f"AgentManager-Handler-{self.thread_no(1, 20)}"
            self.mgmt.add(done, "DEBUG", rq, hthread, self.cmd_line(seq, "Processing: ", hid, "10", ans, ans=True), (), None)
        self.mgmt.add(done + MS, "DEBUG", rq, thread, self.cmd_line(seq, "Received: ", hid, "10", f"{{ {ans_short} }}", ans=True), ctx.ndc, ctx.logid)
        del short
        return seq

    # ---------------------------------------------------------------- background: stats collector
    def stats(self, start: datetime, end: datetime, interval: int = 60, free_mem_warn: bool = False) -> None:
        t = start + timedelta(seconds=23) + self.ids.jitter(0, 1)
        k = 0
        while t < end:
            k += 1
            self._host_stats(t)
            self._vm_stats(t + timedelta(seconds=4) + self.ids.jitter(0, 0.3), free_mem_warn)
            t += timedelta(seconds=interval) + self.ids.jitter(-0.02, 0.02)

    def _reach(self, hid: int, t: datetime) -> str:
        """'up', 'dead' (sent into a dead link) or 'skip' (host disconnected, nothing is sent)."""
        if hid not in self.link_down:
            return "up"
        down, disc, up = self.link_down[hid]
        if down <= t < disc:
            return "dead"
        return "skip" if disc <= t < up else "up"

    def _host_stats(self, t: datetime) -> None:
        ctx = self.ctx()
        thread = f"StatsCollector-{self.thread_no(1, 5)}"
        self.mgmt.add(t, "DEBUG", "com.cloud.server.StatsCollector", thread, "HostStatsCollector is running...", ctx.ndc, ctx.logid)
        for h in self.hosts:
            t += timedelta(milliseconds=self.ids.rng.randrange(3, 14))
            reach = self._reach(h.id, t)
            if reach == "skip":
                continue
            free_kb = int(h.total_mem / 1024 * self.ids.rng.uniform(0.25, 0.45))
            body = {"hostGuid": f"{h.uuid}-LibvirtComputingResource", "hostName": h.name, "hostId": h.id,
                    "wait": 0, "bypassHostMaintenance": False}
            ans = {"hostStats": {"hostId": h.id, "cpuUtilization": round(self.ids.rng.uniform(18, 61), 2),
                   "networkReadKBs": round(self.ids.rng.uniform(1e5, 9e5), 1), "networkWriteKBs": round(self.ids.rng.uniform(1e5, 9e5), 1),
                   "entityType": "host", "totalMemoryKBs": h.total_mem // 1024, "freeMemoryKBs": free_kb,
                   "cpuLoads": round(self.ids.rng.uniform(2, 14), 2)}, "result": True, "details": "", "wait": 0,
                   "bypassHostMaintenance": False}
            seq = self.command(t, h.id, thread, ctx, "com.cloud.agent.api.GetHostStatsCommand", body,
                               "com.cloud.agent.api.GetHostStatsAnswer", ans, took=self.ids.rng.uniform(0.02, 0.09),
                               answered=reach == "up", delivered=reach == "up")
            if reach == "dead":
                self.lost.setdefault(h.id, []).append(seq)

    def _vm_stats(self, t: datetime, free_mem_warn: bool) -> None:
        ctx = self.ctx()
        thread = f"StatsCollector-{self.thread_no(1, 5)}"
        self.mgmt.add(t, "DEBUG", "com.cloud.server.StatsCollector", thread, "VmStatsCollector is running...", ctx.ndc, ctx.logid)
        for h in self.hosts:
            names = self.vms_on[h.id]
            if not names:
                continue
            t += timedelta(milliseconds=self.ids.rng.randrange(3, 14))
            reach = self._reach(h.id, t)
            if reach == "skip":
                continue
            body = {"vmNames": names, "hostGuid": f"{h.uuid}-LibvirtComputingResource", "hostName": h.name,
                    "wait": 0, "bypassHostMaintenance": False}
            stats = {n: {"vmName": n, "cpuUtilization": round(self.ids.rng.uniform(1, 80), 2), "numCPUs": 4,
                         "memoryKBs": 8388608, "intFreeMemoryKBs": -1.0, "targetMemoryKBs": 8388608,
                         "entityType": "vm"} for n in names}
            lines = [("WARN", "com.cloud.hypervisor.kvm.resource.LibvirtComputingResource",
                      "Couldn't retrieve free memory, returning -1.") for _ in names] if free_mem_warn else []
            seq = self.command(t, h.id, thread, ctx, "com.cloud.agent.api.GetVmStatsCommand", body,
                               "com.cloud.agent.api.GetVmStatsAnswer", {"vmStatsMap": stats, "result": True, "wait": 0,
                               "bypassHostMaintenance": False}, took=self.ids.rng.uniform(0.05, 0.3), agent_lines=lines,
                               answered=reach == "up", delivered=reach == "up")
            if reach == "dead":
                self.lost.setdefault(h.id, []).append(seq)

    # ---------------------------------------------------------------- background: HA heartbeat script on each agent
    def kvm_heartbeat(self, start: datetime, end: datetime, pool_ip: str = "10.20.0.40") -> None:
        for hid, a in self.agent_logs.items():
            h = self.host(hid)
            t = start + timedelta(seconds=31) + self.ids.jitter(0, 2)
            th = f"Thread-{self.thread_no(14, 30)}"
            while t < end:
                cmd = (f"/usr/share/cloudstack-common/scripts/vm/hypervisor/kvm/kvmheartbeat.sh -i {pool_ip} "
                       f"-p /export/primary -m /mnt/6c2a85e4-b0f3-3b6f-9c0e-8d2c1a7b9e31 -h {h.ip}")
                if self.agent_debug:
                    a.add(t, "DEBUG", "com.cloud.utils.script.Script", th, f"Executing: {cmd} ")
                    a.add(t + timedelta(milliseconds=self.ids.rng.randrange(40, 160)), "DEBUG",
                          "com.cloud.utils.script.Script", th, "Execution is successful.")
                t += timedelta(seconds=60) + self.ids.jitter(-0.1, 0.1)

    # ---------------------------------------------------------------- background: capacity checker
    def capacity_checker(self, t: datetime, per_host: dict[int, list[str]]) -> datetime:
        """One CapacityChecker run; `per_host` gives the CapacityManagerImpl lines for each host."""
        ctx = self.ctx()
        th = "CapacityChecker"
        al = "com.cloud.alert.AlertManagerImpl"
        cm = "com.cloud.capacity.CapacityManagerImpl"
        self.mgmt.add(t, "DEBUG", al, th, "Running Capacity Checker ... ", ctx.ndc, ctx.logid)
        self.mgmt.add(t + MS, "DEBUG", al, th, "recalculating system capacity", ctx.ndc, ctx.logid)
        self.mgmt.add(t + 2 * MS, "DEBUG", al, th, "Executing cpu/ram capacity update", ctx.ndc, ctx.logid)
        t += 5 * MS
        for h in self.hosts:
            for msg in per_host.get(h.id, []):
                t += timedelta(milliseconds=self.ids.rng.randrange(1, 6))
                self.mgmt.add(t, "DEBUG", cm, th, msg, ctx.ndc, ctx.logid)
        t += 9 * MS
        self.mgmt.add(t, "DEBUG", al, th, "Done executing cpu/ram capacity update", ctx.ndc, ctx.logid)
        self.mgmt.add(t + MS, "DEBUG", al, th, "Executing storage capacity update", ctx.ndc, ctx.logid)
        t += timedelta(milliseconds=self.ids.rng.randrange(30, 90))
        self.mgmt.add(t, "DEBUG", al, th, "Done recalculating system capacity", ctx.ndc, ctx.logid)
        self.mgmt.add(t + 2 * MS, "DEBUG", al, th, "Done running Capacity Checker ... ", ctx.ndc, ctx.logid)
        return t

    def steady_host_lines(self, h: Host, running: int, stopped: int, used_cpu: int, reserved_cpu: int,
                          used_mem: int, reserved_mem: int) -> list[str]:
        """updateCapacityForHost when the books already agree with the VMs it finds."""
        c = h.cap(self.era)
        on = f"host {h.id}" if self.old else c
        return [f"Found {running} VMs on {on}", f"Found 0 VMs are Migrating from {on}",
                f"Found {stopped} VM, not running on {on}",
                f"No need to calibrate cpu capacity, host:{c} usedCpu: {used_cpu} reservedCpu: {reserved_cpu}",
                f"No need to calibrate memory capacity, host:{c} usedMem: {human(used_mem)} reservedMem: {human(reserved_mem)}"]

    # ---------------------------------------------------------------- background: system VM managers, job GC
    def system_vm_chatter(self, start: datetime, end: datetime) -> None:
        t = start + timedelta(seconds=3)
        while t < end:
            c1, c2 = self.ctx(), self.ctx()
            self.mgmt.add(t, "DEBUG", "com.cloud.consoleproxy.ConsoleProxyManagerImpl", "consoleproxy-1",
                          "Zone 1 is ready to launch console proxy", c1.ndc, c1.logid)
            self.mgmt.add(t + timedelta(milliseconds=self.ids.rng.randrange(20, 400)), "DEBUG",
                          "com.cloud.storage.secondary.SecondaryStorageManagerImpl", "secstorage-1",
                          "Zone 1 is ready to launch secondary storage VM", c2.ndc, c2.logid)
            t += timedelta(seconds=30) + self.ids.jitter(-0.01, 0.01)

    def job_gc(self, start: datetime, end: datetime, every: int = 240) -> None:
        t = start + timedelta(seconds=41)
        logger = "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl"
        while t < end:
            c = self.ctx()
            self.mgmt.add(t, "INFO", logger, "AsyncJobMgr-Heartbeat-1", "Begin cleanup expired async-jobs", c.ndc, c.logid)
            self.mgmt.add(t + timedelta(milliseconds=self.ids.rng.randrange(5, 40)), "INFO", logger,
                          "AsyncJobMgr-Heartbeat-1", "End cleanup expired async-jobs", c.ndc, c.logid)
            t += timedelta(seconds=every)

    # ---------------------------------------------------------------- background: API calls of other users
    def api_call(self, t: datetime, client: str, query: str, took: float = 0.04, method: str = "GET") -> Ctx:
        c = self.ctx()
        th = f"catalina-exec-{self.thread_no(1, 30)}" if self.era == "4.2" else f"{self.qtp}-{self.thread_no(14, 60)}"
        self.mgmt.add(t, "DEBUG", "com.cloud.api.ApiServlet", th, f"===START===  {client} -- {method}  {query}", c.ndc, c.logid)
        self.mgmt.add(t + timedelta(seconds=took), "DEBUG", "com.cloud.api.ApiServlet", th,
                      f"===END===  {client} -- {method}  {query}", c.ndc, c.logid)
        self._last_api_thread = th
        return c

    def api_noise(self, start: datetime, end: datetime, n: int, vm_uuids: list[str]) -> None:
        clients = ["10.20.0.31", "10.20.0.48", "10.20.0.31", "172.16.8.20", "10.20.0.48"]
        span = (end - start).total_seconds()
        for _ in range(n):
            t = start + timedelta(seconds=self.ids.rng.uniform(0, span))
            stamp_ms = int(t.timestamp() * 1000) + self.ids.rng.randrange(0, 900)
            q = self.ids.rng.choice([
                "command=listVirtualMachines&response=json&listall=true&details=min&page=1&pagesize=20",
                "command=listVirtualMachinesMetrics&response=json&listall=true&page=1&pagesize=20",
                "command=listEvents&response=json&listall=true&page=1&pagesize=20",
                "command=listAlerts&response=json&page=1&pagesize=20",
                "command=listCapacity&response=json&fetchlatest=true",
                "command=listHosts&response=json&type=Routing&page=1&pagesize=20",
                "command=listZones&response=json&available=true",
                "command=listServiceOfferings&response=json&issystem=false&page=1&pagesize=50",
                "command=listNetworks&response=json&listall=true&page=1&pagesize=20",
                f"command=listVolumes&response=json&virtualmachineid={self.ids.rng.choice(vm_uuids)}&listall=true",
                "command=listTemplates&response=json&templatefilter=executable&page=1&pagesize=20",
                "command=listApis&response=json&name=listVirtualMachines",
            ])
            if self.era == "4.2":
                q = q.replace("&details=min", "").replace("listVirtualMachinesMetrics", "listVirtualMachines")
            client = self.ids.rng.choice(clients)
            if client == "172.16.8.20":
                q += "&apiKey=" + "Xp4Vq" + "mZ2uQ8c1nLkT9aRwYbE0dHfS3gJ6vC7xK" + "&signature=Zr9cQ%2Bq1aLmP0xT4bV8nE3kW2yH5sJ7dF6gU0iO%3D"
            else:
                q += f"&_={stamp_ms}"
            self.api_call(t, client, q, took=self.ids.rng.uniform(0.01, 0.35))

    def other_job(self, t: datetime, job: int, user: int, account: int, client: str, api: str, cmd: str,
                  info: dict[str, str], result: str, took: float = 0.2) -> None:
        """A successful async job of somebody else (createTags, deleteTags ...), start to end."""
        c = self.api_call(t, client, api, took=0.03)
        jl = "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl"
        mon = "org.apache.cloudstack.framework.jobs.impl.AsyncJobMonitor"
        self.mgmt.add(t + 20 * MS, "DEBUG", jl, self._last_api_thread,
                      f"submit async job-{job}, details: {self.async_job(job, cmd, user, account, None, None, info)}", c.ndc, c.logid)
        jc = self.ctx(f"job-{job}")
        th = f"API-Job-Executor-{self.thread_no(1, 40)}"
        t2 = t + timedelta(milliseconds=self.ids.rng.randrange(40, 120))
        self.mgmt.add(t2, "INFO", mon, th, f"Add job-{job} into job monitoring", jc.ndc, jc.logid)
        self.mgmt.add(t2 + 2 * MS, "DEBUG", jl, th, f"Executing {self.async_job(job, cmd, user, account, None, None, info, created=t)}", jc.ndc, jc.logid)
        t3 = t2 + timedelta(seconds=took)
        self.complete(t3, th, jc, job, "SUCCEEDED", 0, result, cmd)

    def complete(self, t: datetime, th: str, c: Ctx, job: int, status: str, code: int, result: str, cmd: str,
                 monitor: bool = True) -> datetime:
        jl = "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl"
        if self.era == "4.2":
            st = {"SUCCEEDED": 1, "FAILED": 2}[status]
            self.mgmt.add(t, "DEBUG", "com.cloud.async.AsyncJobManagerImpl", th,
                          f"Complete async job-{job}, jobStatus: {st}, resultCode: {code}, result: {result}", c.ndc, c.logid)
            return t
        self.mgmt.add(t, "DEBUG", jl, th, f"Complete async job-{job}, jobStatus: {status}, resultCode: {code}, result: {result}", c.ndc, c.logid)
        self.mgmt.add(t + 4 * MS, "DEBUG", jl, th, f"Publish async job-{job} complete on message bus", c.ndc, c.logid)
        self.mgmt.add(t + 5 * MS, "DEBUG", jl, th, f"Wake up jobs related to job-{job}", c.ndc, c.logid)
        self.mgmt.add(t + 6 * MS, "DEBUG", jl, th, f"Update db status for job-{job}", c.ndc, c.logid)
        self.mgmt.add(t + 9 * MS, "DEBUG", jl, th, f"Wake up jobs joined with job-{job} and disjoin all subjobs created from job- {job}", c.ndc, c.logid)
        self.mgmt.add(t + 14 * MS, "DEBUG", jl, th, f"Done executing {cmd} for job-{job}", c.ndc, c.logid)
        if monitor:
            self.mgmt.add(t + 16 * MS, "INFO", "org.apache.cloudstack.framework.jobs.impl.AsyncJobMonitor", th,
                          f"Remove job-{job} from job monitoring", c.ndc, c.logid)
        return t + 16 * MS
