"""Real OpenSSH servers on loopback for the probe tests and the probe benchmark (see reference/test-infrastructure.md).

Each server is `/usr/sbin/sshd -f CONFIG -D -e` on a free 127.0.0.x port with a fresh ed25519 host key;
all share one authorized_keys file. Stop them with SshdFactory.stop_all (only the processes started here).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def prepare_privsep_dir() -> None:
    """sshd refuses to start without its privilege-separation folder (compiled in, root only)."""
    os.makedirs("/run/sshd", exist_ok=True)
    os.chmod("/run/sshd", 0o755)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "csdiag-test", "-f", str(path)], check=True, timeout=20)
    return path


class PortTaken(Exception):
    pass


@dataclass
class Sshd:
    address: str
    port: int
    folder: Path
    host_key: Path
    process: subprocess.Popen

    @property
    def target(self) -> str:
        return f"{self.address}:{self.port}"

    def known_hosts_line(self) -> str:
        kind, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[{self.address}]:{self.port} {kind} {blob}\n"

    def log(self) -> str:
        return (self.folder / "sshd.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class SshdFactory:
    """Starts sshd instances sharing one authorized_keys file; stops exactly the ones it started."""

    def __init__(self, root: Path, authorized_keys: Path) -> None:
        self.root = root
        self.authorized_keys = authorized_keys
        self.started: list[Sshd] = []

    def start(self, address: str = "127.0.0.1", *, sftp: bool = True, extra: tuple[str, ...] = ()) -> Sshd:
        """Start one sshd (sftp=False: no `Subsystem sftp`, as on hardened hosts; `extra`: more sshd_config lines);
        a port taken between picking and binding it costs a retry, not the test."""
        assert address.startswith("127."), "tests talk to loopback only"
        for _ in range(3):
            try:
                return self._start_once(address, sftp, extra)
            except PortTaken:
                continue
        raise RuntimeError(f"no free port for sshd on {address} after 3 tries")

    def _start_once(self, address: str, sftp: bool, extra: tuple[str, ...]) -> Sshd:
        folder = Path(tempfile.mkdtemp(prefix="sshd-", dir=self.root))
        folder.chmod(0o755)
        host_key = keygen(folder / "hostkey")
        port = free_port(address)
        config = folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    f"ListenAddress {address}",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {self.authorized_keys}",
                    f"PidFile {folder / 'sshd.pid'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin yes",
                    "MaxSessions 64",
                    "MaxStartups 64:30:128",
                    "LogLevel VERBOSE",
                    *(["Subsystem sftp internal-sftp"] if sftp else []),
                    *extra,
                    "",
                ]
            )
        )
        log = open(folder / "sshd.log", "wb")
        process = subprocess.Popen([SSHD, "-f", str(config), "-D", "-e"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        server = Sshd(address=address, port=port, folder=folder, host_key=host_key, process=process)
        self.started.append(server)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.started.remove(server)
                if "Address already in use" in server.log():
                    raise PortTaken()
                raise RuntimeError(f"sshd exited: {server.log()}")
            try:
                with socket.create_connection((address, port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return server
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"sshd on {address}:{port} did not answer: {server.log()}")

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()
