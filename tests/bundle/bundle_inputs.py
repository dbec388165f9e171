"""Realistic CloudStack inputs with planted secrets, shared by the bundle tests.

Every secret value starts with `PLANTED` so a test can search a whole bundle for any survivor. The log lines use
the exact formats of cloudstack-log-formats.md (log4j2 4.20+ layout, apilog audit line, Seq command traces).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

SECRETS = (
    "PLANTEDapikey0123456789abcdef",
    "PLANTEDsignature%2BzZ9%3D",
    "PLANTEDsessionkeyQ1w2E3",
    "PLANTEDjettysession01abc",
    "PLANTEDvncpw",
    "PLANTEDuserpw",
    "PLANTEDsecretkeyXYZ",
    "PLANTEDescapedpw",
    "PLANTEDdbcloudpw",
    "PLANTEDdbusagepw",
    "PLANTEDencryptsecret",
    "PLANTEDkeystorepass",
    "PLANTEDgraphicspw",
    "PLANTEDpemline1",
    "PLANTEDpemline2",
    "PLANTEDbearertoken.abc",
    "PLANTEDhttppw",
    "PLANTEDcephkey==",
    "PLANTEDinlinepem",
    "PLANTEDunicodepw",
)

MGMT_LOG = """\
2025-03-10 15:10:02,510 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-7:[ctx-5e6f7a8b, job-1300/job-1301, ctx-77aa01bc]) (logid:5e6f7a8b) release mem from host: 4, old used: (120.00 GB) 128849018880, reserved: (0 bytes) 0, total: (125.50 GB) 134754598912; new used: (112.00 GB) 120259084288, reserved: (8.00 GB) 8589934592; movedfromreserved: false, moveToReservered: true
2025-03-10 15:11:40,002 DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) ===START===  10.20.0.15 -- GET  command=changeServiceForVirtualMachine&id=5b0c9f1e-1111&serviceofferingid=9a1b-2222&apiKey=PLANTEDapikey0123456789abcdef&signature=PLANTEDsignature%2BzZ9%3D&response=json&sessionkey=PLANTEDsessionkeyQ1w2E3
2025-03-10 15:11:55,710 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) (logid:0f1e2d3c) Checking if host: Host {"id":4,"uuid":"0b6e","name":"kvm01.example.net","type":"Routing"} has enough capacity for requested CPU: 16000 and requested RAM: (32.00 GB) 34359738368 , cpuOverprovisioningFactor: 2.0
2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) (logid:0f1e2d3c) Host does not have enough RAM available, cannot allocate to this host.
2025-03-10 15:11:55,761 ERROR [c.c.v.VmWorkJobDispatcher] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311]) (logid:0f1e2d3c) Unable to complete AsyncJob {"id":1311,"cmd":"com.cloud.vm.VmWorkStart"}, job origin: 1310
com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM instance {"id":42,"instanceName":"i-2-42-VM","uuid":"5b0c9f1e-1111","type":"User","state":"Starting"}Scope=interface com.cloud.dc.DataCenter; id=1
\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)
\tat com.cloud.vm.VmWorkJobHandlerProxy.handleVmWorkJob(VmWorkJobHandlerProxy.java:107)
2025-03-10 16:20:31,400 DEBUG [c.c.a.t.Request] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401, ctx-88990011]) (logid:6d7e8f90) Seq 4-7251549216581238790: Sending  { Cmd , MgmtId: 345049296663, via: 4(kvm01.example.net), Ver: v1, Flags: 100011, [{"com.cloud.agent.api.StartCommand":{"vm":{"name":"i-2-42-VM","vncPassword":"PLANTEDvncpw","password":"PLANTEDuserpw","secretKey":"PLANTEDsecretkeyXYZ","passwordEnabled":true,"details":"{\\"password\\":\\"PLANTEDescapedpw\\"}","accountName":"acme-corp","xmlDesc":"<graphics type=\\u0027vnc\\u0027 passwd=\\u0027PLANTEDunicodepw\\u0027/>"},"wait":0}}] }
2025-03-10 16:20:31,520 DEBUG [c.c.a.t.Request] (AgentManager-Handler-5:[]) (logid:) Seq 4-7251549216581238790: Processing:  { Ans: , MgmtId: 345049296663, via: 4(kvm01.example.net), Ver: v1, Flags: 10, [{"com.cloud.agent.api.StartAnswer":{"result":false,"details":"internal error: process exited while connecting to monitor","wait":0}}] }
2025-03-10 17:05:00,012 INFO  [c.c.a.m.AgentManagerImpl] (AgentMonitor-1:[ctx-1c2d3e4f]) (logid:1c2d3e4f) Found the following agents behind on ping: [4]
"""

API_LOG = """\
2025-03-10 15:11:40,500 INFO  [a.c.c.a.ApiServer] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) (userId=2 accountId=2 sessionId=PLANTEDjettysession01abc) 10.20.0.15 -- GET command=changeServiceForVirtualMachine&id=5b0c9f1e-1111&apiKey=PLANTEDapikey0123456789abcdef&signature=PLANTEDsignature%2BzZ9%3D&response=json 200 {"changeserviceforvirtualmachineresponse":{}}
"""

AGENT_LOG = """\
2025-03-10 16:20:31,455 WARN  [resource.wrapper.LibvirtStartCommandWrapper] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) LibvirtException
org.libvirt.LibvirtException: internal error: process exited while connecting to monitor: qemu-kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory
\tat org.libvirt.ErrorHandler.processError(Unknown Source)
2025-03-10 16:20:31,460 DEBUG [kvm.resource.LibvirtComputingResource] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) starting i-2-42-VM: <domain type='kvm'><name>i-2-42-VM</name>
<devices><graphics type='vnc' autoport='yes' listen='10.20.1.14' passwd='PLANTEDgraphicspw'/>
<disk type='network'><source protocol='rbd' name='rbd:cloudstack/vol1:id=admin:key=PLANTEDcephkey==:auth_supported=cephx'/></disk></devices></domain>
2025-03-10 17:04:10,001 INFO  [cloud.agent.Agent] (Agent-Handler-1:[]) (logid:) Lost connection to host: 10.20.0.5. Attempting reconnection while we still have 1 commands in progress.
"""

DB_PROPERTIES = """\
cluster.node.IP=10.20.0.5
db.cloud.username=cloud
db.cloud.password=PLANTEDdbcloudpw
db.usage.password=PLANTEDdbusagepw
db.cloud.encrypt.secret=PLANTEDencryptsecret
db.cloud.host=10.20.0.6
router.aggregation.command.each.timeout=600
"""

AGENT_PROPERTIES = """\
host=10.20.0.5@static
port=8250
keystore.passphrase=PLANTEDkeystorepass
vm.memballoon.disable=true
"""

DOMAIN_XML = """\
<domain type='kvm'>
  <name>i-2-42-VM</name>
  <devices>
    <graphics type='vnc' port='5900' autoport='yes' listen='10.20.1.14' passwd="PLANTEDgraphicspw"/>
  </devices>
