"""Fixtures for the heartbeat tests: the recorded samples, the recorder, a pcap writer, and a guard that no
scapy packet built here ever asks the network for a MAC address."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from heartbeat_builders import SAMPLES, Conversation, healthy_link, write_pcap
from scapy.packet import Packet


@pytest.fixture(autouse=True)
def no_address_resolution(monkeypatch):
    """Packets are only built here, never sent: fail loudly if scapy tries to resolve a MAC (ARP / ND)."""
    import scapy.layers.inet
    import scapy.layers.inet6
    import scapy.layers.l2

    def refuse(*args, **kwargs):
        raise AssertionError(f"scapy tried to resolve a link-layer address for {args}; give Ether() src and dst")

    monkeypatch.setattr(scapy.layers.l2, "getmacbyip", refuse)
    monkeypatch.setattr(scapy.layers.inet, "getmacbyip", refuse)  # inet.py holds its own reference
    monkeypatch.setattr(scapy.layers.inet6, "getmacbyip6", refuse)


@pytest.fixture
def conversation():
    return Conversation


@pytest.fixture
def link():
    return healthy_link


@pytest.fixture
def pcap(tmp_path):
    """pcap(packets, name=..., **writer options) -> path of a freshly written capture."""
    counter = iter(range(1000))

    def _write(packets: list[Packet], name: str | None = None, **options) -> str:
        return str(write_pcap(tmp_path / (name or f"capture-{next(counter)}.pcap"), packets, **options))

    return _write


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def recorder():
    """samples/captures/record.py as a module (the developer tool doubles as the live-capture helper)."""
    spec = importlib.util.spec_from_file_location("csdiag_heartbeat_record", SAMPLES / "record.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_capture_ready():
    """Skip unless a real capture on lo is possible here."""
    if os.geteuid() != 0:
        pytest.skip("recording on lo needs root (tcpdump opens a raw socket)")
    for tool in ("tcpdump", "openssl"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (apt-get install {tool})")
    return free_loopback_port
