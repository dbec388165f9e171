"""Member names and manifest fields are untrusted: escape sequences and newlines never reach the terminal raw, so a
crafted name cannot forge report lines (`[CRITICAL] Fake finding`) or drive the terminal."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from diagnostics.bundle import open_evidence

ROOT = Path(__file__).resolve().parents[2]
EVIL = "case/../x\n[CRITICAL] Fake finding: pay here\x1b]8;;http://evil\x07link\x1b[2J"


def _tar(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 3
            tf.addfile(info, io.BytesIO(b"ok\n"))
    return path


def test_refused_member_names_are_one_visible_line(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", [EVIL, "case/ok.log"])
    with open_evidence(str(archive)) as tree:
        (line,) = tree.errors
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line
    assert "\\n[CRITICAL] Fake finding" in line and "\\x1b" in line


def test_bundle_inspect_and_verify_show_hostile_manifest_fields_visibly(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    manifest = {
        "format": "csdiag-bundle", "format_version": 1, "tool": {"name": "csdiag", "version": "\x1b[31mred"},
        "created": "2025-03-10T15:00:00Z\n[CRITICAL] forged", "hosts": ["kvm01\x1b]0;title\x07"],
        "options": {"since": None, "window_start": None, "max_file_bytes": 0, "redaction": True, "pseudonymized": False},
        "files": [{"name": "evil\n[CRITICAL] Fake finding\x1b[2J", "role": None, "origin": "x", "size": 0,
                   "sha256": "0" * 64, "truncated": False, "truncation": [], "lines_dropped": 0, "redactions": 0, "redacted": True}],
        "failures": [{"origin": "a\x1b[1m", "error": "b\nc"}], "excluded": [], "probes": [], "reports": {"produced": False, "reason": "\x9b2J"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for command in (["inspect"], ["inspect", "--json"], ["verify"]):
        done = subprocess.run([sys.executable, "-m", "diagnostics", "bundle", *command, str(folder)], cwd=ROOT,
                              capture_output=True, timeout=120, check=False)
        shown = done.stdout.decode() + done.stderr.decode()
        assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown, command
        assert not any(line.startswith("[CRITICAL]") for line in shown.splitlines()), command
        assert "Traceback" not in shown
