"""The probe's on-host agent.properties filter (sed, built from [host_filter] of redaction.toml) misses no secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

from diagnostics.probe.commands import agent_properties_script

PROPERTIES = """\
host=10.20.0.5@static
hypervisor.uri=qemu+ssh://root:HvUriPw1@kvm01/system
## old: keystore.passphrase=OldPrefixPw2
#OLD db.password OldWordPw3
libvirt.credential=CredPw4
rbd.auth.secret=RbdAuthPw5
ceph.auth.key: CephPw6
   # note: password=mykey:TailPw7
!keystore.password=BangPw8
vm.memballoon.disable=true
guest.cpu.mode=host-passthrough
"""
SECRETS = ("HvUriPw1", "OldPrefixPw2", "OldWordPw3", "CredPw4", "RbdAuthPw5", "CephPw6", "TailPw7", "BangPw8")


def test_every_secret_form_of_agent_properties_is_filtered_and_the_rest_kept(tmp_path: Path) -> None:
    source = tmp_path / "agent.properties"
    source.write_text(PROPERTIES)
    done = subprocess.run(["sh", "-c", agent_properties_script(str(source))], capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert [s for s in SECRETS if s in out] == []
    assert out.count("\n") == PROPERTIES.count("\n")
    for kept in ("host=10.20.0.5@static", "vm.memballoon.disable=true", "guest.cpu.mode=host-passthrough",
                 "hypervisor.uri=qemu+ssh://root:<redacted>@kvm01/system", "libvirt.credential=<redacted>"):
        assert kept in out.splitlines()
