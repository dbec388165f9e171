"""Read a snapshot folder back as facts, for `analyze`, `runbook` and `bundle create`.

A damaged snapshot (edited, truncated, copied half) never stops the analysis: every file that cannot be read
becomes one warning naming it, and the facts of the other files are still returned.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from diagnostics.bounded import loads_json
from diagnostics.api.scale_request import derive_scale_request
from diagnostics.api.snapshot import FORMAT, MANIFEST
from diagnostics.api.to_facts import (
    MIB, Where, api_time, as_int, capacity_fact, host_fact, is_hypervisor, job_fact, limit_fact, offering_fact,
    setting_fact, vm_fact,
)
from diagnostics.model import Fact
from diagnostics.model.api_facts import ApiVm

MAX_FILE_BYTES = 256 * 1024 * 1024
_SCOPE_PARAM = {"zone": "zoneid", "cluster": "clusterid"}
PLACEMENT_CALL = "listVirtualMachines.placement"
PLACEMENT = "placement"  # key of the all-VMs listing among loaded answers
# VM states for which CloudStack holds capacity on the VM's host
OCCUPYING = {"Running", "Starting", "Migrating", "Stopping"}


def is_snapshot_folder(path: str | Path) -> bool:
    """True for a folder whose manifest.json says it is a csdiag API snapshot."""
    manifest = Path(path) / MANIFEST
    try:
        if not manifest.is_file() or manifest.stat().st_size > 16 * 1024 * 1024:
            return False
        with open(manifest, "rb") as handle:
            return json.loads(handle.read()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _load_json(path: Path) -> Any:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    with open(path, "rb") as handle:
        data = handle.read()
    return loads_json(data.decode("utf-8"), source=str(path))


def _items(path: Path, item_key: str | None) -> tuple[list[tuple[int, str, dict[str, Any]]], dict[str, Any]]:
    """(line, line text, item) for every item of a list answer, plus the single body of a query answer."""
    payload = _load_json(path)
    if not isinstance(payload, dict) or len(payload) != 1:
        raise ValueError("not a CloudStack answer envelope")
    body = next(iter(payload.values()))
    if not isinstance(body, dict):
        raise ValueError("not a CloudStack answer envelope")
    if item_key is None:
        return [], body
    items = body.get(item_key) or []
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            line_no = index + 2
            text = lines[line_no - 1].rstrip(",") if line_no - 1 < len(lines) else json.dumps(item)
            out.append((line_no, text, item))
    return out, body


_ITEM_KEYS = {"listVirtualMachines": "virtualmachine", "listServiceOfferings": "serviceoffering", "listHosts": "host",
              "listCapacity": "capacity", "listConfigurations": "configuration",
              "listResourceLimits": "resourcelimit", "listAccounts": "account", "listAsyncJobs": "asyncjobs",
              "queryAsyncJobResult": None}


def facts_from_snapshot(folder: str | Path) -> tuple[list[Fact], list[str]]:
    """All API facts of one snapshot folder, plus one warning per problem (never raises on bad content)."""
    folder = Path(folder)
    warnings: list[str] = []
    try:
        manifest = _load_json(folder / MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            return [], [f"{folder / MANIFEST}: not a csdiag API snapshot manifest"]
    except (OSError, ValueError) as exc:
        return [], [f"{folder / MANIFEST}: unreadable ({_reason(exc)})"]
    if not manifest.get("complete", False):
        failed = [c.get("name") for c in manifest.get("calls", []) if isinstance(c, dict) and c.get("status") != "ok"]
        detail = f"failed calls: {', '.join(map(str, failed))}" if failed else "see its warnings"
        warnings.append(f"{folder}: API snapshot is incomplete ({detail})")

    current_id = manifest.get("current_offering_id")
    requested_id = manifest.get("requested_offering_id")
    loaded: dict[str, list[tuple[dict[str, Any], Where, dict[str, Any]]]] = {}
    bodies: dict[str, tuple[dict[str, Any], Where]] = {}
    for call in manifest.get("calls", []):
        if not isinstance(call, dict) or call.get("status") != "ok" or not call.get("output"):
            continue
        command = str(call.get("command") or "")
        if command not in _ITEM_KEYS:
            continue
        path = folder / Path(str(call["output"])).name  # never outside the folder
        ts = api_time_iso(call.get("answered_at"))
        try:
            items, body = _items(path, _ITEM_KEYS[command])
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            warnings.append(f"{path}: unreadable ({_reason(exc)}); its facts are missing")
            continue
        if call.get("name") == PLACEMENT_CALL and call.get("truncated"):
            # a partial listing would make hosts look emptier than CloudStack believes: use none of it
            warnings.append(f"{path}: VM listing stopped at the page cap; per-host VM counts left unknown")
            continue
        entry = loaded.setdefault(PLACEMENT if call.get("name") == PLACEMENT_CALL else command, [])
        for line, text, item in items:
            entry.append((item, Where(str(path), line, text, ts), call))
        if _ITEM_KEYS[command] is None:
            bodies[command] = (body, Where(str(path), 1, json.dumps(body)[:500], ts))

    return assemble_facts(loaded, bodies, current_id, requested_id), warnings


Loaded = dict[str, list[tuple[dict[str, Any], Where, dict[str, Any]]]]


def assemble_facts(loaded: Loaded, bodies: dict[str, tuple[dict[str, Any], Where]], current_id: str | None,
                   requested_id: str | None) -> list[Fact]:
    """Facts of all answers of one snapshot: items become facts, the VM's name is spread to its offerings and
    jobs, and the scale request is derived. `loaded` maps command -> (item, where, call params)."""
    facts: list[Fact] = []
    vm: ApiVm | None = None
    for item, where, _ in loaded.get("listVirtualMachines", []):
        vm = vm_fact(item, where)
        facts.append(vm)
    seen_offerings: set[str] = set()
    # ids are numbers on 2.2 servers, UUID strings since 3.0: compared as text
    current_id = None if current_id is None else str(current_id)
    requested_id = None if requested_id is None else str(requested_id)
    for item, where, _ in loaded.get("listServiceOfferings", []):
        oid = str(item.get("id") or "")
        if oid in seen_offerings:
            continue
        seen_offerings.add(oid)
        role = "current" if oid and oid == current_id else "requested" if oid and oid == requested_id else ""
        facts.append(offering_fact(item, where, role, vm))
    placed = loaded.get(PLACEMENT)
    by_host: dict[Any, list[dict[str, Any]]] = {}
    for vm_item, _, _ in placed or []:
        if vm_item.get("state") in OCCUPYING:
            by_host.setdefault(str(vm_item.get("hostid")), []).append(vm_item)
    for item, where, _ in loaded.get("listHosts", []):
        if not is_hypervisor(item):
            continue
        host = host_fact(item, where)
        if placed is not None:
            on_host = by_host.get(host.host_uuid, [])
            host.running_vms = len(on_host)
            host.running_vm_memory = sum((as_int(vm.get("memory")) or 0) for vm in on_host) * MIB
            host.running_vm_names = tuple(sorted(str(vm.get("instancename") or vm.get("id")) for vm in on_host))
        facts.append(host)
    facts.extend(capacity_fact(item, where) for item, where, _ in loaded.get("listCapacity", []))
    for item, where, call in loaded.get("listConfigurations", []):
        params = call.get("params") or {}
        scope = next((s for s, p in _SCOPE_PARAM.items() if p in params), "global")
        facts.append(setting_fact(item, where, scope, params.get(_SCOPE_PARAM.get(scope, ""))))
    accounts = [item for item, _, _ in loaded.get("listAccounts", [])]
    for item, where, _ in loaded.get("listResourceLimits", []):
        account = next((a for a in accounts if a.get("name") == item.get("account")
                        and a.get("domainid") == item.get("domainid")), None)
        facts.append(limit_fact(item, where, account))
    jobs = [job_fact(item, where) for item, where, _ in loaded.get("listAsyncJobs", [])]
    if "queryAsyncJobResult" in bodies:
        body, where = bodies["queryAsyncJobResult"]
        job = job_fact(body, where)
        jobs = [j for j in jobs if j.job_uuid != job.job_uuid] + [job]
    for job in jobs:
        if vm and job.vm_uuid == vm.vm_uuid:
            job.vm, job.host_name = vm.vm, vm.host_name
        facts.append(job)
    if vm:
        for fact in facts:
            if fact.vm_uuid == vm.vm_uuid and fact.vm is None:
                fact.vm = vm.vm
    request = derive_scale_request(facts)
    if request is not None:
        facts.append(request)
    return facts


_SCALE_COMMANDS = {"scaleVirtualMachine", "changeServiceForVirtualMachine"}
_BY_ENVELOPE = {command.lower() + "response": command for command in _ITEM_KEYS}
_BY_ITEM_KEY = {key: command for command, key in _ITEM_KEYS.items() if key}
_BY_LOWER = {command.lower(): command for command in _ITEM_KEYS}
# A cmk command line as it appears above its output: `(prod) 🐵 > list hosts type=Routing`, `$ cmk list hosts ...`,
# `cmk listHosts ...`; the verb and noun make the API command (cmk joins them: list + hosts = listHosts).
_CMK_LINE = re.compile(r"(?:^|[>$#]\s*)(?:cmk|cloudmonkey)?\s*(?P<verb>list|query)\s*(?P<noun>[A-Za-z]+)"
                       r"(?P<args>(?:\s+[\w.\[\]]+=\S*)*)\s*$")


def facts_from_api_text(text: str, *, path: str = "<api>", ts: datetime | None = None,
                        requested_offering: str | None = None) -> list[Fact]:
    """Facts from API answers held in memory (rule examples, tests, answers pasted from apilog.log).

    The text is a sequence of CloudStack JSON answers (`{"listhostsresponse": {...}}`), each optionally preceded
    by the query that produced it on its own line (`command=listConfigurations&name=...&zoneid=...`), which gives
    a setting its scope. A `command=scaleVirtualMachine&...&serviceofferingid=X` line names the requested
    offering. cmk prints answers without their envelope (`{"count": 2, "host": [...]}`, cmd/output.go printJSON
    of the unwrapped body): such a block is read by its list key, and a cmk command line above it
    (`(prod) 🐵 > list configurations name=x zoneid=y`) gives its command and parameters. Unknown or broken
    blocks are skipped.

    >>> facts = facts_from_api_text('{"listhostsresponse": {"count": 1, "host": [{"name": "kvm01", '
    ...                             '"memoryallocated": 1024}]}}')
    >>> [(f.kind, f.host_name, f.memory_allocated) for f in facts]
    [('api_host', 'kvm01', 1024)]
    """
    from urllib.parse import parse_qsl

    decoder = json.JSONDecoder()
    loaded: Loaded = {}
    bodies: dict[str, tuple[dict[str, Any], Where]] = {}
    params: dict[str, str] = {}
    requested = requested_offering
    offset, line_no = 0, 1
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        line = text[offset:end].strip()
        cmk = _CMK_LINE.search(line) if not line.startswith(("{", "command=")) else None
        if line.startswith("command="):
            params = dict(parse_qsl(line, keep_blank_values=True))
            if params.get("command") in _SCALE_COMMANDS and params.get("serviceofferingid"):
                requested = requested or params["serviceofferingid"]
        elif cmk is not None:
            command_name = _BY_LOWER.get((cmk.group("verb") + cmk.group("noun")).lower(), "")
            params = {"command": command_name or cmk.group("verb") + cmk.group("noun")}
            params.update(arg.split("=", 1) for arg in cmk.group("args").split())
        elif line.startswith("{"):
            start = offset + (len(text[offset:end]) - len(text[offset:end].lstrip()))
            try:
                payload, stop = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                payload, stop = None, end
            envelope_command, body = _answer(payload, params.get("command"))
            if envelope_command is not None:
                command = envelope_command
                if isinstance(body, dict):
                    where = Where(path, line_no, text[start:stop][:500], ts)
                    call = {"params": {k: v for k, v in params.items() if k != "command"}}
                    item_key = _ITEM_KEYS[command]
                    if command == "listVirtualMachines" and not _is_lookup(params, body):
                        command = PLACEMENT
                    if item_key is None:
                        bodies[command] = (body, where)
                    else:
                        items = body.get(item_key) or []
                        for item in items if isinstance(items, list) else []:
                            if isinstance(item, dict):
                                loaded.setdefault(command, []).append((item, where, call))
            params = {}
            line_no += text.count("\n", offset, stop)
            end = text.find("\n", stop)
            end = len(text) if end < 0 else end
        offset = end + 1
        line_no += 1
    vms = [item for item, _, _ in loaded.get("listVirtualMachines", [])]
    current_id = vms[0].get("serviceofferingid") if len(vms) == 1 else None
    offerings = [item for item, _, _ in loaded.get("listServiceOfferings", [])]
    requested_id = next((o.get("id") for o in offerings
                         if requested and requested in (str(o.get("id")), o.get("name"))), None)
    return assemble_facts(loaded, bodies, current_id, requested_id)


_API_TEXT = re.compile(
    r'"(?:' + "|".join(command.lower() for command in _ITEM_KEYS) + r')response"\s*:\s*\{'
    r'|^\s*"(?:' + "|".join(key for key in _ITEM_KEYS.values() if key) + r')"\s*:\s*\[',
    re.MULTILINE,
)


def looks_like_api_text(text: str) -> bool:
    """Whether text (a file's head) holds CloudStack answers csdiag reads: API JSON with its envelope, or cmk's
    unwrapped output (`"host": [` at the start of a line, as cmk's two-space JSON puts it)."""
    return bool(_API_TEXT.search(text))


def facts_from_api_file(path: str | Path) -> tuple[list[Fact], list[str]]:
    """Facts of a file of pasted API answers or cmk output; one warning when nothing in it could be read."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return [], [f"{path}: larger than {MAX_FILE_BYTES} bytes; not read as API answers"]
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return [], [f"{path}: unreadable ({_reason(exc)})"]
    facts = facts_from_api_text(text, path=str(path))
    if not facts:
        return [], [f"{path}: looks like CloudStack API output, but no answer in it could be read "
                    "(complete JSON answers of list/query calls are needed)"]
    return facts, []


def _answer(payload: Any, asked: str | None) -> tuple[str | None, Any]:
    """(command, body) of one JSON block: a CloudStack envelope, or cmk's unwrapped body named by its list key
    (or by the cmk command line above it when the list is empty)."""
    if not isinstance(payload, dict):
        return None, None
    if len(payload) == 1:
        (envelope, body), = payload.items()
        if envelope in _BY_ENVELOPE:
            return _BY_ENVELOPE[envelope], body
    keys = [key for key in payload if key in _BY_ITEM_KEY]
    if len(keys) == 1:
        return _BY_ITEM_KEY[keys[0]], payload
    if asked in _ITEM_KEYS and (not payload or set(payload) <= {"count"} or _ITEM_KEYS[asked] is None):
        return asked, payload
    return None, None


def _is_lookup(params: dict[str, str], body: dict[str, Any]) -> bool:
    """A listVirtualMachines answer about one VM (by id or name), not a listing of many for placement."""
    if "id" in params or "name" in params:
        return True
    items = body.get("virtualmachine")
    return not params and isinstance(items, list) and len(items) == 1


def api_time_iso(value: Any) -> datetime | None:
    """Manifest times are ISO 8601 (our own writing); API times use CloudStack's form."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return api_time(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__
