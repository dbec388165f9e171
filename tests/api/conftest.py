"""Fixtures for the API tests: a real HTTP(S) management server on 127.0.0.1 and a clean environment."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from cloudstack_fake import FakeManagementServer, ServerState, serve


@pytest.fixture
def cloudstack() -> Iterator[FakeManagementServer]:
    """A plain-HTTP management server on 127.0.0.1 with the default data."""
    yield from serve(ServerState())


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made by the openssl CLI (installed with the OS)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_cloudstack(self_signed: tuple[Path, Path]) -> Iterator[FakeManagementServer]:
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from serve(ServerState(), context)


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No CloudStack variables from the caller's shell, no proxies, HOME in a temp folder (no real ~/.cmk)."""
    for name in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_API_URL", "CLOUDSTACK_KEY", "CLOUDSTACK_API_KEY",
                 "CLOUDSTACK_SECRET", "CLOUDSTACK_SECRET_KEY", "http_proxy", "https_proxy", "HTTP_PROXY",
                 "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    return home
