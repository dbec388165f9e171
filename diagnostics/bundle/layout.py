"""What a file is, from where it sits: the same names in a sosreport, a csdiag bundle, a probe folder or a plain copy.

Why by path: evidence arrives in known layouts. A sosreport keeps command output under `sos_commands/<plugin>/`
(`sos_commands/memory/free`, `sos_commands/kernel/dmesg`, `sos_commands/processor/lscpu`,
`sos_commands/numa/numactl_--hardware`) and copies files at their real paths (`var/log/cloudstack/...`); probe
folders and hand-made copies use the bare command name (`free-m.txt`, `dmesg.txt`). One table serves all of them.
"""

from __future__ import annotations

import re

from diagnostics.bundle.redact import is_secret_file as leave_out

# (role, pattern over the POSIX relative path); first match wins.
_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("management-log", r"(?:^|/)management-server\.log(?:\.[\w-]+)*$|(?:^|/)vmops\.log(?:\.[\w-]+)*$"),
        ("api-log", r"(?:^|/)(?:apilog|api)\.log(?:\.[\w-]+)*$"),
        ("agent-log", r"(?:^|/)(?:agent|cloudstack-agent)\.log(?:\.[\w-]+)*$"),
        ("libvirt-log", r"(?:^|/)var/log/libvirt/.+\.log(?:\.[\w-]+)*$|(?:^|/)libvirtd\.log(?:\.[\w-]+)*$"),
        ("syslog", r"(?:^|/)var/log/(?:messages|syslog|kern\.log)(?:[.-][\w-]+)*$"),
        ("free", r"(?:^|/)free(?:[_ -][^/]*)?(?:\.txt|\.out)?$"),
        ("meminfo", r"(?:^|/)(?:proc/)?meminfo(?:\.txt)?$"),
        ("dmesg", r"(?:^|/)dmesg(?:[_ -][^/]*)?(?:\.txt|\.out)?$|(?:^|/)var/log/dmesg$"),
        ("lscpu", r"(?:^|/)lscpu(?:[_ -][^/]*)?(?:\.txt|\.out)?$"),
        ("numactl", r"(?:^|/)numactl(?:[_ -][^/]*)?(?:\.txt|\.out)?$"),
        ("sensors", r"(?:^|/)sensors(?:[_ -][^/]*)?(?:\.txt|\.out|\.json)?$"),
        ("virsh", r"(?:^|/)virsh(?:[_ -][^/]*)?(?:\.txt|\.out|\.xml)?$|(?:^|/)sos_commands/virsh/[^/]+$"),
        ("capture", r"\.(?:pcap|pcapng|cap)(?:\.gz)?$"),
        ("config", r"(?:^|/)(?:db|agent|server|environment)\.properties$|(?:^|/)etc/cloudstack/.+$"),
        ("hostname", r"^(?:[^/]+/)?(?:hostname|etc/hostname|sos_commands/(?:general|host)/hostname(?:_[^/]*)?)$"),
    )
)

LOG4J_ROLES = frozenset({"management-log", "api-log", "agent-log"})


def role_of(relpath: str) -> str | None:
    """`sos_commands/memory/free_-m` -> "free"; `var/log/cloudstack/agent/agent.log.2025-01-01.gz` -> "agent-log"."""
    rel = re.sub(r"^(?:\./|/)+", "", relpath.replace("\\", "/"))
    for role, pattern in _ROLES:
        if pattern.search(rel):
            return role
    return None


def is_sosreport_member(relpath: str) -> bool:
    """Members worth unpacking from a sosreport for csdiag (a full sosreport can hold 100k files)."""
    rel = relpath.replace("\\", "/")
    inner = rel.split("/", 1)[1] if "/" in rel and rel.split("/", 1)[0].startswith(("sosreport", "sos-")) else rel
    if inner.startswith(("sos_reports/manifest.json", "version.txt")):
        return True
    return role_of(inner) is not None


def is_secret_file(relpath: str) -> bool:
    """`etc/cloudstack/management/key`, `cloud.jks`, `id_rsa`...: left out whole while redacting.

    The patterns are data: [files] leave_out in redaction.toml (sos `add_forbidden_path` as the model).
    """
    return leave_out(relpath)
