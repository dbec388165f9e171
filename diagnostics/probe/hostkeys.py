"""Host key verification: known keys must match, unknown keys are refused unless the user opts in.

paramiko itself raises BadHostKeyException for a changed key; these policies decide about unknown keys.
Accepting a new key appends it to the known_hosts file (OpenSSH format) so the next run verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

import paramiko


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint, e.g. 'SHA256:Qm9...' (what ssh-keygen -lf prints)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


class HostKeyRefused(Exception):
    """An unknown or changed host key: the connection was refused before authentication."""

    def __init__(self, host: str, message: str, key_type: str, key_fingerprint: str) -> None:
        super().__init__(message)
        self.host = host
        self.key_type = key_type
        self.fingerprint = key_fingerprint


def unknown_key_message(host: str, key: paramiko.PKey, known_hosts: Path) -> str:
    """`host` is the known_hosts name paramiko looked up ([addr]:port for a port other than 22)."""
    return (
        f"unknown host key {key.get_name()} {fingerprint(key)} ({host} is not in {known_hosts}); "
        "refusing: check the fingerprint, then rerun with --accept-new-host-key"
    )


def changed_key_message(got: paramiko.PKey, expected: paramiko.PKey | None, known_hosts: Path) -> str:
    known = f"{expected.get_name()} {fingerprint(expected)}" if expected is not None else "another key"
    return (
        f"host key CHANGED: offered {got.get_name()} {fingerprint(got)}, {known_hosts} has {known}; "
        "refusing (possible man-in-the-middle)"
    )


class RejectUnknownHostKey(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: Path) -> None:
        self._known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyRefused(hostname, unknown_key_message(hostname, key, self._known_hosts), key.get_name(), fingerprint(key))


_APPEND_LOCK = threading.Lock()


class AcceptNewHostKey(paramiko.MissingHostKeyPolicy):
    """--accept-new-host-key: trust on first use, like OpenSSH's StrictHostKeyChecking=accept-new."""

    def __init__(self, known_hosts: Path) -> None:
        self._known_hosts = known_hosts
        self.accepted: list[str] = []

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        append_known_host(self._known_hosts, hostname, key)
        self.accepted.append(f"{hostname} {key.get_name()} {fingerprint(key)}")


def append_known_host(known_hosts: Path, hostname: str, key: paramiko.PKey) -> None:
    """Append one OpenSSH known_hosts line; creates the file (0600) and its folder (0700) if needed."""
    line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
    with _APPEND_LOCK:
        known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as stream:
            stream.write(line)


def load_known_hosts(client: paramiko.SSHClient, known_hosts: Path) -> None:
    """Load the file as *system* host keys so paramiko never rewrites it; a missing file is an empty one."""
    if known_hosts.is_file():
        client.load_system_host_keys(str(known_hosts))
