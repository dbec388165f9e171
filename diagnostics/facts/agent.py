"""Agent commands (`Seq <host>-<n>: ...`) and the agent link's life (ping, disconnect, reconnect, TLS) (§6, §9)."""

from __future__ import annotations

import json
import re

from diagnostics.catalogue import vocabulary
from diagnostics.facts.entities import find_host, parse_id_list
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import AgentCommand, AgentEvent, HostIdentity, NicChange

_SEQ_RE = re.compile(
    r"Seq (?P<host>\d+)-(?P<seq>\d+):\s+(?P<action>Sending now|Sending disconnect|Sending|Received after timeout|Received|"
    r"Processing|Executing|Scheduling|Waiting|Cancelling|Timed out on|Unable to send|Routed|Unable to find listener|"
    r"Waited too long|Exception while waiting|\{ (?:Cmd|Ans))"
)
_NAMES_RE = re.compile(r'"(?:[a-z][\w]*\.)*([A-Z]\w*(?:Command|Answer))":')
_SHORT_RE = re.compile(r"\{ ((?:\w+(?:Command|Answer)(?:, )?)+) \}")  # one group: the comma-separated names
_VIA_RE = re.compile(r"via: (\d+)(?:\(([^)]+)\))?")
_RESULT_RE = re.compile(r'"result":(true|false)')
_DETAILS_RE = re.compile(r'"details":"((?:[^"\\]|\\.)*)"')
_TIMEDOUT_RE = re.compile(r"Commands (\d+) to Host (\d+) timed out after (\d+) secs")
_NIC_RE = re.compile(r'"deviceId":(\d+),(?:(?!"deviceId":).)*?"mac":"([0-9a-fA-F:]{17})"')
_VMNAME_RE = re.compile(r'"(?:vmName|name)":"([isrv]-\d+(?:-\d+)?-VM)"')
_NOISE = {"PingCommand", "PingRoutingCommand", "PingAnswer", "PingRoutingWithNwGroupsCommand", "PingRoutingWithOvsCommand",
          "Answer", "GetHostStatsCommand", "GetHostStatsAnswer", "GetVmStatsCommand", "GetVmStatsAnswer",
          "GetStorageStatsCommand", "GetStorageStatsAnswer", "GetVmDiskStatsCommand", "GetVmDiskStatsAnswer",
          "GetVmNetworkStatsCommand", "GetVmNetworkStatsAnswer", "CheckHealthCommand", "CheckHealthAnswer"}
_ACTIONS = {
    "Sending": "sending", "Sending now": "sending", "Received": "received", "Received after timeout": "received_late",
    "Processing": "processing", "Executing": "executing", "Scheduling": "scheduling", "Waiting": "waiting",
    "Cancelling": "cancelled", "Timed out on": "timed_out", "Unable to send": "unable_to_send", "Routed": "routed",
    "Unable to find listener": "no_listener", "Waited too long": "timed_out", "Exception while waiting": "error",
    "Sending disconnect": "disconnect",
}


