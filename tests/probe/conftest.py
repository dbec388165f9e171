"""Real OpenSSH servers on loopback for the probe tests (no mocks): see reference/test-infrastructure.md.

Each server is `/usr/sbin/sshd -f CONFIG -D -e` on a free 127.0.0.x port with a fresh ed25519 host key;
the client key is authorised for root and for a throwaway non-root user created with useradd.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnostics.probe import ProbeOptions

SSHD = "/usr/sbin/sshd"
TEST_SECONDS = 60  # every probe test is bounded; a hang fails the test instead of the CI job


@pytest.fixture(autouse=True)
def bounded_time():
    def _expired(signum, frame):
        raise TimeoutError(f"probe test exceeded {TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(TEST_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released): connecting gets ECONNREFUSED."""
    return free_port()


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "csdiag-test", "-f", str(path)], check=True, timeout=20)
    return path


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

    def start(self, address: str = "127.0.0.1") -> Sshd:
        assert address.startswith("127."), "tests talk to loopback only"
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
                    "Subsystem sftp internal-sftp",
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
                pytest.fail(f"sshd exited: {server.log()}")
            try:
                with socket.create_connection((address, port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return server
            except OSError:
                time.sleep(0.02)
        pytest.fail(f"sshd on {address}:{port} did not answer: {server.log()}")

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture(scope="session")
def ssh_root():
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server)")
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed (apt-get install openssh-client)")
    if os.geteuid() != 0:
        pytest.skip("the test sshd needs root (privilege separation directory /run/sshd)")
    os.makedirs("/run/sshd", exist_ok=True)
    os.chmod("/run/sshd", 0o755)
    root = Path(tempfile.mkdtemp(prefix="csdiag-probe-tests-"))
    root.chmod(0o755)  # the non-root user must reach authorized_keys
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def client_key(ssh_root) -> Path:
    return keygen(ssh_root / "clientkey")


@pytest.fixture(scope="session")
def sshd_factory(ssh_root, client_key):
    authorized = ssh_root / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    authorized.chmod(0o644)
    factory = SshdFactory(ssh_root, authorized)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def sshd(sshd_factory) -> Sshd:
    return sshd_factory.start("127.0.0.1")


@pytest.fixture
def known_hosts(tmp_path, sshd) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


@pytest.fixture
def options(tmp_path, client_key, known_hosts) -> ProbeOptions:
    """Root login with the test key, host keys from a fresh known_hosts, no agent, no ~/.ssh keys."""
    return ProbeOptions(
        user="root",
        identity=client_key,
        known_hosts=known_hosts,
        use_agent=False,
        out=tmp_path / "out",
        connect_timeout=5,
        agent_properties_path=str(tmp_path / "agent.properties"),
        agent_log_path=str(tmp_path / "agent.log"),
    )


@pytest.fixture(scope="session")
def probe_user(ssh_root):
    """A non-root login; `usermod -p '*'` unlocks it for key logins (useradd leaves '!')."""
    name = f"csdiagp{os.getpid() % 100000}"
    home = ssh_root / "home"
    created = subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/bin/sh", name], capture_output=True, text=True, timeout=20)
    if created.returncode != 0:
        pytest.skip(f"cannot create a test user: {created.stderr.strip()}")
    try:
        subprocess.run(["usermod", "-p", "*", name], check=True, timeout=20)
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True, timeout=20)


@pytest.fixture
def dmesg_restricted():
    """kernel.dmesg_restrict=1 for the test; set (and restored) only when it was not already 1."""
    knob = Path("/proc/sys/kernel/dmesg_restrict")
    try:
        before = knob.read_text().strip()
    except OSError as exc:
        pytest.skip(f"cannot read {knob}: {exc}")
    if before != "1":
        try:
            knob.write_text("1")
        except OSError as exc:
            pytest.skip(f"cannot set kernel.dmesg_restrict=1 here: {exc}")
    yield
    if before != "1":
        knob.write_text(before)


@pytest.fixture
def make_key():
    """Generate an ed25519 key pair: make_key(path) -> private key path (public at path.pub)."""
    return keygen


@pytest.fixture
def loopback_port():
    """loopback_port() -> a free (hence closed) port on 127.0.0.1."""
    return free_port
