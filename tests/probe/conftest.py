"""Real OpenSSH servers on loopback for the probe tests (no mocks): see reference/test-infrastructure.md.

Each server is `/usr/sbin/sshd -f CONFIG -D -e` on a free 127.0.0.x port with a fresh ed25519 host key;
the client key is authorised for root and for a throwaway non-root user created with useradd.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from sshd_server import SSHD, Sshd, SshdFactory, keygen, prepare_privsep_dir

from diagnostics.probe import ProbeOptions
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


@pytest.fixture(scope="session")
def ssh_root():
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server)")
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed (apt-get install openssh-client)")
    if os.geteuid() != 0:
        pytest.skip("the test sshd needs root (privilege separation directory /run/sshd)")
    prepare_privsep_dir()
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
def closed_port():
    """A 127.0.0.1 port held bound but not listening for the whole test: connecting is refused, and no
    other process can start listening there meanwhile (a released 'free' port could be taken)."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    yield holder.getsockname()[1]
    holder.close()


@pytest.fixture
def passwordless_sudo(probe_user):
    """Let the test user run anything as root with `sudo -n`, through a sudoers drop-in removed afterwards."""
    if shutil.which("sudo") is None or shutil.which("visudo") is None:
        pytest.skip("sudo is not installed (apt-get install sudo)")
    drop_in = Path(f"/etc/sudoers.d/csdiag-probe-test-{os.getpid()}")
    drop_in.write_text(f"{probe_user.pw_name} ALL=(root) NOPASSWD: ALL\n")
    drop_in.chmod(0o440)
    try:
        checked = subprocess.run(["visudo", "-cf", str(drop_in)], capture_output=True, text=True, timeout=20)
        if checked.returncode != 0:
            pytest.skip(f"sudoers drop-in rejected: {checked.stdout.strip()} {checked.stderr.strip()}")
        yield probe_user
    finally:
        drop_in.unlink(missing_ok=True)
