"""No input makes a host parser raise: random text, mutated real outputs, random bytes on disk."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.host import detect_kind, facts_from_file, facts_from_text
from diagnostics.host.detect import KINDS
from diagnostics.host.dmesg import parse_dmesg
from diagnostics.host.free import parse_free
from diagnostics.host.ksm import parse_ksm
from diagnostics.host.lscpu import parse_lscpu
from diagnostics.host.meminfo import parse_meminfo
from diagnostics.host.numactl import parse_numactl
from diagnostics.host.sensors import parse_sensors
from diagnostics.host.uptime import parse_uptime
from diagnostics.host.virsh_dominfo import parse_dominfo
from diagnostics.host.virsh_list import parse_virsh_list
from diagnostics.host.virsh_nodeinfo import parse_nodeinfo
from conftest import DATA

PARSERS = (parse_dmesg, parse_free, parse_lscpu, parse_meminfo, parse_numactl, parse_sensors, parse_uptime,
           parse_dominfo, parse_virsh_list, parse_nodeinfo, parse_ksm)
SAMPLES = [p.read_text(encoding="utf-8") for p in sorted(DATA.rglob("*")) if p.is_file() and p.name != "README.md"]
# text made of the characters these outputs are made of, so the grammars get deep before failing
OUTPUT_ALPHABET = st.sampled_from(list("0123456789 .:,-+()[]/=°CkBMGiTx\n\tMemSwaptotalusedfreeavailablenodecpusKill"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text())
def test_random_unicode_never_raises(text):
    for parse in PARSERS:
        parse(text)
    assert detect_kind(text) in (None, *KINDS)
    facts_from_text(text)


@FUZZ
@given(st.text(OUTPUT_ALPHABET, max_size=400))
def test_output_like_noise_never_raises(text):
    for parse in PARSERS:
        parse(text)
    for kind in KINDS:
        facts_from_text(text, kind=kind)


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_mutated_real_outputs_never_raise(sample, data):
    cut = data.draw(st.integers(0, len(sample)))
    junk = data.draw(st.text(OUTPUT_ALPHABET, max_size=40))
    mutated = sample[:cut] + junk + sample[cut + data.draw(st.integers(0, 20)):]
    for kind in KINDS:
        for fact in facts_from_text(mutated, path="kvm01/x", kind=kind):
            assert fact.line >= 1 and fact.path == "kvm01/x"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_on_disk_never_raise(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "evidence"
        path.write_bytes(data)
        facts, errors = facts_from_file(str(path))
        assert all(str(path) in e and "\n" not in e for e in errors)
        assert facts or errors or detect_kind(data.decode("utf-8", "replace")) is not None
