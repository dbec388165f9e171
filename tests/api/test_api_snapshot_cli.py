"""`csdiag api-snapshot` end to end against the loopback management server: folder, manifest, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cloudstack_fake import API_KEY, JOB_UUID, LARGE_UUID, MEDIUM_UUID, SECRET_KEY, VM_UUID, Fault, \
    FakeManagementServer, write_cmk_config
from diagnostics.api import facts_from_snapshot, is_snapshot_folder
from diagnostics.cli import main

READ_ONLY = {"listVirtualMachines", "listServiceOfferings", "listHosts", "listCapacity", "listConfigurations",
             "listResourceLimits", "listAccounts", "listAsyncJobs", "queryAsyncJobResult"}


PLAIN_HTTP = "plain http: the apiKey and a signature valid for 10 minutes travel unencrypted"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; the plain-http warning (checked on its own below) is taken out of stderr."""
    with pytest.raises(SystemExit) as done:
        main(["api-snapshot", *argv])
    out, err = capsys.readouterr()
    lines = err.splitlines(keepends=True)
    assert sum(PLAIN_HTTP in line for line in lines) <= 1
    return int(done.value.code or 0), out, "".join(line for line in lines if PLAIN_HTTP not in line)


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


def test_full_snapshot_from_a_cmk_profile(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    code, stdout, stderr = run(["--vm", "web01", "--offering", "Large", "--job", JOB_UUID, "--out", str(out)], capsys)
    assert (code, stderr) == (0, "")
    assert f"snapshot written to {out}" in stdout
    assert is_snapshot_folder(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["endpoint"] == cloudstack.url
    assert manifest["vm_uuid"] == VM_UUID
    assert (manifest["current_offering_id"], manifest["requested_offering_id"]) == (MEDIUM_UUID, LARGE_UUID)
    assert {c["command"] for c in manifest["calls"]} == READ_ONLY
    assert {r["command"] for r in cloudstack.state.requests} <= READ_ONLY
    text = all_text(out)
    assert API_KEY not in text and SECRET_KEY not in text and "signature" not in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".snap")]  # no temp folder left


