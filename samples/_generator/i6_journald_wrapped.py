"""journald-wrapped: an account memory limit stops a live upgrade; lines as `journalctl -u cloudstack-management` shows them (4.19.1).

The management server's CONSOLE appender (`%-5p [%c{1.}] (%t:%x) (logid:%X{logcontextid}) %m%n`, here at DEBUG)
goes to stdout, journald stamps every physical line, stack frames included: syslog time without year or zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import traces
from common import background, checker_lines, submit
from render import GB, Style, js, render_body
from world import MS, Host, Scenario, Vm

PREFIX = "{ts} mgmt01 java[2720]: "


def journal(log) -> tuple[str, int]:
    lines = []
    for e in log.sorted():
        p = PREFIX.format(ts=e.ts.strftime("%b %d %H:%M:%S"))
        lines.append(p + render_body(e, log.style))
        lines.extend(p + x for x in e.extra)
    return "\n".join(lines) + "\n", len(log.entries)


def build() -> dict:
    s = Scenario("4.19", 4191, Style("log4j1-logid", "abbrev"), Style("log4j1-logid", "c3"), msid=279278805450837, qtp="qtp1905485420")
    ids = s.ids
    s.add_host(Host(7, "kvm03", ids.uuid(), "10.40.0.13"), ["i-11-204-VM", "i-11-205-VM", "i-4-180-VM", "r-31-VM"], False)
    s.add_host(Host(8, "kvm04", ids.uuid(), "10.40.0.14"), ["i-4-181-VM", "i-12-230-VM", "s-5-VM", "v-6-VM"], False)
    vm = Vm(204, "i-11-204-VM", ids.uuid(), "shop-frontend-2", account="bob", account_id=11, user_id=14)
    start, end = datetime(2025, 9, 3, 1, 0, 4, 120000), datetime(2025, 9, 3, 1, 24, 52)
    background(s, start, end, 60, [vm.uuid, ids.uuid(), ids.uuid()], checker=checker_lines(s, {
        7: (4, 0, 36000, 0, 58 * GB, 0), 8: (4, 0, 30000, 0, 49 * GB, 0)}))
    s.other_job(datetime(2025, 9, 3, 1, 5, 17, 302000), 5527, 6, 4, "10.40.0.48",
                f"command=createTags&resourceids={ids.uuid()}&resourcetype=Volume&tags[0].key=backup&tags[0].value=daily&response=json",
                "org.apache.cloudstack.api.command.user.tag.CreateTagsCmd", {"resourcetype": "Volume", "response": "json", "ctxUserId": "6", "ctxAccountId": "4", "cmdEventType": "CREATE_TAGS"},
                'org.apache.cloudstack.api.response.SuccessResponse/null/{"success":true}')

    # 01:12:08 bob scales his running VM from 4 x 2000 MHz / 8 GB to 8 x 2000 MHz / 16 GB
    off = ids.uuid()
    t = datetime(2025, 9, 3, 1, 12, 8, 164000)
    cmd = "org.apache.cloudstack.api.command.user.vm.ScaleVMCmd"
    jt, jc, t = submit(s, t, "198.51.100.23", f"command=scaleVirtualMachine&id={vm.uuid}&serviceofferingid={off}&response=json", 5531, cmd, vm,
                       {"id": vm.uuid, "serviceofferingid": off, "response": "json", "ctxUserId": "14", "httpmethod": "POST", "ctxAccountId": "11", "cmdEventType": "VM.UPGRADE", "uuid": vm.uuid})
    rlm = "com.cloud.resourcelimit.ResourceLimitManagerImpl"
    inner = (*jc.ndc, f"ctx-{ids.hex8()}")
    t += 44 * MS
    s.mgmt.add(t, "DEBUG", rlm, jt, "Checking if amount of resources of Type = 'cpu' for Account Name = bob in Domain Id = 3 is exceeded: Account Resource Limit = 40, Current Account Resource Amount = 24, Requested Resource Amount = 4.", inner, jc.logid)
    s.mgmt.add(t + 2 * MS, "DEBUG", rlm, jt, "Checking if amount of resources of Type = 'memory' for Account Name = bob in Domain Id = 3 is exceeded: Account Resource Limit = 32768, Current Account Resource Amount = 28672, Requested Resource Amount = 8192.", inner, jc.logid)
    msg = "Maximum amount of resources of Type = 'memory' for Account Name = bob in Domain Id = 3 is exceeded: Account Resource Limit = 32768, Current Account Resource Amount = 28672, Requested Resource Amount = 8192."
    head = [f"com.cloud.exception.ResourceAllocationException: {msg}"] + traces.frames(
        "com.cloud.resourcelimit.ResourceLimitManagerImpl.checkAccountResourceLimit(ResourceLimitManagerImpl.java:481)",
        "com.cloud.resourcelimit.ResourceLimitManagerImpl.access$000(ResourceLimitManagerImpl.java:124)",
        "com.cloud.resourcelimit.ResourceLimitManagerImpl$1.doInTransactionWithoutResult(ResourceLimitManagerImpl.java:538)",
        "com.cloud.utils.db.TransactionCallbackWithExceptionNoReturn.doInTransaction(TransactionCallbackWithExceptionNoReturn.java:25)",
        "com.cloud.utils.db.TransactionCallbackWithExceptionNoReturn.doInTransaction(TransactionCallbackWithExceptionNoReturn.java:21)",
        "com.cloud.utils.db.Transaction.execute(Transaction.java:40)",
        "com.cloud.resourcelimit.ResourceLimitManagerImpl.checkResourceLimit(ResourceLimitManagerImpl.java:522)",
        "com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:2008)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1931)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1884)") + traces.spring_proxy("upgradeVirtualMachine", "$Proxy188", java=11)
    s.mgmt.add(t + 3 * MS, "ERROR", rlm, jt, msg, inner, jc.logid, head + traces.api_dispatch(cmd, "ScaleVMCmd.java", 183, java=11))
    s.mgmt.add(t + 11 * MS, "ERROR", "com.cloud.api.ApiAsyncJobDispatcher", jt, f"Unexpected exception while executing {cmd}", jc.ndc, jc.logid,
               head + traces.api_dispatch(cmd, "ScaleVMCmd.java", 183, java=11))
    s.complete(t + 19 * MS, jt, jc, 5531, "FAILED", 530, "org.apache.cloudstack.api.response.ExceptionResponse/null/" + js({"uuidList": [], "errorcode": 530, "errortext": msg}), cmd)
    for k in range(3):
        tt = t + timedelta(seconds=1.2 + 2 * k)
        s.api_call(tt, "198.51.100.23", f"command=queryAsyncJobResult&jobid={s.job_uuid(5531)}&response=json", took=0.014, method="POST")
    t = datetime(2025, 9, 3, 1, 14, 40, 300000)
    s.api_call(t, "198.51.100.23", "command=listResourceLimits&response=json&resourcetype=9", took=0.02, method="POST")

    text, n = journal(s.mgmt)
    expected = {
        "title": "Live upgrade refused: account bob's memory limit would be exceeded (journald-wrapped console output)",
        "cloudstack_version": "4.19.1", "format_generation": "syslog", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "resource_limit", "resource_type": "memory", "owner_kind": "account", "owner": "bob", "limit": 32768,
             "current": 28672, "requested": 8192, "exceeded": True},
            {"kind": "resource_limit", "resource_type": "cpu", "owner": "bob", "limit": 40, "current": 24, "requested": 4, "exceeded": False},
            {"kind": "async_job", "phase": "complete", "job": 5531, "status": "FAILED", "result_code": 530},
            {"kind": "api_call", "command": "scaleVirtualMachine", "phase": "start", "client": "198.51.100.23"},
        ],
        "findings": [{"category": "resource_limit"}],
        "absent_findings": [{"category": c} for c in ("insufficient_capacity", "libvirt_memory", "agent_connectivity", "stale_capacity")],
        "root_cause": {"category": "resource_limit", "step": "live_scale", "host": None},
        "follow": [],
    }
    return {"name": "journald-wrapped", "scenario": s, "files": {"journal.txt": (text, n)}, "expected": expected}
