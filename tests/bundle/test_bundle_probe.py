"""`bundle create --probe`: the real SSH probe against a real sshd on 127.0.0.1, folded into the bundle."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from bundle_inputs import AGENT_LOG, AGENT_PROPERTIES, SECRETS

from diagnostics.bundle import BundleOptions, create_bundle

probe = pytest.importorskip("diagnostics.probe")

pytestmark = pytest.mark.sshd


def _options(tmp_path: Path, sshd, known_hosts: Path | None = None):
    (tmp_path / "agent.log").write_text(AGENT_LOG)
    (tmp_path / "agent.properties").write_text(AGENT_PROPERTIES)
    return probe.ProbeOptions(
        user="root",
        identity=sshd.client_key,
        known_hosts=known_hosts or sshd.known_hosts,
        use_agent=False,
        connect_timeout=5,
        agent_properties_path=str(tmp_path / "agent.properties"),
        agent_log_path=str(tmp_path / "agent.log"),
    )


def test_a_live_probe_lands_in_the_bundle_with_every_command_result(tmp_path: Path, loopback_sshd) -> None:
    out = tmp_path / "case.tar.gz"
    target = f"127.0.0.1:{loopback_sshd.port}"
    result = create_bundle(BundleOptions(out=out, probe_hosts=[target], probe_options=_options(tmp_path, loopback_sshd), reports=False))
    (entry,) = result.manifest["probes"]
    assert entry["live"] is True and entry["host"] == target and entry["status"] in ("ok", "partial")
    names = [c["name"] for c in entry["commands"]]
    assert {"free_m", "dmesg", "meminfo"} <= set(names)
    free = next(c for c in entry["commands"] if c["name"] == "free_m")
    assert free["rc"] == 0 and free["duration_s"] > 0
    assert result.manifest["hosts"] == [target]
    with tarfile.open(out) as tf:
        members = {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]
    probe_files = [n for n in members if n.startswith("probes/probe-run/")]
    assert any(n.endswith("/manifest.json") for n in probe_files) and len(probe_files) >= 5
    assert not [s for s in SECRETS for data in members.values() if s.encode() in data]


def test_an_unreachable_host_is_recorded_and_the_rest_still_bundled(tmp_path: Path, loopback_sshd, incident: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    out = tmp_path / "case.tar.gz"
    result = create_bundle(BundleOptions(out=out, paths=[str(incident / "agent")], probe_hosts=[f"127.0.0.1:{closed}"],
                                         probe_options=_options(tmp_path, loopback_sshd), reports=False))
    names = [f["name"] for f in result.manifest["files"]]
    assert out.is_file() and names[0] == "files/agent/agent.log"
    assert all(n.endswith("manifest.json") for n in names[1:])  # the failed probe's own record of what happened
    (failure,) = result.manifest["failures"]
    assert failure["origin"] == f"probe 127.0.0.1:{closed}" and failure["error"].startswith("unreachable")


def test_an_unknown_host_key_is_refused_not_trusted(tmp_path: Path, loopback_sshd) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    result = create_bundle(BundleOptions(out=tmp_path / "case.tar.gz", probe_hosts=[f"127.0.0.1:{loopback_sshd.port}"],
                                         probe_options=_options(tmp_path, loopback_sshd, empty), reports=False))
    (entry,) = result.manifest["probes"]
    assert entry["status"] == "refused" and entry["commands"] == []
    assert result.manifest["failures"][0]["origin"] == f"probe 127.0.0.1:{loopback_sshd.port}"
