"""Signed bundles: an OpenSSH signature (`ssh-keygen -Y sign`) over manifest.json, stored as manifest.json.sig.

Why over the manifest: it holds the sha256 and size of every member, so one signature proves the whole bundle
unmodified. A checksum alone proves nothing against someone who can edit a member *and* rewrite its hash in the
manifest; a signature made with the sender's key cannot be rewritten without that key.

Why ssh-keygen: an existing standard (SSHSIG, `ssh-keygen -Y sign/verify`), keys people already have, no crypto
code of our own. The namespace `csdiag-bundle` keeps a bundle signature from being valid for anything else (git
commits, files). Only key *paths* go on the command line; the data goes through stdin, a passphrase through
ssh-agent or ssh-keygen's own prompt, never through argv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

NAMESPACE = "csdiag-bundle"
SIG_NAME = "manifest.json.sig"
PRINCIPAL = "csdiag-bundle-signer"
TIMEOUT = 120
MAX_SIG_BYTES = 64 * 1024


class SignError(Exception):
    """Signing or checking could not be done at all (one line: no ssh-keygen, unreadable key, ...)."""


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SignError("ssh-keygen not found (install openssh-client to sign or check bundle signatures)")
    return found


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "no message"


def sign_manifest(manifest: bytes, key: Path) -> bytes:
    """The armored SSHSIG signature of `manifest` with the private key `key` (or its .pub when the key is in an agent)."""
    if not key.is_file():
        raise SignError(f"{key}: no such key file")
    try:
        done = subprocess.run(
            [_ssh_keygen(), "-q", "-Y", "sign", "-f", str(key), "-n", NAMESPACE],
            input=manifest, capture_output=True, timeout=TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        raise SignError(f"{key}: ssh-keygen did not finish signing within {TIMEOUT} s") from None
    except OSError as exc:
        raise SignError(f"ssh-keygen cannot run ({exc.strerror or exc})") from None
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        raise SignError(f"{key}: signing failed ({_last_line(done.stderr)})")
    return done.stdout


def verify_manifest(manifest: bytes, signature: bytes, public_key: Path) -> tuple[bool, str]:
    """(True, "Good ... signature ...") when `signature` is a valid csdiag-bundle signature of `manifest` by
    `public_key` (an OpenSSH .pub file); (False, reason) otherwise. SignError when the check cannot run."""
    try:
        pub = public_key.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SignError(f"{public_key}: cannot read the public key ({getattr(exc, 'strerror', None) or exc})") from None
    fields = pub[0].split() if pub else []
    if len(fields) < 2 or not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
        raise SignError(f"{public_key}: not an OpenSSH public key (expected a line like 'ssh-ed25519 AAAA...')")
    if len(signature) > MAX_SIG_BYTES:
        return False, f"{SIG_NAME} is implausibly large ({len(signature)} bytes)"
    with tempfile.TemporaryDirectory(prefix="csdiag-verify-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(f'{PRINCIPAL} namespaces="{NAMESPACE}" {fields[0]} {fields[1]}\n', encoding="utf-8")
        sig = Path(tmp) / SIG_NAME
        sig.write_bytes(signature)
        os.chmod(sig, 0o600)
        try:
            done = subprocess.run(
                [_ssh_keygen(), "-Y", "verify", "-f", str(signers), "-I", PRINCIPAL, "-n", NAMESPACE, "-s", str(sig)],
                input=manifest, capture_output=True, timeout=TIMEOUT, check=False,
            )
        except subprocess.TimeoutExpired:
            raise SignError(f"ssh-keygen did not finish checking the signature within {TIMEOUT} s") from None
        except OSError as exc:
            raise SignError(f"ssh-keygen cannot run ({exc.strerror or exc})") from None
    message = _last_line(done.stdout + b"\n" + done.stderr)
    return done.returncode == 0, message
