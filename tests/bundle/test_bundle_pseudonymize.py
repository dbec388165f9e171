"""Pseudonymisation: consistent, subnet-preserving, learned from CloudStack's own renderings."""

from __future__ import annotations

from bundle_inputs import AGENT_LOG, MGMT_LOG
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.bundle.pseudonymize import Pseudonymizer


def _learned(*texts: str) -> Pseudonymizer:
    p = Pseudonymizer()
    for text in texts:
        for line in text.splitlines():
            p.learn(line)
    return p


def test_hosts_and_accounts_are_learned_from_cloudstack_lines() -> None:
    p = _learned(MGMT_LOG)
    assert p.hosts == ["kvm01.example.net", "kvm01"]
    assert p.mapping()["accounts"] == {"acme-corp": "account-001"}


def test_same_subnet_stays_one_subnet_and_host_octet_is_kept() -> None:
    p = Pseudonymizer()
    a, b, c = p.line("10.20.0.5"), p.line("10.20.0.15"), p.line("192.168.7.9")
    assert a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0] != c.rsplit(".", 1)[0]
    assert a.endswith(".5") and b.endswith(".15") and c.endswith(".9")
    assert "10.20.0" not in a + b and "192.168.7" not in c


def test_mapping_is_consistent_across_files() -> None:
    p = _learned(MGMT_LOG, AGENT_LOG)
    mgmt = "".join(p.line(line) for line in MGMT_LOG.splitlines(keepends=True))
    agent = "".join(p.line(line) for line in AGENT_LOG.splitlines(keepends=True))
    ms_ip = p.line("10.20.0.5")
    assert f"Lost connection to host: {ms_ip}." in agent
    assert "kvm01" not in mgmt and "acme-corp" not in mgmt
    assert '"name":"host-001"' in mgmt and "via: 4(host-001)" in mgmt and '"accountName":"account-001"' in mgmt


def test_loopback_netmasks_versions_and_builtin_accounts_are_kept() -> None:
    p = Pseudonymizer()
    p.add_account("admin")
    line = "lo 127.0.0.1 mask 255.255.255.0 any 0.0.0.0 version 4.20.1.0.1 account=admin"
    assert p.line(line) == line


def test_names_are_replaced_as_whole_names_only() -> None:
    p = Pseudonymizer()
    p.add_host("kvm01")
    out = p.line("kvm01: ping; kvm010 stays; /var/log/kvm01.log stays in paths; (kvm01)")
    assert out == "host-001: ping; kvm010 stays; /var/log/kvm01.log stays in paths; (host-001)"
    assert p.path_part("probe-kvm01") == "probe-host-001"


def test_short_names_are_not_pseudonymised() -> None:
    p = Pseudonymizer()
    p.add_host("db")
    assert p.line("db is down") == "db is down"


_OCTET = st.integers(min_value=1, max_value=254)


@settings(max_examples=200, deadline=None)
@given(nets=st.lists(st.tuples(st.integers(1, 126), _OCTET, _OCTET), min_size=1, max_size=6, unique=True),
       hosts=st.lists(_OCTET, min_size=1, max_size=5))
def test_ip_mapping_is_a_subnet_preserving_bijection(nets: list[tuple[int, int, int]], hosts: list[int]) -> None:
    p = Pseudonymizer()
    real = [f"{a}.{b}.{c}.{h}" for a, b, c in nets for h in hosts]
    fake = [p.line(ip) for ip in real]
    assert [p.line(ip) for ip in real] == fake  # stable on repeat
    assert len(set(fake)) == len(set(real))  # no two addresses collapse into one
    for r1, f1 in zip(real, fake):
        for r2, f2 in zip(real, fake):
            assert (r1.rsplit(".", 1)[0] == r2.rsplit(".", 1)[0]) == (f1.rsplit(".", 1)[0] == f2.rsplit(".", 1)[0])
    assert all(f.startswith("10.") and int(f.split(".")[1]) >= 128 for f in fake)  # all from the stand-in range


def test_many_networks_still_get_valid_distinct_stand_ins() -> None:
    p = Pseudonymizer()
    fakes = {p.line(f"172.{a}.{b}.7") for a in range(16, 32) for b in range(0, 256)} | {
        p.line(f"10.{a}.{b}.7") for a in range(0, 128) for b in range(0, 256)}
    assert len(fakes) == 16 * 256 + 128 * 256
    assert all(0 <= int(o) <= 255 for f in fakes for o in f.split("."))
    assert any(f.startswith("100.64.") for f in fakes)
