"""The ping filter: only pings of host identities not seen before reach the extractors."""

from __future__ import annotations

from diagnostics.facts.hot_keywords import PingFilter, unseen_ping_pattern


def ping(host: int, name: str) -> bytes:
    return (f"2025-03-10 00:00:00,000 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-1:[]) (logid:) "
            f"Ping from Routing host {host}({name})\n").encode()


def test_the_pattern_skips_known_identities_and_finds_any_other():
    pattern = unseen_ping_pattern({b"8(kvm08)", b"80(kvm80)"})
    text = ping(8, "kvm08") + ping(80, "kvm80") + ping(81, "kvm81") + ping(8, "kvm08-new") + ping(800, "kvm80")
    found = [text[m.end():text.index(b"\n", m.end())] for m in pattern.finditer(text)]
    assert found == [b" 81(kvm81)", b" 8(kvm08-new)", b" 800(kvm80)"]
    assert list(unseen_ping_pattern(set()).finditer(ping(1, "a"))) != []  # nothing known: every ping is news


def test_each_identity_is_reported_once_and_rebuilds_stay_few_when_hosts_trickle_in():
    filt, seen, builds, last = PingFilter(), set(), 0, None
    for block_no in range(1, 301):  # one new host per block, every known host pinging in every block
        block = b"".join(ping(h, f"kvm{h}") for h in range(1, block_no + 1))
        found = filt.new_pings(block, memoryview(block), len(block), seen)
        assert len(found) == 1, block_no
        builds += filt.pattern is not last
        last = filt.pattern
    assert len(seen) == 300
    assert builds < 40  # rebuilt when the identities doubled or stale pings cost a rebuild, not once per block
