"""`probe` and `bundle create --probe` apply csdiag's probe defaults (config files, CSDIAG_PROBE_*) and the operator's
~/.ssh/config, against a real sshd on loopback: flags > env > user file > system file > built-in defaults, and a
Host entry of ~/.ssh/config wins over csdiag's own defaults for user, port and identity (as it would for ssh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.sshd


@pytest.fixture
def home(tmp_path) -> Path:
    """An empty home (no ~/.ssh keys, no ssh config, no csdiag config) so only what a test writes applies."""
    path = tmp_path / "home"
    (path / ".ssh").mkdir(parents=True)
    (path / ".config" / "csdiag").mkdir(parents=True)
    return path


def csdiag(*args: str, home: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("SSH_AUTH_SOCK", "CSDIAG_SSH_PASSWORD", "XDG_CONFIG_HOME")
                   and not key.startswith("CSDIAG_PROBE_")}
    environment.update(HOME=str(home), NO_COLOR="1", COLUMNS="200",
                       CSDIAG_SYSTEM_CONFIG=str(home / "etc-csdiag.toml"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True,
                          timeout=timeout, env=environment, stdin=subprocess.DEVNULL)


def write_user_config(home: Path, text: str) -> None:
    (home / ".config" / "csdiag" / "config.toml").write_text(text)


def write_system_config(home: Path, text: str) -> None:
    (home / "etc-csdiag.toml").write_text(text)


def host_manifest(out: Path) -> dict:
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    return json.loads((folder / "manifest.json").read_text())


def test_probe_defaults_from_the_user_file_reach_the_host_without_any_flag(sshd, client_key, known_hosts, home, tmp_path):
    args = ("probe", "--since", "5m", "--out", str(tmp_path / "out"), "127.0.0.1")

    without = csdiag(*args, home=home)  # port 22 is not our sshd, and there is no key: nothing reaches it
    assert without.returncode == 3 and "Traceback" not in without.stderr

    write_user_config(home, f'[probe]\nport = {sshd.port}\nidentity = "{client_key}"\nknown_hosts = "{known_hosts}"\n'
                            'user = "root"\n')
    run = csdiag(*args[:3], "--out", str(tmp_path / "out2"), "127.0.0.1", home=home)

    assert run.returncode in (0, 1), run.stderr
    manifest = host_manifest(tmp_path / "out2")
    assert (manifest["port"], manifest["user"], manifest["remote_uid"]) == (sshd.port, "root", 0)


def test_precedence_is_flags_then_environment_then_user_file_then_system_file(sshd, client_key, known_hosts, home,
                                                                             tmp_path, closed_port):
    write_system_config(home, f'[probe]\nport = {closed_port}\nidentity = "{client_key}"\nknown_hosts = "{known_hosts}"\n')

    def probe(*extra: str, env: dict | None = None) -> str:
        """The one host's status, or its one error line."""
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        run = csdiag("probe", "--since", "5m", "--out", str(out), *extra, "127.0.0.1", home=home, env=env)
        assert "Traceback" not in run.stderr
        if run.returncode == 3:
            [line] = run.stderr.splitlines()
            return line
        return f"port {host_manifest(out)['port']}"

    refused = f"csdiag: 127.0.0.1: unreachable: Connection refused (127.0.0.1:{closed_port})"
    assert probe() == refused  # the system file alone

    write_user_config(home, f"[probe]\nport = {sshd.port}\n")
    assert probe() == f"port {sshd.port}"  # the user file over the system file; the system file's identity still applies

    assert probe(env={"CSDIAG_PROBE_PORT": str(closed_port)}) == refused  # the environment over the user file

    assert probe("--port", str(sshd.port), env={"CSDIAG_PROBE_PORT": str(closed_port)}) == f"port {sshd.port}"  # flag


