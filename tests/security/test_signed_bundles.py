"""Signed bundles: `bundle create --sign KEY` / `bundle verify --key PUB` (ssh-keygen -Y over the manifest) prove a
bundle received from a customer unmodified; a damaged archive is reported as "archive damaged"."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from diagnostics.bundle.sign import NAMESPACE, SIG_NAME, sign_manifest, verify_manifest
from diagnostics.bundle.verify import verify_bundle

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "scale-dynamic-disabled"

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)")


def keypair(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True, timeout=60)
    return key


def csdiag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("signed")
    key = keypair(folder, "sender")
    out = folder / "case.tar.gz"
    done = csdiag("bundle", "create", "-o", str(out), "--no-reports", "--sign", str(key), str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert str(key) in done.stdout and "PRIVATE" not in done.stdout + done.stderr
    return out, key, key.with_name("sender.pub")


def rewrite(src: Path, dst: Path, change) -> None:
    """Copy a tar.gz member by member, letting `change(name, data)` edit the data (None drops the member)."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        members = [(m, tin.extractfile(m).read() if m.isfile() else None) for m in tin.getmembers()]
        for info, data in members:
            if data is not None:
                data = change(info.name, data, members)
                if data is None:
                    continue
                info.size = len(data)
                tout.addfile(info, io.BytesIO(data))
            else:
                tout.addfile(info)


def test_the_signature_travels_inside_the_bundle_right_after_the_manifest(signed) -> None:
    out, _key, pub = signed
    with tarfile.open(out) as tf:
        names = [m.name.split("/", 1)[-1] for m in tf.getmembers()]
    assert names[1:3] == ["manifest.json", SIG_NAME]
    result = verify_bundle(str(out), pub)
    assert result.status == "ok" and result.signature == "good" and NAMESPACE in (result.signature_detail or "")


def test_verify_with_the_key_says_ok_and_signature_good(signed) -> None:
    out, _key, pub = signed
    done = csdiag("bundle", "verify", "--key", str(pub), str(out))
    assert done.returncode == 0 and "signature good" in done.stdout
    unchecked = csdiag("bundle", "verify", str(out))
    assert unchecked.returncode == 0 and "give --key" in unchecked.stdout


def test_an_edited_member_with_its_hash_rewritten_in_the_manifest_fails_the_signature(signed, tmp_path: Path) -> None:
    """Before signing existed, this edit passed `bundle verify` as ok: the checksum proved nothing."""
    out, _key, pub = signed
    forged = tmp_path / "forged.tar.gz"
    edited = b"2025-03-10 14:00:00,000 INFO  [c.c.x] (t:[]) (logid:) all is well\n"

    def change(name: str, data: bytes, members) -> bytes:
        if name.endswith("management-server.log"):
            return edited
        if name.endswith("/manifest.json"):
            doc = json.loads(data)
            for entry in doc["files"]:
                if entry["name"].endswith("management-server.log"):
                    entry["sha256"], entry["size"] = hashlib.sha256(edited).hexdigest(), len(edited)
            return json.dumps(doc, indent=2).encode() + b"\n"
        return data

    rewrite(out, forged, change)
    assert verify_bundle(str(forged)).status == "ok"  # the hashes alone are fooled
    result = verify_bundle(str(forged), pub)
    assert result.status == "mismatch" and result.signature == "bad"
    done = csdiag("bundle", "verify", "--key", str(pub), str(forged))
    assert done.returncode == 2 and "signature does not verify" in done.stdout


def test_another_key_or_an_unsigned_bundle_is_not_proof(signed, tmp_path: Path) -> None:
    out, _key, _pub = signed
    other = keypair(tmp_path, "mallory").with_name("mallory.pub")
    assert verify_bundle(str(out), other).signature == "bad"
    unsigned = tmp_path / "unsigned.tar.gz"
    rewrite(out, unsigned, lambda name, data, members: None if name.endswith(SIG_NAME) else data)
    result = verify_bundle(str(unsigned), other)
    assert result.status == "mismatch" and result.signature == "unsigned" and "not signed" in result.problems[0]


def test_a_signature_for_another_namespace_does_not_count(tmp_path: Path) -> None:
    key = keypair(tmp_path, "k")
    data = b'{"format": "csdiag-bundle"}\n'
    sig = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "git"], input=data, capture_output=True, check=True).stdout
    assert verify_manifest(data, sig, key.with_name("k.pub"))[0] is False
    assert verify_manifest(data, sign_manifest(data, key), key.with_name("k.pub"))[0] is True


def test_signing_with_a_missing_key_writes_nothing_and_says_why(tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    done = csdiag("bundle", "create", "-o", str(out), "--no-reports", "--sign", str(tmp_path / "nokey"), str(SAMPLE))
    assert done.returncode == 3 and "could not be signed" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def _damage(src: Path, dst: Path, how: str) -> None:
    data = src.read_bytes()
    if how == "truncated":
        dst.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        raw = bytearray(data)
        for i in range(len(raw) // 2, len(raw) // 2 + 32):
            raw[i] ^= 0xFF
        dst.write_bytes(bytes(raw))
    else:  # a damaged tar header inside an intact gzip stream: tarfile stops there without an error
        tar = bytearray(gzip.decompress(data))
        with tarfile.open(fileobj=io.BytesIO(bytes(tar))) as tf:
            offset = tf.getmembers()[3].offset
        tar[offset:offset + 512] = b"X" * 512
        dst.write_bytes(gzip.compress(bytes(tar)))


@pytest.mark.parametrize("how", ["truncated", "flipped", "bad-header"])
def test_a_damaged_archive_is_reported_as_damaged_not_only_as_missing_files(signed, tmp_path: Path, how: str) -> None:
    out, _key, pub = signed
    target = tmp_path / f"{how}.tar.gz"
    _damage(out, target, how)
    result = verify_bundle(str(target), pub)
    assert result.status == "unreadable"
    assert "archive damaged" in result.problems[0] and result.problems[0].startswith(str(target))
    done = csdiag("bundle", "verify", str(target))
    assert done.returncode == 3 and "archive damaged" in done.stderr and "Traceback" not in done.stderr
