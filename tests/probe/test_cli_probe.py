"""`csdiag probe` as a user runs it: a real process, real sshd, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.sshd


def csdiag(*args: str, env: dict | None = None, timeout: float = 45) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("SSH_AUTH_SOCK", "CSDIAG_SSH_PASSWORD")}
    environment.update(NO_COLOR="1", COLUMNS="200", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", "probe", *args],
        capture_output=True, text=True, timeout=timeout, env=environment, stdin=subprocess.DEVNULL,
    )


def connections(sshd) -> int:
    return sshd.log().count("Connection from")


def test_dry_run_prints_every_remote_line_and_connects_nowhere(sshd, tmp_path):
    before = connections(sshd)

    run = csdiag("--dry-run", "--capture-seconds", "5", "--since", "2h", "--out", str(tmp_path / "out"), sshd.target, "admin@127.0.0.1:2")

    assert run.returncode == 0, run.stderr
    assert connections(sshd) == before and not (tmp_path / "out").exists()
    lines = run.stdout.splitlines()
    assert f"# root@127.0.0.1:{sshd.port} (host key checked against" in lines[0]
    assert any(line.startswith("# admin@127.0.0.1:2 ") for line in lines)
    assert "free_b: timeout -s TERM -k 5 20 env LC_ALL=C CSDIAG_RUN=RUN_ID sh -c 'free -b' csdiag > free-b.txt" in lines
    assert any("$(( $(date +%s) - 7200 ))" in line for line in lines)  # --since 2h reaches the agent.log filter
    assert any("tcpdump -i any -s 128" in line and "timeout -s INT -k 5 5 " in line for line in lines)
    assert any(line.startswith("capture_8250: sftp get TMP/capture-8250.pcap -> capture-8250.pcap") for line in lines)


def test_one_unreachable_host_gives_one_stderr_line_exit_3_and_the_other_host_is_collected(sshd, client_key, known_hosts, tmp_path, closed_port):
    dead = f"127.0.0.1:{closed_port}"
    out = tmp_path / "out"

    run = csdiag("--identity", str(client_key), "--known-hosts", str(known_hosts), "--out", str(out), dead, sshd.target)

    assert run.returncode == 3
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stderr.splitlines() == [f"csdiag: {dead}: unreachable: Connection refused"]
    assert f"127.0.0.1:{sshd.port}: " in run.stdout and f"wrote {out}/ (2 hosts:" in run.stdout
    top = json.loads((out / "manifest.json").read_text())
    assert [host["status"] for host in top["hosts"]][0] == "unreachable"
    assert top["hosts"][1]["status"] in ("ok", "partial")


def test_exit_code_is_1_exactly_when_some_command_failed(sshd, client_key, known_hosts, tmp_path):
    out = tmp_path / "out"

    run = csdiag("--identity", str(client_key), "--known-hosts", str(known_hosts), "--out", str(out), sshd.target)

    manifest = json.loads((out / f"127.0.0.1_{sshd.port}" / "manifest.json").read_text())
    failed = [command["name"] for command in manifest["commands"] if command["status"] not in ("ok", "truncated")]
    assert run.returncode == (1 if failed else 0), run.stderr
    assert (out / f"127.0.0.1_{sshd.port}" / "free-b.txt").read_text().splitlines()[0].split()[0] == "total"


def test_something_that_is_not_an_ssh_server_is_one_line_without_traceback(tmp_path, client_key, known_hosts):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def talk_nonsense() -> None:
        peer, _ = server.accept()
        with peer:
            peer.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=talk_nonsense, daemon=True).start()
    try:
        run = csdiag("--identity", str(client_key), "--known-hosts", str(known_hosts), "--out", str(tmp_path / "out"), f"127.0.0.1:{port}")
    finally:
        server.close()

    assert run.returncode == 3
    assert "Traceback" not in run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"csdiag: 127.0.0.1:{port}: unreachable: ")


def test_a_password_comes_from_the_environment_never_from_argv(sshd, probe_user, known_hosts, tmp_path):
    password = "correct horse battery staple"
    subprocess.run(["chpasswd"], input=f"{probe_user.pw_name}:{password}\n", text=True, check=True, timeout=20)
    home = tmp_path / "home"
    home.mkdir()  # no ~/.ssh keys to fall back on
    target = f"{probe_user.pw_name}@{sshd.target}"
    args = ("--known-hosts", str(known_hosts), "--out", str(tmp_path / "out"), "--since", "5m", target)

    without = csdiag(*args, env={"HOME": str(home)})
    assert without.returncode == 3 and "authentication failed" in without.stderr and "Traceback" not in without.stderr

    run = csdiag(*args, env={"HOME": str(home), "CSDIAG_SSH_PASSWORD": password})
    assert run.returncode in (0, 1), run.stderr
    manifest = json.loads((tmp_path / "out" / f"127.0.0.1_{sshd.port}" / "manifest.json").read_text())
    assert manifest["user"] == probe_user.pw_name and manifest["remote_uid"] == probe_user.pw_uid
    assert password not in json.dumps(manifest) and password not in (tmp_path / "out" / "manifest.json").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "soon", "h1"], "csdiag: --since: cannot read duration 'soon'"),
        (["--dry-run", "bad host name"], "csdiag: cannot read host 'bad host name'"),
        (["--identity", "/nonexistent/key", "h1"], "csdiag: --identity /nonexistent/key: cannot read the key file"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_3(args, message):
    run = csdiag(*args)
    assert run.returncode == 3
    assert run.stderr.splitlines()[0].startswith(message)


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path, sshd, client_key, known_hosts):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    run = csdiag("--identity", str(client_key), "--known-hosts", str(known_hosts), "--out", str(blocker / "out"), sshd.target)

    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [f"csdiag: --out {blocker / 'out'}: Not a directory"]
