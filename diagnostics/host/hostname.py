"""Tie a piece of host evidence to a host by where it lies: `.../kvm03/free.txt` -> kvm03.

A sosreport folder names its host (`sosreport-kvm03-2025-03-10-abcdef`, with an optional case id before
the date); otherwise the nearest parent folder that looks like a host name wins. Generic folder names
(`tmp`, `evidence`, `sos_commands`, `memory`, ...) and names without a digit, dot or dash are skipped,
so `/home/alice/tickets/free.txt` gives no host rather than a wrong one.

    >>> host_from_path("/cases/4711/sosreport-kvm03-2025-03-10-xyzab/sos_commands/memory/free_-m")
    'kvm03'
    >>> host_from_path("probe-20250310/kvm03/free.txt")
    'kvm03'
    >>> host_from_path("/tmp/evidence/free.txt") is None
    True
"""

from __future__ import annotations

import re
from pathlib import PurePath

GENERIC = frozenset({
    "tmp", "temp", "evidence", "sos_commands", "memory", "kernel", "hardware", "processor", "numa", "libvirt",
    "data", "host", "hosts", "logs", "log", "var", "proc", "sys", "etc", "root", "home", "cloudstack", "agent",
    "management", "probe", "probes", "bundle", "bundles", "capture", "captures", "collected", "output", "outputs",
    "samples", "sample", "fixtures", "tests", "test", "work", "cases", "case", "tickets", "ticket", "downloads",
    "desktop", "documents", "hypervisor", "hypervisors", "kvm", "sos_reports", "sosreports", "mnt", "media", "opt",
    "usr", "srv", "real", "files", "commands", "cmd", "raw",
})
MAX_PARENTS = 4
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DATEISH = re.compile(r"^\d{4}-?\d{2}-?\d{2}(?:[T_-]?\d{2,6})*$|^\d+$|^v?\d+(?:\.\d+)+$")
_NOT_HOST_PREFIX = re.compile(r"^(?:tmp|temp|pytest-|probe-|bundle-|csdiag-|sosreport$|python\d)", re.I)
_PROBE_FOLDER = re.compile(r"^(?P<host>.+)_(?P<port>\d{1,5})$")
# sosreport-<host>[-<case id>]-<YYYY-MM-DD>-<random>, older sosreport-<host>.<case>-<YYYYMMDDhhmmss>
_SOSREPORT = re.compile(r"^sosreport-(?P<rest>.+)$")
_SOS_TAIL = re.compile(r"(?:[-.]\d{5,})?[-.](?:\d{4}-\d{2}-\d{2}|\d{8,14})(?:[-.].*)?$")


def host_from_sosreport(name: str) -> str | None:
    """`sosreport-kvm03-01234567-2025-03-10-abcdef` -> `kvm03`; extensions (.tar.xz) are ignored."""
    m = _SOSREPORT.match(re.sub(r"\.tar(?:\.\w+)?$", "", name))
    if not m:
        return None
    host = _SOS_TAIL.sub("", m.group("rest"))
    return host if host and _HOSTNAME.match(host) else None


def looks_like_host(name: str) -> bool:
    if _IPV4.match(name):
        return True
    if name.lower() in GENERIC or _NOT_HOST_PREFIX.match(name) or _DATEISH.match(name):
        return False
    if not _HOSTNAME.match(name) or not re.search(r"[A-Za-z]", name):
        return False
    return bool(re.search(r"[0-9.-]", name))


def host_from_path(path: str) -> str | None:
    """The host the file at `path` was collected from, or None when its folders do not say."""
    parents = PurePath(path).parts[:-1]
    for part in reversed(parents):
        host = host_from_sosreport(part)
        if host:
            return host
    for part in list(reversed(parents))[:MAX_PARENTS]:
        if looks_like_host(part):
            return part
        probe_folder = _PROBE_FOLDER.match(part)  # `csdiag probe` names a folder <host>_<port> for a custom port
        if probe_folder and looks_like_host(probe_folder.group("host")):
            return probe_folder.group("host")
    return None
