"""Only regular files are opened: a FIFO, socket or device in an analysed folder is skipped with a line, decided
without blocking (a FIFO used to hang `analyze` forever, also inside a sosreport-shaped folder)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from diagnostics.bundle import BundleOptions, create_bundle
from diagnostics.bundle.verify import verify_bundle
from diagnostics.sources.files import SourceError, open_regular, special_kind

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "scale-dynamic-disabled" / "management-server.log"


def messages(doc: dict) -> list[str]:
    return [e["message"] if isinstance(e, dict) else str(e) for e in doc["errors"]] + [str(n) for n in doc["notes"]]


def skipped(doc: dict) -> dict[str, str]:
    return {Path(i["path"]).name: i.get("detail") for i in doc["inputs"] if i["kind"] == "skipped"}


def analyze(*paths: Path) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "diagnostics", "analyze", "--tz", "UTC", "-f", "json", *map(str, paths)],
        cwd=ROOT, capture_output=True, timeout=120, check=False,  # the timeout is the test: a FIFO used to hang here
    )
    assert "Traceback" not in done.stderr.decode()
    return json.loads(done.stdout), done.stderr.decode()


def _folder_with_specials(folder: Path) -> None:
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "management-server.log")
    os.mkfifo(folder / "agent.log")  # a log name: a reader would open it at once
    short = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))  # AF_UNIX paths are limited to ~100 bytes
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(short / "s"))
    sock.close()
    os.rename(short / "s", folder / "api.sock")
    short.rmdir()


def test_a_fifo_and_a_socket_in_an_analysed_folder_are_skipped_with_a_line(tmp_path: Path) -> None:
    _folder_with_specials(tmp_path / "case")
    doc, _err = analyze(tmp_path / "case")
    assert any(i["path"].endswith("management-server.log") and i["records"] > 1000 for i in doc["inputs"])
    assert sorted(m for m in messages(doc) if "not a regular file" in m) == [
        f"{tmp_path / 'case' / 'agent.log'}: named pipe (FIFO), not a regular file; skipped (only regular files are read)",
        f"{tmp_path / 'case' / 'api.sock'}: socket, not a regular file; skipped (only regular files are read)",
    ]
    assert skipped(doc) == {"agent.log": "named pipe (FIFO)", "api.sock": "socket"}


def test_a_fifo_inside_a_sosreport_shaped_folder_does_not_hang(tmp_path: Path) -> None:
    sos = tmp_path / "sosreport-kvm01-2025-03-10-abcdef"
    (sos / "sos_commands" / "memory").mkdir(parents=True)
    _folder_with_specials(sos / "var" / "log" / "cloudstack" / "management")
    os.mkfifo(sos / "sos_commands" / "memory" / "free_-m")
    doc, _err = analyze(sos)
    assert any(i["path"].endswith("management-server.log") and i["kind"] == "log" for i in doc["inputs"])
    assert skipped(doc)["free_-m"] == "named pipe (FIFO)"
    assert any("agent.log: named pipe (FIFO)" in m for m in messages(doc))


def test_a_fifo_named_explicitly_is_one_error_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    doc, _err = analyze(tmp_path / "pipe.log", SAMPLE)
    assert [m for m in messages(doc) if "pipe.log" in m] == [f"{tmp_path / 'pipe.log'}: named pipe (FIFO), not a regular file; skipped (only regular files are read)"]


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p")
    assert special_kind(str(tmp_path / "p")) == "named pipe (FIFO)"
    with pytest.raises(SourceError, match="named pipe"):
        open_regular(str(tmp_path / "p"))
    assert special_kind("/dev/null") == "character device"


def test_bundle_create_and_verify_pass_a_fifo_by(tmp_path: Path) -> None:
    _folder_with_specials(tmp_path / "case")
    result = create_bundle(BundleOptions(out=tmp_path / "b.tar.gz", paths=[str(tmp_path / "case")], reports=False))
    assert [f["name"] for f in result.manifest["files"]] == ["files/case/management-server.log"]
    folder = tmp_path / "unpacked"
    subprocess.run(["tar", "-C", str(tmp_path), "-xzf", str(tmp_path / "b.tar.gz")], check=True)
    top = next(tmp_path.glob("csdiag-bundle-*"))
    os.mkfifo(top / "files" / "case" / "agent.log")
    v = verify_bundle(str(top))
    assert v.status == "mismatch" and any("named pipe" in p for p in v.problems)
    del folder