def _unescape(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except json.JSONDecodeError:
        return text


# Commands of a VM's life; stats and ping traffic (most `Seq` lines) is never looked at.
COMMANDS_OF_INTEREST = ("StartCommand", "StartAnswer", "StopCommand", "StopAnswer", "ScaleVmCommand", "ScaleVmAnswer",
                        "MigrateCommand", "MigrateAnswer", "PrepareForMigrationCommand", "RebootCommand", "RebootAnswer",
                        "UnPlugNicCommand", "PlugNicCommand")
SEQ_ACTIONS = ("Timed out on", "Cancelling.", "Unable to send due to", "Received after timeout", "Waited too long")


@extractor(*COMMANDS_OF_INTEREST, *SEQ_ACTIONS)
def agent_command(rec: Record, ctx: ExtractContext):
    msg = rec.message
    m = _SEQ_RE.search(msg, 0, 200)
    if m is None:
        return None
    names = tuple(dict.fromkeys(_NAMES_RE.findall(msg))) or tuple(
        n.strip() for s in _SHORT_RE.findall(msg) for n in s.split(",") if n.strip()
    )
    if names and all(n in _NOISE for n in names):
        return None
    action = m.group("action")
    if action.startswith("{ "):
        action = "request" if "Cmd" in action else "response"
        if msg.startswith("Request:"):
            action = "request"
    else:
        action = _ACTIONS.get(action, action.lower())
    via = _VIA_RE.search(msg)
    host_id = int(m.group("host"))
    result = _RESULT_RE.search(msg)
    details = _DETAILS_RE.search(msg)
    vm = _VMNAME_RE.search(msg)
    out = [AgentCommand(
        **base(rec, host_id=host_id, host_name=via.group(2) if via and via.group(2) else None, vm=vm and vm.group(1)),
        seq=f"{m.group('host')}-{m.group('seq')}", action=action, commands=names,
        result=None if result is None else result.group(1) == "true",
        details=_unescape(details.group(1))[:1000] if details else None,
    )]
    if vm and "StartCommand" in names:
        out.extend(_nic_changes(rec, ctx, vm.group(1), msg))
    return out


def _nic_changes(rec: Record, ctx: ExtractContext, vm: str, msg: str):
    for m in _NIC_RE.finditer(msg):
        device, mac = int(m.group(1)), m.group(2).lower()
        previous = ctx.nic_macs.get((vm, device))
        ctx.nic_macs[(vm, device)] = mac
        if previous is not None and previous != mac:
            yield NicChange(**base(rec, vm=vm), mac=mac, previous_mac=previous, device_id=device)


@extractor("timed out after", in_trace=True)
def command_timed_out(rec: Record, ctx: ExtractContext):
    for text in (rec.message, *rec.extra[:5]):
        m = _TIMEDOUT_RE.search(text)
        if m:
            return [AgentCommand(**base(rec, host_id=int(m.group(2))), seq=f"{m.group(2)}-{m.group(1)}", action="timed_out",
                                 details=f"timed out after {m.group(3)} secs")]
    return None


def _event(rec: Record, event: str, side: str, host=None, **kw) -> AgentEvent:
    fields = base(rec)
    if host is not None:
        fields.update(host_id=host.id, host_name=host.name)
    fields.update(kw)
    return AgentEvent(**fields, event=event, side=side)


# (phrase, event) on the management side and on the agent side: catalogue/vocabulary.toml
_MGMT_EVENTS = tuple((p.text, p.event) for p in vocabulary("agent_event_management"))
_AGENT_EVENTS = tuple((p.text, p.event) for p in vocabulary("agent_event_agent"))


@extractor(*(k for k, _ in _MGMT_EVENTS), "unreachable: Host ", in_trace=False)
def management_link_event(rec: Record, ctx: ExtractContext):
    msg = rec.message
    for key, event in _MGMT_EVENTS:
        if key in msg:
            break
    else:
        return _agent_unavailable(rec)
    host = find_host(msg)
    if host is None:
        m = re.search(r"(?:still up: |for host |why host |Host )(\d+)(?:-([A-Za-z][\w.-]*))?\b", msg)
        if m:
            from diagnostics.facts.entities import HostRef

            host = HostRef(int(m.group(1)), m.group(2))
    kw = {}
    if event == "behind_on_ping":
        kw["host_ids"] = parse_id_list(msg.split(":", 1)[-1])
        if not kw["host_ids"]:
            return None  # the monitor's routine "[]": nobody is behind
        if len(kw["host_ids"]) == 1:
            kw["host_id"] = kw["host_ids"][0]
    elif event == "disconnecting":
        m = re.search(r"with event (\w+)", msg)
        kw["reason"] = m.group(1) if m else None
        if host is None:
            m = re.search(r"Host (\d+)\b", msg)
            kw["host_id"] = int(m.group(1)) if m else None
    elif event == "disconnected":
        m = re.search(r"for host (\d+)", msg)
        kw["host_id"] = int(m.group(1)) if m else None
    elif event in ("host_lock", "connect_rejected"):
        kw["reason"] = msg[:300]
    return [_event(rec, event, "management", host, **kw)]


def _agent_unavailable(rec: Record):
    m = re.search(r"Resource \[Host:(\d+)\] is unreachable: Host \d+: (.*)", rec.text)
    if m is None:
        return None
    return [_event(rec, "unavailable", "management", host_id=int(m.group(1)), reason=m.group(2)[:300])]


@extractor("Resource [Host:", in_trace=True)
def agent_unavailable_exception(rec: Record, ctx: ExtractContext):
    if "unreachable: Host " in rec.message:
        return None  # handled with the header line by management_link_event
    return _agent_unavailable(rec)


@extractor(*(k for k, _ in _AGENT_EVENTS))
def agent_link_event(rec: Record, ctx: ExtractContext):
    msg = rec.message
    for key, event in _AGENT_EVENTS:
        if key in msg:
            break
    else:
        return None
    kw: dict = {}
    m = re.search(r"(?:Lost connection to host:|Reconnecting to host:|Connected to the host:|Connecting to host:|IOException while connecting to)\s*([\w.:-]+)", msg)
    if m:
        kw["peer"] = m.group(1).rstrip(".")
    if event == "ready":
        r = re.search(r"agent id = (\d+), uuid = ([^,]+), name = (\S+)", msg)
        if r:
            kw.update(host_id=int(r.group(1)), host_name=r.group(3))
    if event in ("stopping", "connect_rejected", "tls_error", "ping_timeout", "startup_cancelled"):
        kw["reason"] = msg[:300]
    return [_event(rec, event, "agent", **kw)]


@extractor("Ping from Routing host", "Initialising agent [id:", "Processing agent startup answer")
def host_identity(rec: Record, ctx: ExtractContext):
    m = re.search(r"Routing host (\d+)\(([^)]+)\)|\[id: (\d+), uuid: ([^,]+), name: ([^\]]+)\]", rec.message)
    if m is None:
        return None
    if m.group(1):
        host_id, name, uuid = int(m.group(1)), m.group(2), None
    else:
        host_id, uuid, name = int(m.group(3)), m.group(4).strip(), m.group(5).strip()
    if not ctx.once(("identity", host_id, name)):
        return None
    return [HostIdentity(**base(rec, host_id=host_id, host_name=name), host_uuid=uuid)]