def test_an_ssh_config_entry_wins_over_csdiag_defaults_and_flags_win_over_both(sshd, client_key, known_hosts, home,
                                                                              tmp_path, closed_port):
    (home / ".ssh" / "config").write_text(f"Host kvm-a\n    HostName 127.0.0.1\n    Port {sshd.port}\n"
                                          f"    IdentityFile {client_key}\n")
    write_user_config(home, f'[probe]\nport = {closed_port}\nknown_hosts = "{known_hosts}"\n')

    run = csdiag("probe", "--since", "5m", "--out", str(tmp_path / "out"), "kvm-a", home=home)
    assert run.returncode in (0, 1), run.stderr
    manifest = host_manifest(tmp_path / "out")
    assert (manifest["host"], manifest["address"], manifest["port"]) == ("kvm-a", "127.0.0.1", sshd.port)

    flagged = csdiag("probe", "--dry-run", "--port", "2200", "--user", "admin", "kvm-a", home=home)
    assert flagged.returncode == 0 and flagged.stdout.startswith("# admin@127.0.0.1:2200 (kvm-a in the ssh config)")


def test_the_config_dry_run_shows_every_default_applied(home, tmp_path, client_key):
    hosts = tmp_path / "hosts"
    hosts.write_text("")
    write_user_config(home, f'[probe]\nuser = "admin"\nport = 2022\nknown_hosts = "{hosts}"\nsince = "2h"\n')

    run = csdiag("probe", "--dry-run", "kvm01", home=home)

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"# admin@kvm01:2022 (host key checked against {hosts})")
    assert "$(( $(date +%s) - 7200 ))" in run.stdout


def test_config_show_lists_probe_defaults_with_their_source(home):
    write_system_config(home, '[probe]\nuser = "site"\nsince = "1d"\n')
    write_user_config(home, '[probe]\nuser = "me"\n')

    run = csdiag("config", "show", home=home, env={"CSDIAG_PROBE_PORT": "2222"})

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert f"probe.user = me    # user file {home}/.config/csdiag/config.toml" in lines
    assert f"probe.since = 1d    # system file {home}/etc-csdiag.toml" in lines
    assert "probe.port = 2222    # env CSDIAG_PROBE_PORT" in lines


@pytest.mark.parametrize("setting, message", [
    ('identity = "/nonexistent/key"', "csdiag: probe.identity (user file "),
    ('since = "soon"', "csdiag: probe.since (user file "),
    ('ssh_config = "/nonexistent/ssh_config"', "csdiag: probe.ssh_config (user file "),
])
def test_a_configured_default_that_cannot_be_used_is_one_line_naming_it_and_exit_3(home, setting, message):
    write_user_config(home, f"[probe]\n{setting}\n")

    run = csdiag("probe", "--dry-run", "kvm01", home=home)

    assert run.returncode == 3 and "Traceback" not in run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(message)


def test_a_wrongly_typed_probe_default_is_a_warning_and_the_rest_applies(home):
    write_user_config(home, '[probe]\nport = "twenty-two"\nuser = "admin"\n')

    run = csdiag("probe", "--dry-run", "kvm01", home=home, env={"CSDIAG_PROBE_TIMEOUT": "-5"})

    assert run.returncode == 0
    assert "probe.port = 'twenty-two' is not a int, ignored" in run.stderr
    assert "CSDIAG_PROBE_TIMEOUT='-5' must be between 0 and 3600 seconds, ignored" in run.stderr
    assert run.stdout.startswith("# admin@kvm01:22 ")


def test_bundle_create_probe_reaches_a_host_through_the_operators_ssh_config(sshd, client_key, known_hosts, home, tmp_path):
    (home / ".ssh" / "config").write_text(f"Host kvm-b\n    HostName 127.0.0.1\n    Port {sshd.port}\n    User root\n"
                                          f"    IdentityFile {client_key}\n")
    write_user_config(home, f'[probe]\nknown_hosts = "{known_hosts}"\n')
    out = tmp_path / "case.tar.gz"

    run = csdiag("bundle", "create", "--no-reports", "--since", "10m", "--probe", "kvm-b", "-o", str(out), home=home,
                 timeout=120)

    assert "Traceback" not in run.stderr
    with tarfile.open(out) as archive:
        manifest = json.loads(next(archive.extractfile(m).read() for m in archive.getmembers()  # type: ignore[union-attr]
                                   if m.name.endswith("/manifest.json") and m.name.count("/") == 1))
    [entry] = manifest["probes"]
    assert entry["host"] == "kvm-b" and entry["status"] in ("ok", "partial"), entry
