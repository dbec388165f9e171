"""`probe` reaches hosts the way the operator's own `ssh` does: ~/.ssh/config Host entries, against real sshd instances
on loopback (a second one on 127.0.0.2 as the host behind a jump host)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import os
from pathlib import Path

import pytest

from diagnostics.probe import ProbeOptions, run_probe
from diagnostics.probe.collect import specs_for
from diagnostics.probe.run import resolve_targets
from diagnostics.probe.ssh_config import SshConfigError

pytestmark = pytest.mark.sshd


def only_date(options: ProbeOptions) -> ProbeOptions:
    return dataclasses.replace(options, commands=tuple(spec for spec in specs_for(options) if spec.name == "date"))


def with_config(options: ProbeOptions, path: Path, text: str, **flags) -> ProbeOptions:
    path.write_text(text)
    flags = {"user": None, "identity": None, **flags}
    return only_date(dataclasses.replace(options, ssh_config=path, **flags))


def test_an_alias_gets_hostname_port_user_and_identity_from_the_config(sshd, options, client_key, tmp_path):
    options = with_config(options, tmp_path / "config", (
        "Host kvm-*\n"
        "    HostName 127.0.0.1\n"
        f"    Port {sshd.port}\n"
        "    User root\n"
        "    IdentityFile /nonexistent/key\n"  # ssh skips a missing IdentityFile; so does csdiag
        f"    IdentityFile {client_key}\n"
        "Host *\n"
        "    User nobody-here\n"
    ))

    [result] = run_probe(["kvm-a"], options)

    assert result.status == "ok", result.error
    assert (result.host, result.address, result.port, result.user) == ("kvm-a", "127.0.0.1", sshd.port, "root")
    assert result.folder == options.out / "kvm-a"


def test_flags_and_the_host_argument_win_over_the_config(sshd, options, client_key, tmp_path, closed_port, make_key):
    stranger = make_key(tmp_path / "stranger")
    options = with_config(options, tmp_path / "config", (
        "Host kvm-b\n"
        "    HostName 127.0.0.1\n"
        f"    Port {closed_port}\n"
        "    User nobody-here\n"
        f"    IdentityFile {stranger}\n"
    ), user="root", identity=client_key)

    [refused_port] = run_probe(["kvm-b"], options)
    [result] = run_probe([f"kvm-b:{sshd.port}"], dataclasses.replace(options, out=options.out / "again"))

    assert refused_port.status == "unreachable" and refused_port.port == closed_port
    assert result.status == "ok", result.error
    assert (result.user, result.port) == ("root", sshd.port)


def test_proxyjump_from_the_config_reaches_a_host_only_through_the_jump_host(sshd, sshd_factory, options, client_key,
                                                                              tmp_path):
    inner = sshd_factory.start("127.0.0.2")
    no_forwarding = sshd_factory.start("127.0.0.1", extra=("AllowTcpForwarding no",))
    options.known_hosts.write_text(sshd.known_hosts_line() + inner.known_hosts_line() + no_forwarding.known_hosts_line())
    config = (
        "Host inner inner-via-closed\n"
        "    HostName 127.0.0.2\n"
        f"    Port {inner.port}\n"
        "Host inner\n"
        "    ProxyJump bastion\n"
        "Host inner-via-closed\n"
        "    ProxyJump closed-bastion\n"
        "Host bastion\n"
        "    HostName 127.0.0.1\n"
        f"    Port {sshd.port}\n"
        "Host closed-bastion\n"
        "    HostName 127.0.0.1\n"
        f"    Port {no_forwarding.port}\n"
        "Host *\n"
        "    User root\n"
        f"    IdentityFile {client_key}\n"
    )
    options = with_config(options, tmp_path / "config", config)

    [through, refused] = run_probe(["inner", "inner-via-closed"], options)

    assert through.status == "ok", through.error
    assert (through.address, through.port) == ("127.0.0.2", inner.port)
    assert "Accepted publickey for root" in inner.log()
    # the same host entry behind a jump host that refuses to forward cannot be reached: the path is the jump host
    assert refused.status == "unreachable" and "through jump host" in refused.error, refused.error


def test_a_broken_config_is_one_line_naming_the_file(options, tmp_path):
    path = tmp_path / "config"
    path.write_text("Host kvm\n    Port twenty-two\n")
    with pytest.raises(SshConfigError, match=r"ssh config entry for kvm: Port 'twenty-two' is not a number"):
        resolve_targets(["kvm"], dataclasses.replace(options, ssh_config=path))


def test_the_cli_reads_the_named_config_and_its_dry_run_shows_where_each_host_is_reached(tmp_path):
    config = tmp_path / "config"
    config.write_text("Host kvm-c\n    HostName 127.0.0.3\n    Port 2202\n    User admin\n    ProxyJump jump@127.0.0.4:2203\n")
    env = {key: value for key, value in os.environ.items() if key not in ("SSH_AUTH_SOCK", "CSDIAG_SSH_PASSWORD")}
    env.update(NO_COLOR="1", COLUMNS="300", HOME=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "diagnostics", "probe", "--dry-run", "--ssh-config", str(config),
                          "--out", str(tmp_path / "out"), "kvm-c", "root@kvm-c"],
                         capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    heads = [line for line in run.stdout.splitlines() if line.startswith("# ")]
    assert heads[0].startswith("# admin@127.0.0.3:2202 (kvm-c in the ssh config) via jump host jump@127.0.0.4:2203 ")
    assert heads[1].startswith("# root@127.0.0.3:2202 (kvm-c in the ssh config) via jump host")

    missing = subprocess.run([sys.executable, "-m", "diagnostics", "probe", "--ssh-config", str(tmp_path / "nope"),
                              "kvm-c"], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert missing.returncode == 3 and missing.stderr == f"csdiag: --ssh-config {tmp_path / 'nope'}: no such file\n"
