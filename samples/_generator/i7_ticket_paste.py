"""ticket-paste: a scale-down of a running VM rejected, as an operator pasted it into a ticket (4.17.2, log4j1 + logid).

What the paste did to the log: `> ` quotes, hard wraps at 80 columns mid-word, blank lines between entries,
tabs turned into four spaces, and stack frames turned into markdown links by the ticket system.
Caveat: the ERROR + trace shape of the rejection follows reference §10(a) (the slot it shares with
PermissionDeniedException); 4.19 sources map InvalidParameterValueException to 431 without a trace.
"""

from __future__ import annotations

from datetime import datetime

import traces
from common import submit
from render import Style, js, render_body, stamp
from world import MS, Host, Scenario, Vm

WIDTH = 80
SRC = {
    "com.cloud.vm.UserVmManagerImpl": "server/src/main/java/com/cloud/vm/UserVmManagerImpl.java",
    "com.cloud.api.ApiDispatcher": "server/src/main/java/com/cloud/api/ApiDispatcher.java",
    "com.cloud.api.ApiAsyncJobDispatcher": "server/src/main/java/com/cloud/api/ApiAsyncJobDispatcher.java",
    "com.cloud.event.ActionEventInterceptor": "server/src/main/java/com/cloud/event/ActionEventInterceptor.java",
    "org.apache.cloudstack.api.command.user.vm.ScaleVMCmd": "api/src/main/java/org/apache/cloudstack/api/command/user/vm/ScaleVMCmd.java",
    "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl": "framework/jobs/src/main/java/org/apache/cloudstack/framework/jobs/impl/AsyncJobManagerImpl.java",
}


def link(frame: str, tag: str) -> str:
    """`at a.b.C.m(C.java:12)` -> the same with the file:line part as a markdown link to GitHub, as the ticket shows it."""
    head, _, rest = frame.partition("(")
    cls = head.strip()[3:].rsplit(".", 1)[0].split("$")[0]
    loc = rest.rstrip(")")
    if cls not in SRC or ":" not in loc:
        return frame
    line = loc.split(":")[1]
    return f"{head}([{loc}](https://github.com/apache/cloudstack/blob/{tag}/{SRC[cls]}#L{line}))"


def wrap(line: str) -> list[str]:
    return [line[i:i + WIDTH] for i in range(0, len(line), WIDTH)] or [""]


def build() -> dict:
    s = Scenario("4.19", 4172, Style("log4j1-logid", "abbrev"), Style("log4j1-logid", "c3"), msid=345049298211, qtp="qtp1626877848")
    ids = s.ids
    s.add_host(Host(11, "kvm05", ids.uuid(), "10.50.0.15"), [], False)
    vm = Vm(73, "i-6-73-VM", ids.uuid(), "web-prod-02", account="webteam", account_id=6, user_id=8)
    medium = ids.uuid()
    t = datetime(2024, 11, 7, 10, 14, 2, 611000)
    cmd = "org.apache.cloudstack.api.command.user.vm.ScaleVMCmd"
    client = "10.50.0.77"
    jt, jc, t = submit(s, t, client, f"command=scaleVirtualMachine&id={vm.uuid}&serviceofferingid={medium}&response=json", 3391, cmd, vm,
                       {"id": vm.uuid, "serviceofferingid": medium, "response": "json", "ctxUserId": "8", "httpmethod": "GET", "ctxAccountId": "6", "cmdEventType": "VM.UPGRADE"})
    msg = ('While the VM is running, only scalling up it is supported. New service offering {"memory": 4096, "speed": 2000, "cpu": 2} should'
           ' have at least one value (ram, speed or cpu) greater than the current values {"memory": 8192, "speed": 2000, "cpu": 4}.')
    trace = [f"com.cloud.exception.InvalidParameterValueException: {msg}"] + traces.frames(
        "com.cloud.vm.UserVmManagerImpl.upgradeRunningVirtualMachine(UserVmManagerImpl.java:1986)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1917)",
        "com.cloud.vm.UserVmManagerImpl.upgradeVirtualMachine(UserVmManagerImpl.java:1871)") + traces.spring_proxy("upgradeVirtualMachine", "$Proxy186", java=11) + traces.api_dispatch(
        cmd, "ScaleVMCmd.java", 183, java=11)
    s.mgmt.add(t + 39 * MS, "ERROR", "com.cloud.api.ApiAsyncJobDispatcher", jt, f"Unexpected exception while executing {cmd}", jc.ndc, jc.logid, trace)
    s.complete(t + 47 * MS, jt, jc, 3391, "FAILED", 530, "org.apache.cloudstack.api.response.ExceptionResponse/null/" + js({"uuidList": [], "errorcode": 530, "errortext": msg}), cmd)

    tag = "4.17.2.0"
    out = ["Hi team,", "", "scaling web-prod-02 down from Large to Medium fails while it is running.",
           "The UI only says \"Failed to scale\". Log from mgmt01 below:", ""]
    entries = s.mgmt.sorted()
    for e in entries:
        head = f"{stamp(e.ts)} {render_body(e, s.mgmt.style)}"
        for piece in wrap(head):
            out.append("> " + piece)
        for x in e.extra:
            x = x.replace("\t", "    ")
            pieces = wrap(x)
            if len(pieces) == 1 and x.lstrip().startswith("at "):
                pieces = [link(x, tag)]
            out.extend("> " + p for p in pieces)
        out.append("")
    out += ["Is there a setting for this? We need the memory back on kvm05.", "", "Thanks,", "Priya (ops)"]
    text = "\n".join(out) + "\n"

    expected = {
        "title": "Ticket paste: scale-down of a running VM rejected (only scaling up is supported while running)",
        "cloudstack_version": "4.17.2", "format_generation": "paste", "vm": vm.name, "tz": "UTC",
        "facts": [
            {"kind": "api_call", "command": "scaleVirtualMachine", "phase": "start"},
            {"kind": "scale_error", "reason": "scale_down_running", "new_memory": 4096 << 20, "new_cpu": 2, "new_speed": 2000,
             "current_memory": 8192 << 20, "current_cpu": 4, "current_speed": 2000},
            {"kind": "async_job", "phase": "complete", "job": 3391, "status": "FAILED", "result_code": 530},
        ],
        "findings": [{"category": "scale_rejected"}],
        "absent_findings": [{"category": c} for c in ("insufficient_capacity", "libvirt_memory", "agent_connectivity", "stale_capacity", "resource_limit")],
        "root_cause": {"category": "scale_rejected", "step": "live_scale", "host": None},
        "follow": [],
    }
    return {"name": "ticket-paste", "scenario": s, "files": {"ticket.txt": (text, len(entries))}, "expected": expected}
