"""Fixtures for the bundle tests: an incident folder and a probe run, built from bundle_inputs."""

from __future__ import annotations

import gzip
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
    (root / "etc" / "id_ed25519").write_text(PRIVATE_KEY)
    (root / "etc" / "history.txt").write_text(SHELL_HISTORY)
    (root / "host").mkdir()
    (root / "host" / "free.txt").write_text(FREE_OUTPUT)
    write_pcap(root / "host" / "heartbeat.pcap")
    return root


@pytest.fixture
def probe_run(tmp_path: Path) -> Path:
    return write_probe_folder(tmp_path / "probes")
