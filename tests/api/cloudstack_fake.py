"""A small CloudStack management server on 127.0.0.1 for the API tests (imported by conftest and tests).

It checks every request the way ApiServer.verifyRequest does (written independently of
diagnostics.api.signing: urllib's quote_plus plus Java's differences), answers with bodies shaped like the
real API (field names from the *Response classes), and can be told to fail a command with an API error
(401, 431, 530), to stall (timeout), to cut the body short, or to send broken JSON. Only loopback is used.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, quote_plus, urlsplit


API_KEY = "plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg"
SECRET_KEY = "VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ"

VM_UUID = "5b0c9f1e-8d2a-4c1e-9f3b-2a7d6e1c0042"
ZONE_UUID = "1e7d7c6a-3b0f-4f4e-9a52-0d9c1c1a0001"
DOMAIN_UUID = "9f1d2c3b-0000-4000-8000-00000000d001"
MEDIUM_UUID = "3c1a2b4d-1111-4aaa-8bbb-000000000102"
LARGE_UUID = "9a1b2c3d-2222-4ccc-8ddd-000000000103"
SMALL_UUID = "7f6e5d4c-3333-4eee-8fff-000000000101"
KVM01_UUID = "0b6e1f2a-4444-4a4a-8b8b-0000000000c1"
KVM02_UUID = "0b6e1f2a-5555-4a4a-8b8b-0000000000c2"
CLUSTER_UUID = "c1c1c1c1-6666-4c4c-8d8d-00000000c100"
JOB_UUID = "e2f3a4b5-7777-4e4e-8f8f-000000001201"
GIB = 1024**3


def java_style_encode(value: str) -> str:
    """URLEncoder.encode(v, UTF-8).replaceAll("\\+", "%20"): quote_plus keeps '~', Java escapes it."""
    return quote_plus(value, safe="*").replace("~", "%7E").replace("+", "%20")


def expected_signature(params: dict[str, str], secret: str) -> str:
    names = sorted(n for n in params if n.lower() != "signature")
    unsigned = "&".join(f"{n}={java_style_encode(params[n])}" for n in names).lower()
    return base64.b64encode(hmac.new(secret.encode(), unsigned.encode(), hashlib.sha1).digest()).decode()


def default_data() -> dict[str, Any]:
    """A zone with two KVM hosts, a running VM on kvm01 with a Medium offering, and a Large one with a host tag."""
    return {
        "listVirtualMachines": {"virtualmachine": [
            {"id": VM_UUID, "name": "web01", "displayname": "web01", "instancename": "i-2-42-VM",
             "account": "alice", "domainid": DOMAIN_UUID, "domain": "ROOT", "state": "Running",
             "hostid": KVM01_UUID, "hostname": "kvm01", "zoneid": ZONE_UUID, "zonename": "zone1",
             "hypervisor": "KVM", "serviceofferingid": MEDIUM_UUID, "serviceofferingname": "Medium",
             "cpunumber": 2, "cpuspeed": 2000, "memory": 4096, "isdynamicallyscalable": True,
             "created": "2025-03-01T09:00:00+0000"},
            {"id": "5b0c9f1e-8d2a-4c1e-9f3b-2a7d6e1c0043", "name": "web01-old", "displayname": "web01-old",
             "instancename": "i-2-43-VM", "account": "alice", "domainid": DOMAIN_UUID, "state": "Stopped",
             "zoneid": ZONE_UUID, "serviceofferingid": SMALL_UUID, "serviceofferingname": "Small",
             "cpunumber": 1, "cpuspeed": 1000, "memory": 1024, "isdynamicallyscalable": False},
            {"id": "77777777-8d2a-4c1e-9f3b-2a7d6e1c0077", "name": "payroll-db", "displayname": "payroll-db",
             "instancename": "i-3-77-VM", "account": "bob", "domainid": DOMAIN_UUID, "state": "Running",
             "hostid": KVM02_UUID, "hostname": "kvm02", "zoneid": ZONE_UUID, "serviceofferingid": LARGE_UUID,
             "serviceofferingname": "Large", "cpunumber": 4, "cpuspeed": 2000, "memory": 8192,
             "isdynamicallyscalable": True},
        ]},
        "listServiceOfferings": {"serviceoffering": [
            {"id": SMALL_UUID, "name": "Small", "displaytext": "1 vCPU, 1 GB", "cpunumber": 1, "cpuspeed": 1000,
             "memory": 1024, "dynamicscalingenabled": True, "iscustomized": False, "issystem": False,
             "limitcpuuse": False, "offerha": False},
            {"id": MEDIUM_UUID, "name": "Medium", "displaytext": "2 vCPU, 4 GB", "cpunumber": 2, "cpuspeed": 2000,
             "memory": 4096, "dynamicscalingenabled": True, "iscustomized": False, "issystem": False,
             "limitcpuuse": False, "offerha": False},
            {"id": LARGE_UUID, "name": "Large", "displaytext": "4 vCPU, 8 GB", "cpunumber": 4, "cpuspeed": 2000,
             "memory": 8192, "dynamicscalingenabled": True, "hosttags": "ssd", "iscustomized": False,
             "issystem": False, "limitcpuuse": False, "offerha": False},
        ]},
        "listHosts": {"host": [
            {"id": KVM01_UUID, "name": "kvm01", "state": "Up", "resourcestate": "Enabled", "type": "Routing",
             "hypervisor": "KVM", "hypervisorversion": "8.0.0", "version": "4.19.1.0", "ipaddress": "10.20.0.11",
             "zoneid": ZONE_UUID, "zonename": "zone1", "clusterid": CLUSTER_UUID, "clustername": "cluster1",
             "cpunumber": 48, "cpuspeed": 2000, "cpuallocated": "62.5%", "cpuused": "12.3%",
             "cpuwithoverprovisioning": "192000.0", "memorytotal": 134754598912,
             "memorywithoverprovisioning": "134754598912.00", "memoryallocated": 128849018880,
             "memoryused": 41875931136, "hosttags": "", "lastpinged": "1970-01-20T11:21:04+0000"},
            {"id": KVM02_UUID, "name": "kvm02", "state": "Up", "resourcestate": "Enabled", "type": "Routing",
             "hypervisor": "KVM", "hypervisorversion": "8.0.0", "version": "4.19.1.0", "ipaddress": "10.20.0.12",
             "zoneid": ZONE_UUID, "zonename": "zone1", "clusterid": CLUSTER_UUID, "clustername": "cluster1",
             "cpunumber": 48, "cpuspeed": 2000, "cpuallocated": "20%", "cpuused": "4.1%",
             "cpuwithoverprovisioning": "192000.0", "memorytotal": 134754598912,
             "memorywithoverprovisioning": "134754598912.00", "memoryallocated": 34359738368,
             "memoryused": 30064771072, "hosttags": "ssd,nvme"},
        ]},
        "listCapacity": {"capacity": [
            {"type": 0, "name": "MEMORY", "zoneid": ZONE_UUID, "zonename": "zone1", "capacityused": 163208757248,
             "capacitytotal": 269509197824, "percentused": "60.56"},
            {"type": 1, "name": "CPU", "zoneid": ZONE_UUID, "zonename": "zone1", "capacityused": 158400,
             "capacitytotal": 384000, "percentused": "41.25"},
        ]},
        "listConfigurations": {"configuration": [
            {"category": "Advanced", "name": "enable.dynamic.scale.vm", "value": "true", "scope": "zone",
             "description": "Enables/Disables dynamically scaling a vm", "isdynamic": True},
            {"category": "Advanced", "name": "cpu.overprovisioning.factor", "value": "4.0", "scope": "cluster",
             "isdynamic": True},
            {"category": "Advanced", "name": "mem.overprovisioning.factor", "value": "1.0", "scope": "cluster",
             "isdynamic": True},
            {"category": "Advanced", "name": "ping.interval", "value": "60", "scope": "global", "isdynamic": False},
            {"category": "Advanced", "name": "ping.timeout", "value": "2.5", "scope": "global", "isdynamic": False},
            {"category": "Alert", "name": "capacity.check.period", "value": "300000", "scope": "global",
             "isdynamic": False},
            {"category": "Advanced", "name": "scale.retry", "value": "2", "scope": "global", "isdynamic": False},
        ]},
        "listResourceLimits": {"resourcelimit": [
            {"account": "alice", "domainid": DOMAIN_UUID, "domain": "ROOT", "resourcetype": "9",
             "resourcetypename": "memory", "max": 40960},
            {"account": "alice", "domainid": DOMAIN_UUID, "domain": "ROOT", "resourcetype": "8",
             "resourcetypename": "cpu", "max": -1},
        ]},
        "listAccounts": {"account": [
            {"id": "a1a1a1a1-0000-4000-8000-0000000000a1", "name": "alice", "domainid": DOMAIN_UUID,
             "domain": "ROOT", "memorylimit": "40960", "memorytotal": 36864, "memoryavailable": "4096",
             "cpulimit": "Unlimited", "cputotal": 18, "cpuavailable": "Unlimited"},
        ]},
        "listAsyncJobs": {"asyncjobs": [
            {"accountid": "a1a1a1a1-0000-4000-8000-0000000000a1", "userid": "u1", "jobid": JOB_UUID,
             "cmd": "org.apache.cloudstack.api.command.admin.vm.ScaleVMCmdByAdmin", "jobstatus": 2,
             "jobprocstatus": 0, "jobresultcode": 530, "jobresulttype": "object",
             "jobresult": {"errorcode": 530, "errortext": "Unable to scale VM instance {\"id\":42} due to "
                           "[Unable to find a server to scale the vm to.]."},
             "jobinstancetype": "VirtualMachine", "jobinstanceid": VM_UUID,
             "created": "2025-03-10T14:02:11+0000", "completed": "2025-03-10T14:02:13+0000"},
            {"accountid": "b2", "userid": "u2", "jobid": "e2f3a4b5-7777-4e4e-8f8f-000000009999",
             "cmd": "org.apache.cloudstack.api.command.user.vm.StartVMCmd", "jobstatus": 1,
             "jobresultcode": 0, "jobinstancetype": "VirtualMachine",
             "jobinstanceid": "00000000-0000-4000-8000-000000000777", "created": "2025-03-10T13:00:00+0000"},
        ]},
    }


@dataclass
class Fault:
    kind: str  # api_error | echo | stall | cut | bad_json | http_only
    code: int = 530
    text: str = "internal error"


@dataclass
class ServerState:
    data: dict[str, Any] = field(default_factory=default_data)
    users: dict[str, str] = field(default_factory=lambda: {API_KEY: SECRET_KEY})
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    raw_paths: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _filter(command: str, items: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    """The few server-side filters the tests rely on, with CloudStack's semantics."""
    if "id" in params:  # 2.2 servers have numeric ids: compared as the text of the query
        items = [i for i in items if str(i.get("id")) == params["id"]]
    if command == "listVirtualMachines" and "name" in params:  # substring match, as the API documents
        items = [i for i in items if params["name"] in i.get("name", "")]
    if command == "listConfigurations" and "name" in params:
        items = [i for i in items if params["name"] in i.get("name", "")]
    if command == "listHosts" and "type" in params:
        items = [i for i in items if i.get("type", "Routing") == params["type"]]
    return items


