"""uptime in its three forms: procps line, `uptime -p`, /proc/uptime."""

from __future__ import annotations

import pytest

from diagnostics.host.uptime import parse_uptime, uptime_facts


def test_real_uptime(real):
    text = (real / "uptime.txt").read_text()
    (up,) = uptime_facts(parse_uptime(text), host="kvm01")
    minutes = int(text.split(" up ")[1].split(" min")[0])
    assert up.uptime_s == minutes * 60 and up.users == 0 and up.load1 == 0.11
    assert up.clock == "21:40:18" and up.line == 1 and up.host_name == "kvm01"


@pytest.mark.parametrize(
    ("text", "seconds", "users", "loads"),
    [
        (" 17:04:10 up 12 days,  3:04,  2 users,  load average: 0.52, 0.58, 0.59", 12 * 86400 + 184 * 60, 2, (0.52, 0.58, 0.59)),
        (" 10:00:01 up 1 day, 40 min,  1 user,  load average: 1,20, 0,50, 0,10", 86400 + 2400, 1, (1.2, 0.5, 0.1)),
        (" 09:01:02 up  3:04,  load average: 0.00, 0.00, 0.00", 184 * 60, None, (0.0, 0.0, 0.0)),
        ("up 2 weeks, 3 days, 4 hours, 5 minutes", 17 * 86400 + 4 * 3600 + 300, None, (None, None, None)),
        ("350735.47 234388.90", 350735.47, None, (None, None, None)),
    ],
)
def test_forms(text, seconds, users, loads):
    up = parse_uptime(text)
    assert up.uptime_s == pytest.approx(seconds)
    assert up.users == users and (up.load1, up.load5, up.load15) == loads


def test_not_uptime():
    assert uptime_facts(parse_uptime("load is fine")) == []