</domain>
"""

PRIVATE_KEY = """\
-----BEGIN OPENSSH PRIVATE KEY-----
PLANTEDpemline1
PLANTEDpemline2
-----END OPENSSH PRIVATE KEY-----
"""

SHELL_HISTORY = """\
curl -s -H 'Authorization: Bearer PLANTEDbearertoken.abc' 'https://admin:PLANTEDhttppw@10.20.0.5:8443/client/api?command=listHosts'
{"name":"key","privatekey":"-----BEGIN RSA PRIVATE KEY-----\\nPLANTEDinlinepem\\n-----END RSA PRIVATE KEY-----\\n"}
"""

FREE_OUTPUT = """\
               total        used        free      shared  buff/cache   available
Mem:       131595116   126254168     1021348       12400     4319600     4141104
Swap:        8388604     8388604           0
"""


def write_pcap(path: Path) -> None:
    """A tiny, valid libpcap file (one Ethernet frame) - binary evidence that must be copied untouched."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    frame = b"\x00" * 12 + b"\x08\x00" + b"\x45" + b"\x00" * 19
    record = struct.pack("<IIII", 1741619100, 0, len(frame), len(frame)) + frame
    path.write_bytes(header + record)


def write_probe_folder(root: Path, host: str = "kvm01.example.net") -> Path:
    folder = root / "csdiag-probe-20250310T170600Z" / "kvm01"
    folder.mkdir(parents=True)
    (folder / "free.txt").write_text(FREE_OUTPUT)
    (folder / "virsh-dumpxml.txt").write_text(DOMAIN_XML)
    (folder / "agent.properties").write_text(AGENT_PROPERTIES)
    commands = [
        {"name": "free", "command": "free", "status": "ok", "rc": 0, "duration_s": 0.012, "truncated": False, "timed_out": False, "output": "free.txt"},
        {"name": "sensors", "command": "sensors", "status": "failed", "rc": 1, "duration_s": 0.02, "truncated": False, "timed_out": False, "output": None},
        {"name": "virsh-dumpxml", "command": "virsh -r dumpxml i-2-42-VM", "status": "ok", "rc": 0, "duration_s": 0.3, "truncated": False, "timed_out": False, "output": "virsh-dumpxml.txt"},
    ]
    (folder / "manifest.json").write_text(json.dumps({"format": "csdiag-probe/1", "host": host, "status": "partial", "commands": commands}))
    (folder.parent / "manifest.json").write_text(json.dumps({"format": "csdiag-probe/1", "hosts": [{"host": host, "folder": "kvm01", "status": "partial"}]}))
    return folder.parent
