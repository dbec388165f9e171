"""Fixtures for the bundle tests: an incident folder and a probe run, built from bundle_inputs."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from bundle_inputs import (
    AGENT_LOG,
    AGENT_PROPERTIES,
    API_LOG,
    DB_PROPERTIES,
    DOMAIN_XML,
    FREE_OUTPUT,
    MGMT_LOG,
    PRIVATE_KEY,
    SHELL_HISTORY,
    write_pcap,
    write_probe_folder,
)


@pytest.fixture
def incident(tmp_path: Path) -> Path:
    """A folder as an engineer would collect it by hand: logs, configs, host evidence, a capture, a probe run."""
    root = tmp_path / "incident"
    (root / "management").mkdir(parents=True)
    (root / "management" / "management-server.log").write_text(MGMT_LOG)
    (root / "management" / "apilog.log").write_text(API_LOG)
    with gzip.open(root / "management" / "management-server.log.2025-03-09.gz", "wt") as f:
        f.write(MGMT_LOG.replace("2025-03-10", "2025-03-09"))
    (root / "agent").mkdir()
    (root / "agent" / "agent.log").write_text(AGENT_LOG)
    (root / "etc").mkdir()
    (root / "etc" / "db.properties").write_text(DB_PROPERTIES)
    (root / "etc" / "agent.properties").write_text(AGENT_PROPERTIES)
    (root / "etc" / "i-2-42-VM.xml").write_text(DOMAIN_XML)
    (root / "etc" / "notes-with-key.txt").write_text(PRIVATE_KEY)  # a key pasted into a text file
    (root / "etc" / "history.txt").write_text(SHELL_HISTORY)
    (root / "host").mkdir()
    (root / "host" / "free.txt").write_text(FREE_OUTPUT)
    write_pcap(root / "host" / "heartbeat.pcap")
    return root


@pytest.fixture
def probe_run(tmp_path: Path) -> Path:
    return write_probe_folder(tmp_path / "probes")


# -- a real OpenSSH server on loopback for `bundle create --probe` (reference/test-infrastructure.md) ----------------

SSHD = "/usr/sbin/sshd"


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "csdiag-bundle-test", "-f", str(path)], check=True, timeout=20)
    return path


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LoopbackSshd:
    port: int
    client_key: Path
    known_hosts: Path


@pytest.fixture(scope="module")
def loopback_sshd(tmp_path_factory: pytest.TempPathFactory):
    """One sshd on 127.0.0.1 (root login with a fresh key); stopped by the pid of the process started here."""
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server/openssh-client are not installed")
    if os.geteuid() != 0:
        pytest.skip("the test sshd needs root (privilege separation directory /run/sshd)")
    os.makedirs("/run/sshd", exist_ok=True)
    root = tmp_path_factory.mktemp("sshd")
    host_key, client_key = _keygen(root / "hostkey"), _keygen(root / "clientkey")
    (root / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    port = _free_loopback_port()
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
        f"PidFile {root / 'sshd.pid'}\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
    )
    process = subprocess.Popen([SSHD, "-f", str(root / "sshd_config"), "-D", "-e"], stderr=open(root / "sshd.log", "wb"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    kind, blob = host_key.with_suffix(".pub").read_text().split()[:2]
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {blob}\n")
    yield LoopbackSshd(port, client_key, root / "known_hosts")
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