ITEM_KEYS = {"listVirtualMachines": "virtualmachine", "listServiceOfferings": "serviceoffering",
             "listHosts": "host", "listCapacity": "capacity", "listConfigurations": "configuration",
             "listResourceLimits": "resourcelimit", "listAccounts": "account", "listAsyncJobs": "asyncjobs"}


class Handler(BaseHTTPRequestHandler):
    server: "FakeManagementServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _error(self, command: str, code: int, text: str) -> None:
        body = {f"{command.lower()}response": {"uuidList": [], "errorcode": code, "cserrorcode": 9999,
                                                "errortext": text}}
        self._send(code, json.dumps(body).encode())

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        split = urlsplit(self.path)
        state.raw_paths.append(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        command = params.get("command", "")
        state.requests.append(params)
        secret = state.users.get(params.get("apiKey", ""))
        signature = params.get("signature")
        if secret is None or signature is None or expected_signature(params, secret) != signature:
            return self._error(command, 401, "unable to verify user credentials and/or request signature")
        if params.get("signatureVersion") == "3":
            # the legacy DateUtil pattern yyyy-MM-dd'T'HH:mm:ss'Z'Z, which every release accepts
            expires = datetime.strptime(params.get("expires", ""), "%Y-%m-%dT%H:%M:%SZ%z")
            if expires < datetime.now(timezone.utc):
                return self._error(command, 401, "unable to verify user credentials and/or request signature")
        fault = state.faults.get(command)
        if fault and fault.kind == "api_error":
            return self._error(command, fault.code, fault.text)
        if fault and fault.kind == "echo":  # as some proxies and old servers do: the signed query in the error text
            return self._error(command, fault.code, f"{fault.text} {self.path}")
        if fault and fault.kind == "stall":
            state.release.wait(10)
            return
        if command == "queryAsyncJobResult":
            job = next((j for j in state.data["listAsyncJobs"]["asyncjobs"] if j["jobid"] == params.get("jobid")),
                       None)
            if job is None:
                return self._error(command, 431, f"Unable to execute API command queryasyncjobresult due to "
                                   f"invalid value. Invalid parameter jobid value={params.get('jobid')} due to "
                                   "incorrect long value format, or entity does not exist or due to incorrect "
                                   "parameter annotation for the field in api cmd class.")
            body = {"queryasyncjobresultresponse": job}
        elif command in ITEM_KEYS:
            key = ITEM_KEYS[command]
            items = _filter(command, state.data[command][key], params)
            page, size = int(params.get("page", "1")), int(params.get("pagesize", "500"))
            chunk = copy.deepcopy(items[(page - 1) * size: page * size])
            inner: dict[str, Any] = {"count": len(items), key: chunk} if chunk else {}
            body = {f"{command.lower()}response": inner}
        else:
            return self._error(command, 432, f"The given command:{command} does not exist or it is not "
                               "available for user")
        raw = json.dumps(body).encode()
        if fault and fault.kind == "cut":
            return self._send(200, raw[: len(raw) // 2], length=len(raw))
        if fault and fault.kind == "bad_json":
            return self._send(200, raw[: len(raw) // 2])
        self._send(200, raw)


class FakeManagementServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ServerState, context: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}/client/api"


def serve(state: ServerState, context: ssl.SSLContext | None = None) -> Iterator[FakeManagementServer]:
    server = FakeManagementServer(state, context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)




def write_cmk_config(home: Path, url: str, profile: str = "prod", api_key: str = API_KEY,
                     secret_key: str = SECRET_KEY, extra_core: str = "") -> Path:
    """~/.cmk/config as cmk 6 writes it: global keys first (go-ini DEFAULT section), then one profile."""
    folder = home / ".cmk"
    folder.mkdir(exist_ok=True)
    path = folder / "config"
    path.write_text(
        f"prompt = 🐵\nasyncblock = true\ntimeout = 1800\noutput = json\nverifycert = true\n"
        f"profile = {profile}\nautocomplete = true\n{extra_core}\n"
        f"[localcloud]\nurl = http://localhost:8080/client/api\nusername = admin\npassword = password\n"
        f"domain = /\napikey = \nsecretkey = \n\n"
        f"[{profile}]\nurl = {url}\nusername = admin\npassword = password\ndomain = /\n"
        f"apikey = {api_key}\nsecretkey = {secret_key}\n")
    return path