def test_snapshot_facts_join_on_vm_and_host(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    assert run(["--vm", VM_UUID, "--offering", LARGE_UUID, "--out", str(out)], capsys)[0] == 0
    facts, warnings = facts_from_snapshot(out)
    assert warnings == []
    by_kind: dict[str, list] = {}
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(fact)
    (vm,) = by_kind["api_vm"]
    assert (vm.vm, vm.vm_uuid, vm.host_name, vm.memory) == ("i-2-42-VM", VM_UUID, "kvm01", 4096 * 1024**2)
    kvm01 = next(h for h in by_kind["api_host"] if h.host_name == "kvm01")
    assert kvm01.memory_allocated == 128849018880 and kvm01.cpu_allocated == 0.625
    assert kvm01.path == str(out / "listHosts.json") and kvm01.line == 2
    assert '"name": "kvm01"' in (out / "listHosts.json").read_text().splitlines()[kvm01.line - 1]
    kvm02 = next(h for h in by_kind["api_host"] if h.host_name == "kvm02")
    assert (kvm01.running_vms, kvm01.running_vm_memory, kvm01.running_vm_names) == (1, 4 * 1024**3, ("i-2-42-VM",))
    assert (kvm02.running_vms, kvm02.running_vm_names) == (1, ("i-3-77-VM",))
    placement = (out / "listVirtualMachines.placement.json").read_text()
    assert "i-3-77-VM" in placement and "payroll-db" not in placement and "bob" not in placement
    roles = {o.name: o.role for o in by_kind["api_offering"]}
    assert roles == {"Small": "", "Medium": "current", "Large": "requested"}
    zone_flag = [s for s in by_kind["api_setting"] if s.name == "enable.dynamic.scale.vm" and s.scope == "zone"]
    assert zone_flag[0].flag is True
    (job,) = by_kind["api_job"]  # only the VM's job was kept
    assert (job.vm, job.status, job.result_code) == ("i-2-42-VM", "failed", 530)
    (request,) = by_kind["api_scale_request"]
    assert (request.memory_delta, request.hosts_matching_tags, request.is_downgrade) == (4 * 1024**3, 1, False)


def test_wrong_credentials_exit_3_with_one_line_and_write_nothing(cloudstack: FakeManagementServer, api_env: Path,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url, secret_key="not-the-secret")
    out = tmp_path / "snap"
    code, stdout, stderr = run(["--vm", "web01", "--out", str(out)], capsys)
    assert code == 3
    assert stderr.count("\n") == 1 and "credentials rejected" in stderr and "nothing written" in stderr
    assert "Traceback" not in stderr and "not-the-secret" not in stderr
    assert list(tmp_path.iterdir()) == [api_env]  # neither the folder nor a temp folder


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_url_exits_3(api_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOUDSTACK_KEY", API_KEY)
    monkeypatch.setenv("CLOUDSTACK_SECRET", SECRET_KEY)
    url = f"http://127.0.0.1:{closed_port()}/client/api"
    code, _, stderr = run(["--url", url, "--out", str(tmp_path / "snap")], capsys)
    assert code == 3 and stderr == f"csdiag: {url}: connection refused; nothing written\n"
    assert not (tmp_path / "snap").exists()


def test_self_signed_certificate_refused_unless_trusted(tls_cloudstack: FakeManagementServer, api_env: Path,
                                                        tmp_path: Path, self_signed: tuple[Path, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, tls_cloudstack.url)
    code, _, stderr = run(["--out", str(tmp_path / "refused")], capsys)
    assert code == 3 and "TLS certificate not trusted (self-signed certificate)" in stderr
    assert not (tmp_path / "refused").exists()
    code, _, stderr = run(["--ca-file", str(self_signed[0]), "--out", str(tmp_path / "trusted")], capsys)
    assert (code, stderr) == (0, "") and is_snapshot_folder(tmp_path / "trusted")
    code, _, _ = run(["--insecure", "--out", str(tmp_path / "insecure")], capsys)
    assert code == 0


def test_failed_calls_are_recorded_and_the_snapshot_is_marked_incomplete(cloudstack: FakeManagementServer,
                                                                         api_env: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    cloudstack.state.faults["listCapacity"] = Fault("api_error", 530, "Internal error executing command, "
                                                    "please contact your system administrator")
    cloudstack.state.faults["listHosts"] = Fault("bad_json")
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    code, stdout, stderr = run(["--vm", "web01", "--out", str(out)], capsys)
    assert code == 3 and "(incomplete)" in stdout
    first, second = stderr.splitlines()
    assert first.startswith("csdiag: listHosts: truncated JSON in the answer (HTTP 200, ")
    assert second == ("csdiag: listCapacity: 530 internal error: Internal error executing command, please contact "
                      "your system administrator")
    manifest = json.loads((out / "manifest.json").read_text())
    failed = {c["name"]: c for c in manifest["calls"] if c["status"] == "error"}
    assert set(failed) == {"listHosts", "listCapacity"} and failed["listCapacity"]["error_code"] == 530
    assert not (out / "listHosts.json").exists() and not (out / "listCapacity.json").exists()
    facts, warnings = facts_from_snapshot(out)
    assert warnings == [f"{out}: API snapshot is incomplete (failed calls: listHosts, listCapacity)"]
    assert not [f for f in facts if f.kind == "api_host"] and [f for f in facts if f.kind == "api_vm"]


def test_a_stalled_call_times_out_and_the_rest_is_kept(cloudstack: FakeManagementServer, api_env: Path,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cloudstack.state.faults["listAsyncJobs"] = Fault("stall")
    write_cmk_config(api_env, cloudstack.url)
    code, _, stderr = run(["--vm", "web01", "--timeout", "1", "--out", str(tmp_path / "snap")], capsys)
    assert code == 3 and stderr == f"csdiag: listAsyncJobs: no complete answer from {cloudstack.url} within 1s\n"
    assert (tmp_path / "snap" / "listHosts.json").exists()


def test_unknown_vm_exits_3_and_writes_nothing(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url)
    code, _, stderr = run(["--vm", "web", "--out", str(tmp_path / "snap")], capsys)  # substring of two VMs only
    assert code == 3 and "no VM named or with id 'web' is visible" in stderr
    assert not (tmp_path / "snap").exists()


def test_existing_output_folder_is_never_overwritten(cloudstack: FakeManagementServer, api_env: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, stderr = run(["--out", str(out)], capsys)
    assert code == 3 and "already exists" in stderr and (out / "keep.txt").read_text() == "mine"


def test_no_credentials_anywhere_is_one_line_from_the_installed_command(api_env: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSTACK_")}
    done = subprocess.run([sys.executable, "-m", "diagnostics", "api-snapshot", "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"csdiag: no credentials: {api_env}/.cmk/config does not exist and CLOUDSTACK_KEY/CLOUDSTACK_SECRET "
        "are not set (configure cmk or export them)"]


def test_a_plain_http_endpoint_is_warned_about_and_https_is_not(cloudstack: FakeManagementServer,
                                                                tls_cloudstack: FakeManagementServer, api_env: Path,
                                                                tmp_path: Path, self_signed: tuple[Path, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    write_cmk_config(api_env, cloudstack.url)
    with pytest.raises(SystemExit):
        main(["api-snapshot", "--out", str(tmp_path / "plain")])
    _, err = capsys.readouterr()
    assert err == f"csdiag: {cloudstack.url}: {PLAIN_HTTP} and the answers can be altered on the way; use https\n"
    write_cmk_config(api_env, tls_cloudstack.url)
    with pytest.raises(SystemExit):
        main(["api-snapshot", "--ca-file", str(self_signed[0]), "--out", str(tmp_path / "tls")])
    assert capsys.readouterr().err == ""


def drip_server(interval_s: float) -> tuple[socket.socket, "threading.Event"]:
    """A loopback server that answers every connection with a status line, then one header line every interval_s,
    forever: each read returns quickly, so only a deadline on the whole request can end it."""
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(peer: socket.socket) -> None:
        with peer:
            peer.recv(65536)
            peer.sendall(b"HTTP/1.1 200 OK\r\n")
            n = 0
            while not stop.wait(interval_s):
                n += 1
                try:
                    peer.sendall(f"X-Drip-{n}: {n}\r\n".encode())
                except OSError:
                    return

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                peer, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=drip, args=(peer,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server, stop


def test_a_server_dripping_header_lines_cannot_keep_a_5s_run_going(api_env: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import time

    server, stop = drip_server(1.5)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/client/api"
    monkeypatch.setenv("CLOUDSTACK_KEY", API_KEY)
    monkeypatch.setenv("CLOUDSTACK_SECRET", SECRET_KEY)
    try:
        started = time.monotonic()
        code, _, stderr = run(["--url", url, "--timeout", "5", "--vm", "web01", "--out", str(tmp_path / "s")], capsys)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.close()
    assert code == 3 and 4.9 <= elapsed < 7.5
    assert stderr == f"csdiag: listVirtualMachines: no complete answer from {url} within 5s; nothing written\n"


def test_cmk_timeout_setting_is_the_deadline_unless_timeout_is_given(api_env: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import time

    server, stop = drip_server(0.5)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/client/api"
    try:
        config = write_cmk_config(api_env, url)
        config.write_text(config.read_text().replace("timeout = 1800\n", "timeout = 2\n"))
        started = time.monotonic()
        code, _, stderr = run(["--out", str(tmp_path / "a")], capsys)
        assert code == 3 and 1.9 <= time.monotonic() - started < 4
        assert "within 2s" in stderr
        started = time.monotonic()
        code, _, stderr = run(["--timeout", "1", "--out", str(tmp_path / "b")], capsys)
        assert code == 3 and 0.9 <= time.monotonic() - started < 3 and "within 1s" in stderr
    finally:
        stop.set()
        server.close()


def test_a_server_error_echoing_the_signed_query_is_shown_redacted(cloudstack: FakeManagementServer,
                                                                   api_env: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cloudstack.state.faults["listCapacity"] = Fault("echo", 431, "Unable to execute API command \x1b[2J\x1b]0;pwn\x07"
                                                    "listcapacity due to invalid value. Request:")
    write_cmk_config(api_env, cloudstack.url)
    out = tmp_path / "snap"
    code, _, stderr = run(["--vm", "web01", "--out", str(out)], capsys)
    signed = next(path for path in cloudstack.state.raw_paths if "command=listCapacity" in path)
    signature = signed.split("signature=", 1)[1].split("&", 1)[0]
    assert code == 3 and "listCapacity: 431 bad parameter: Unable to execute API command" in stderr
    assert "apiKey=***REDACTED" in stderr and "signature=***REDACTED" in stderr
    for secret in (API_KEY, signature, SECRET_KEY):
        assert secret not in stderr and secret not in all_text(out)
    assert "\x1b" not in stderr and "\\x1b[2J" in stderr  # the server's escape sequences are shown, not obeyed
