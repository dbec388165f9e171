"""`bundle create`: complete, honest about gaps, free of secrets, atomic, and leaving inputs untouched."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bundle_inputs import MGMT_LOG, SECRETS

from diagnostics.analysis import reports_for
from diagnostics.bundle import BundleError, BundleOptions, create_bundle
from diagnostics.bundle.redact import MARK

CREATED = datetime(2025, 3, 10, 18, 0, tzinfo=timezone.utc)


def _members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tf:
        return {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _tree_digest(root: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _create(tmp_path: Path, paths: list[Path], **kw) -> tuple[Path, dict]:
    out = tmp_path / "out" / "case-123.tar.gz"
    out.parent.mkdir(exist_ok=True)
    result = create_bundle(BundleOptions(out=out, paths=[str(p) for p in paths], now=CREATED, reports=False, **kw))
    return out, result.manifest


def test_no_planted_secret_survives_in_any_member(tmp_path: Path, incident: Path, probe_run: Path) -> None:
    import zipfile

    attachment = tmp_path / "ticket-attachment.zip"  # what customers attach: a zip of the config folder and logs
    with zipfile.ZipFile(attachment, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(incident.rglob("*")):
            if path.is_file():
                zf.write(path, f"attachment/{path.relative_to(incident)}")
    out, manifest = _create(tmp_path, [incident, probe_run, attachment])
    members = _members(out)
    assert "files/ticket-attachment/management/apilog.log" in members
    survivors = {name: [s for s in SECRETS if s.encode() in data] for name, data in members.items()}
    assert {name: found for name, found in survivors.items() if found} == {}
    assert MARK.encode() in members["files/incident/management/management-server.log"]
    assert json.loads(members["manifest.json"]) == manifest


def test_manifest_lists_every_file_with_checksum_origin_and_flags(tmp_path: Path, incident: Path) -> None:
    out, manifest = _create(tmp_path, [incident])
    members = _members(out)
    assert manifest["format"] == "csdiag-bundle" and manifest["tool"]["name"] == "csdiag"
    assert manifest["created"] == "2025-03-10T18:00:00Z"
    names = {f["name"] for f in manifest["files"]}
    assert names == set(members) - {"manifest.json"}
    for entry in manifest["files"]:
        data = members[entry["name"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
        assert Path(entry["origin"]).is_file()
    by_name = {f["name"]: f for f in manifest["files"]}
    log = by_name["files/incident/management/management-server.log"]
    assert log["role"] == "management-log" and log["truncated"] is False and log["redactions"] == 8  # 3 in the API query, 5 in the StartCommand JSON
    rotated = by_name["files/incident/management/management-server.log.2025-03-09"]  # stored decompressed
    assert rotated["origin"].endswith(".gz") and members[rotated["name"]].startswith(b"2025-03-09 15:10:02,510")
    pcap = by_name["files/incident/host/heartbeat.pcap"]
    assert pcap["redacted"] is False and "binary" in pcap["note"]
    assert members[pcap["name"]] == (incident / "host" / "heartbeat.pcap").read_bytes()
    assert manifest["failures"] == []


def test_line_numbers_still_point_at_the_same_records(tmp_path: Path, incident: Path) -> None:
    out, _ = _create(tmp_path, [incident])
    bundled = _members(out)["files/incident/management/management-server.log"].decode().splitlines()
    original = MGMT_LOG.splitlines()
    assert len(bundled) == len(original)
    for before, after in zip(original, bundled):
        assert before[:40] == after[:40]


def test_since_keeps_the_window_and_marks_files_truncated(tmp_path: Path, incident: Path) -> None:
    _, manifest = _create(tmp_path, [incident], since=datetime(2025, 3, 10, 16, 0), since_text="2025-03-10T16:00")
    by_name = {f["name"]: f for f in manifest["files"]}
    log = by_name["files/incident/management/management-server.log"]
    assert log["truncated"] and log["truncation"] == ["since"] and log["lines_dropped"] == 8
    assert "files/incident/management/management-server.log.2025-03-09" not in by_name
    assert "files/incident/management/apilog.log" not in by_name  # its only record is at 15:11
    assert {e["origin"].rsplit("/", 1)[1]: e["reason"] for e in manifest["excluded"]} == {
        "management-server.log.2025-03-09.gz": "rotated before the --since window",
        "apilog.log": "no records inside the --since window",
    }
    assert not by_name["files/incident/etc/db.properties"]["truncated"]  # not a log: no window
    assert manifest["options"]["window_start"] == "2025-03-10T16:00:00"


def test_size_cap_keeps_the_tail_and_says_so(tmp_path: Path, incident: Path) -> None:
    out, manifest = _create(tmp_path, [incident / "management" / "management-server.log"], max_file_bytes=1024)
    entry = manifest["files"][0]
    data = _members(out)[entry["name"]]
    assert entry["truncated"] and entry["truncation"] == ["size-cap"]
    assert len(data) <= 1024 and data.startswith(b"2025-03-10 ")
    assert entry["source_size"] == len(MGMT_LOG.encode())


def test_non_utf8_bytes_and_line_count_survive(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    raw = b"2025-03-10 16:20:31,455 WARN  [cloud.agent.Agent] (x:[]) (logid:) VM caf\xe9 password=sec\xffret\nnext \xfe\xfd\n"
    log.write_bytes(raw)
    out, manifest = _create(tmp_path, [log])
    data = _members(out)["files/agent.log"]
    assert data == b"2025-03-10 16:20:31,455 WARN  [cloud.agent.Agent] (x:[]) (logid:) VM caf\xe9 password=***REDACTED***\nnext \xfe\xfd\n"


def test_missing_and_unreadable_inputs_are_listed_and_the_rest_is_bundled(tmp_path: Path, incident: Path) -> None:
    broken = tmp_path / "management-server.log.2025-03-01.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)  # gzip header, then garbage
    _, manifest = _create(tmp_path, [incident, tmp_path / "nope.log", broken])
    errors = {f["origin"]: f["error"] for f in manifest["failures"]}
    assert errors[str(tmp_path / "nope.log")] == "no such file or folder"
    assert errors[str(broken)].startswith(f"{broken}: cannot read")
    assert len(manifest["files"]) == 11  # every file of the incident folder
    assert sorted(os.listdir(tmp_path / "out")) == ["case-123.tar.gz", "case-123.tar.gz.sha256"]  # nothing else written


def test_probe_folders_are_included_as_they_are_with_their_command_results(tmp_path: Path, probe_run: Path) -> None:
    out, manifest = _create(tmp_path, [probe_run])
    members = _members(out)
    assert "probes/csdiag-probe-20250310T170600Z/kvm01/manifest.json" in members
    assert "probes/csdiag-probe-20250310T170600Z/kvm01/free.txt" in members
    assert manifest["hosts"] == ["kvm01.example.net"]
    (probe,) = manifest["probes"]
    assert probe["host"] == "kvm01.example.net" and probe["status"] == "partial"
    assert [(c["name"], c["rc"], c["duration_s"]) for c in probe["commands"]] == [("free", 0, 0.012), ("sensors", 1, 0.02), ("virsh-dumpxml", 0, 0.3)]
    assert b"PLANTEDgraphicspw" not in members["probes/csdiag-probe-20250310T170600Z/kvm01/virsh-dumpxml.txt"]


def test_pseudonymisation_hides_ips_hosts_accounts_and_keeps_the_map_outside(tmp_path: Path, incident: Path, probe_run: Path) -> None:
    out = tmp_path / "out" / "case.tar.gz"
    out.parent.mkdir()
    gone = tmp_path / "kvm01.example.net-agent.log"  # a missing input whose name gives a host away
    result = create_bundle(BundleOptions(out=out, paths=[str(incident), str(probe_run), str(gone)], pseudonymize=True, now=CREATED, reports=False))
    members = _members(out)
    assert b"kvm01" not in members["manifest.json"] and b"10.20." not in members["manifest.json"]
    assert result.manifest["failures"] == [{"origin": str(tmp_path / "host-001-agent.log"), "error": "no such file or folder"}]
    blob = b"\n".join(members.values()) + b"\n".join(n.encode() for n in members)
    for real in (b"10.20.0.5", b"10.20.0.15", b"10.20.1.14", b"kvm01", b"acme-corp", b"example.net"):
        assert real not in blob, real
    mapping = json.loads(result.map_path.read_text())  # type: ignore[union-attr]
    assert result.map_path == out.with_name("case.tar.gz.private-map.json")
    assert oct(result.map_path.stat().st_mode & 0o777) == "0o600"  # type: ignore[union-attr]
    assert mapping["hostnames"]["kvm01.example.net"] == "host-001"
    assert mapping["accounts"] == {"acme-corp": "account-001"}
    fake_ms = mapping["ipv4_networks_24"]["10.20.0.0/24"].replace(".0/24", ".5").encode()
    assert f"Lost connection to host: {fake_ms.decode()}.".encode() in members["files/incident/agent/agent.log"]
    assert result.manifest["hosts"] == ["host-001"]
    assert not any("map" in name for name in members)


def test_redaction_can_be_turned_off_explicitly(tmp_path: Path, incident: Path) -> None:
    out, manifest = _create(tmp_path, [incident / "etc" / "db.properties"], redact=False)
    assert b"PLANTEDdbcloudpw" in _members(out)["files/db.properties"]
    assert manifest["options"]["redaction"] is False


def test_inputs_are_not_modified(tmp_path: Path, incident: Path, probe_run: Path) -> None:
    before = _tree_digest(incident) | _tree_digest(probe_run)
    _create(tmp_path, [incident, probe_run], since=datetime(2025, 3, 10, 16, 0), max_file_bytes=512, pseudonymize=True)
    assert _tree_digest(incident) | _tree_digest(probe_run) == before


def test_an_interrupted_run_leaves_no_bundle_and_no_temporary_files(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "out" / "case.tar.gz"
    out.parent.mkdir()
    before = _tree_digest(incident)
    calls = []

    def interrupt(message: str) -> None:
        calls.append(message)
        if message.endswith("writing archive"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_bundle(BundleOptions(out=out, paths=[str(incident)], reports=False), progress=interrupt)
    assert calls[-1].endswith("writing archive")
    assert list(out.parent.iterdir()) == []
    assert _tree_digest(incident) == before


def test_an_existing_bundle_is_replaced_only_when_the_new_one_is_complete(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.gz"
    out.write_bytes(b"previous bundle")

    def interrupt(message: str) -> None:
        if message.startswith("learning"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_bundle(BundleOptions(out=out, paths=[str(incident)], pseudonymize=True, reports=False), progress=interrupt)
    assert out.read_bytes() == b"previous bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.tar.gz", "incident"]


def test_ctrl_c_while_the_archive_is_being_written_leaves_nothing_behind(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    src = tmp_path / "evidence"
    src.mkdir()
    (src / "big.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + os.urandom(96 << 20))  # slow to compress: time to interrupt
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnostics", "bundle", "create", "--no-reports", "--max-size", "0", "--out", str(out / "case.tar.gz"), str(src)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        for line in proc.stderr:  # type: ignore[union-attr]
            if "writing archive" in line:
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_output_inside_an_input_folder_is_not_collected_into_itself(tmp_path: Path, incident: Path) -> None:
    out = incident / "case.tar.gz"
    create_bundle(BundleOptions(out=out, paths=[str(incident)], reports=False))
    second = create_bundle(BundleOptions(out=out, paths=[str(incident)], reports=False))
    names = [f["name"] for f in second.manifest["files"]]
    assert not any("case.tar.gz" in n or ".csdiag-bundle-" in n for n in names)


@pytest.mark.parametrize(
    ("name", "message"),
    [("case.zip", "must end with .tar.gz"), ("missing-dir/case.tar.gz", "does not exist")],
)
def test_bad_output_names_are_refused_with_one_line(tmp_path: Path, incident: Path, name: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        create_bundle(BundleOptions(out=tmp_path / name, paths=[str(incident)], reports=False))
    assert not any(p.name.startswith(".csdiag-bundle-") for p in tmp_path.iterdir())


def test_xz_bundles_are_written_too(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.xz"
    create_bundle(BundleOptions(out=out, paths=[str(incident / "agent")], reports=False))
    with tarfile.open(out) as tf:
        assert any(n.endswith("/agent.log") for n in tf.getnames())


def test_the_checksum_file_beside_the_bundle_matches(tmp_path: Path, incident: Path) -> None:
    out, _ = _create(tmp_path, [incident / "agent"])
    digest, name = (out.parent / "case-123.tar.gz.sha256").read_text().split()
    assert name == "case-123.tar.gz" and digest == hashlib.sha256(out.read_bytes()).hexdigest()


def test_reports_are_bundled_when_the_analysis_is_given(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.gz"
    result = create_bundle(BundleOptions(out=out, paths=[str(incident)], now=CREATED, analyse=reports_for))
    members = _members(out)
    assert result.manifest["reports"]["produced"] is True
    assert {"reports/analysis.json", "reports/analysis.md"} <= set(members)
    report = members["reports/analysis.md"].decode()
    assert str(tmp_path) not in report  # paths point into the bundle, not at the staging folder
    assert not [s for s in SECRETS if s in report]
    json.loads(members["reports/analysis.json"])


def test_no_analysis_given_is_said_in_the_manifest_not_hidden(tmp_path: Path, incident: Path) -> None:
    out = tmp_path / "case.tar.gz"
    result = create_bundle(BundleOptions(out=out, paths=[str(incident / "agent")], now=CREATED))
    assert result.manifest["reports"]["produced"] is False
    assert "no analysis was given" in result.manifest["reports"]["reason"]
    assert not any(n.startswith("reports/") for n in _members(out))


def test_a_failing_analysis_is_named_in_the_manifest_and_the_bundle_is_still_written(tmp_path: Path, incident: Path) -> None:
    def broken(paths: list[str]) -> dict[str, str]:
        raise RuntimeError("rules folder vanished")

    out = tmp_path / "case.tar.gz"
    result = create_bundle(BundleOptions(out=out, paths=[str(incident / "agent")], now=CREATED, analyse=broken))
    assert result.manifest["reports"] == {"produced": False, "reason": "analysis failed: RuntimeError: rules folder vanished"}
    assert out.exists()


def test_missing_analysis_is_recorded_in_the_manifest(tmp_path: Path, incident: Path) -> None:
    _, manifest = _create(tmp_path, [incident / "agent"])
    assert manifest["reports"] == {"produced": False, "reason": "disabled with --no-reports"}


def test_bundle_is_private_to_its_creator(tmp_path: Path, incident: Path) -> None:
    out, _ = _create(tmp_path, [incident / "agent"])
    assert os.stat(out).st_mode & 0o077 == 0


def test_awkward_inputs_neither_hang_nor_crash(tmp_path: Path) -> None:
    src = tmp_path / "awkward"
    src.mkdir()
    (src / "empty.log").write_bytes(b"")
    (src / "core.bin").write_bytes(b"\x7fELF\x00\x00" + os.urandom(2048))
    head = b"2025-03-10 15:00:00,000 DEBUG [c.c.a.ApiServlet] (qtp-1:[]) (logid:) ===START=== command=login&password=hunter2 "
    (src / "one-line.log").write_bytes(head + b"x" * (20 << 20))  # 20 MiB, no newline
    os.mkfifo(src / "agent.pipe")  # reading it would block forever
    os.symlink("/etc/shadow", src / "shadow-link")
    out, manifest = _create(tmp_path, [src, src / "agent.pipe"], max_file_bytes=0)
    by_name = {f["name"]: f for f in manifest["files"]}
    assert by_name["files/awkward/empty.log"]["size"] == 0
    assert "files/awkward/core.bin" not in by_name  # a core file cannot be redacted: left out, and said so
    line = by_name["files/awkward/one-line.log"]
    assert line["redactions"] == 1 and line["size"] == len(head) - len(b"hunter2") + len(b"***REDACTED***") + (20 << 20)
    assert "files/awkward/agent.pipe" not in by_name and "files/awkward/shadow-link" not in by_name
    assert manifest["failures"] == [
        {"origin": str(src / "agent.pipe"), "error": "not a regular file or folder; left out"},
        {"origin": str(src / "core.bin"), "error": f"{src / 'core.bin'}: binary file cannot be redacted; left out (use --no-redact to include it)"},
    ]
    assert any("shadow-link: symbolic link, not followed" in n for n in manifest["notes"])


def test_an_archive_given_as_input_is_unpacked_safely_and_redacted_like_a_folder(tmp_path: Path, incident: Path) -> None:
    sos = tmp_path / "sosreport-kvm01-2025-03-10-abcdef"
    (sos / "etc/cloudstack/management").mkdir(parents=True)
    (sos / "etc/cloudstack/management/db.properties").write_text((incident / "etc/db.properties").read_text())
    (sos / "var/log/cloudstack/agent").mkdir(parents=True)
    (sos / "var/log/cloudstack/agent/agent.log").write_text((incident / "agent/agent.log").read_text())
    (sos / "sos_commands/networking").mkdir(parents=True)
    (sos / "sos_commands/networking/ip_addr").write_text("1: lo: <LOOPBACK,UP>\n")
    archive = tmp_path / "sosreport-kvm01-2025-03-10-abcdef.tar.xz"
    with tarfile.open(archive, "w:xz") as tf:
        tf.add(sos, arcname=sos.name)
        evil = tarfile.TarInfo("../escape.txt")
        evil.size = 1
        tf.addfile(evil, io.BytesIO(b"x"))
    out, manifest = _create(tmp_path, [archive])
    members = _members(out)
    db = "files/sosreport-kvm01-2025-03-10-abcdef/etc/cloudstack/management/db.properties"
    assert b"PLANTEDdbcloudpw" not in members[db] and b"db.cloud.password=***REDACTED***" in members[db]
    by_name = {f["name"]: f for f in manifest["files"]}
    assert by_name[db]["origin"] == f"{archive}:etc/cloudstack/management/db.properties"
    assert "files/sosreport-kvm01-2025-03-10-abcdef/var/log/cloudstack/agent/agent.log" in members
    assert not any("networking" in n for n in members)  # a sosreport contributes only what csdiag reads
    assert manifest["failures"] == [{"origin": str(archive), "error": f"{archive}: refused member '../escape.txt': path goes up with '..'"}]
    assert not (tmp_path / "escape.txt").exists()


def test_files_that_are_secrets_as_a_whole_are_left_out_while_redacting(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "cloudstack" / "management"
    etc.mkdir(parents=True)
    (etc / "key").write_text("PLANTEDdbencryptionkey\n")
    (etc / "cloud.jks").write_bytes(b"\xfe\xed\xfe\xed" + b"PLANTEDjks")
    (etc / "server.properties").write_text("https.keystore.password=PLANTEDhttps\nhttp.port=8080\n")
    out, manifest = _create(tmp_path, [tmp_path / "etc"])
    members = _members(out)
    assert sorted(members) == ["files/etc/cloudstack/management/server.properties", "manifest.json"]
    assert b"PLANTED" not in b"".join(members.values())
    assert sorted(f["error"].split(": ", 1)[1] for f in manifest["failures"]) == [
        "a secret as a whole (key file or key store); left out (use --no-redact to include it)"] * 2


def test_every_manifest_follows_the_published_schema(tmp_path: Path, incident: Path, probe_run: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from diagnostics.bundle.manifest import MANIFEST_SCHEMA

    for kw in ({}, {"since": datetime(2025, 3, 10, 16, 0), "since_text": "2025-03-10T16:00", "max_file_bytes": 700},
               {"pseudonymize": True}, {"redact": False}):
        _, manifest = _create(tmp_path, [incident, probe_run, tmp_path / "missing.log"], **kw)
        jsonschema.validate(manifest, MANIFEST_SCHEMA, format_checker=jsonschema.FormatChecker())
    bad = dict(manifest, files=[dict(manifest["files"][0], name="../escape")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, MANIFEST_SCHEMA)


def test_nothing_collected_means_no_bundle_and_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "case.tar.gz"
    with pytest.raises(BundleError, match="nothing could be collected; no bundle written") as info:
        create_bundle(BundleOptions(out=out, paths=[str(tmp_path / "gone.log"), str(tmp_path / "gone-dir")], reports=False))
    assert info.value.details == [f"{tmp_path / 'gone.log'}: no such file or folder", f"{tmp_path / 'gone-dir'}: no such file or folder"]
    assert list(tmp_path.iterdir()) == []
