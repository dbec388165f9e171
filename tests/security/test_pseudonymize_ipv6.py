"""Pseudonymisation covers IPv6: every real /64 gets one stand-in /64 (documentation space), interface ids stay."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.bundle.pseudonymize import Pseudonymizer


def test_ipv6_addresses_are_replaced_consistently_and_harmless_text_is_kept() -> None:
    p = Pseudonymizer()
    first = p.line("agent 2a01:4f8:1:2::15 connected to 2A01:04F8:0001:0002:0:0:0:16 and fe80::5054:ff:fe12:3456%eth0")
    again = p.line("Seq 4-1: via 2a01:4f8:1:2::15")
    assert "2a01:4f8" not in first.lower() and "fe80::5054" not in first
    assert first.split()[1] == again.split()[-1] == "2001:db8::15"
    assert "2001:db8::16" in first  # same /64, interface id kept
    kept = "time 15:11:40,002 mac 52:54:00:12:34:56 lo ::1 any :: mcast ff02::1 Class::method a::b"
    assert p.line(kept) == kept
    assert p.line("url http://[2a01:4f8:9::5]:8080/client/api") == "url http://[2001:db8:0:2::5]:8080/client/api"
    assert p.mapping()["ipv6_networks_64"]["2a01:4f8:1:2::/64"] == "2001:db8::/64"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0x2000 << 112, max_value=(0x3FFF << 112) - 1), min_size=1, max_size=20))
def test_no_real_ipv6_address_survives_and_the_mapping_is_injective(values: list[int]) -> None:
    p = Pseudonymizer()
    addrs = [ipaddress.IPv6Address(v) for v in values]
    out = p.line(" ".join(str(a) for a in addrs))
    stand_ins = out.split()
    for real, fake in zip(addrs, stand_ins):
        assert ipaddress.IPv6Address(fake) in ipaddress.IPv6Network("2001:db8::/32")
        assert int(ipaddress.IPv6Address(fake)) & ((1 << 64) - 1) == int(real) & ((1 << 64) - 1)
    by_real = {str(a): f for a, f in zip(addrs, stand_ins)}
    assert len(set(by_real.values())) == len(by_real)
