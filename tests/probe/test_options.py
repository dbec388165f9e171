"""Reading what the user typed: durations and [user@]host[:port] targets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnostics.probe import parse_since, parse_target
from diagnostics.probe.run import folder_names


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1w", 604800), ("45", 45), ("1.5h", 5400), (" 2H ", 7200)])
def test_durations(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "2 hours", "-1h", "0", "h2", "2y"])
def test_bad_durations_raise_a_message_naming_the_input(text):
    with pytest.raises(ValueError) as error:
        parse_since(text)
    assert repr(text) in str(error.value)


@pytest.mark.parametrize(
    "text, host, port, user, label",
    [
        ("kvm01", "kvm01", 22, "root", "kvm01"),
        ("admin@kvm01", "kvm01", 22, "admin", "kvm01"),
        ("kvm01.example.org:2222", "kvm01.example.org", 2222, "root", "kvm01.example.org:2222"),
        ("ops@10.20.0.7:22", "10.20.0.7", 22, "ops", "10.20.0.7:22"),
        ("[fe80::1]:2200", "fe80::1", 2200, "root", "fe80::1:2200"),
    ],
)
def test_targets(text, host, port, user, label):
    target = parse_target(text, "root", 22)
    assert (target.host, target.port, target.user, target.label) == (host, port, user, label)


@pytest.mark.parametrize("text", ["", "a b", "host:99999", "host:0", "user@", "@host", "host:port", "a:b:c",
                                  "kvm\x1b[2J", "ro\x07ot@kvm01", "kvm\u009b31m", "kvm\x0001"])
def test_bad_targets_raise(text):
    with pytest.raises(ValueError):
        parse_target(text, "root", 22)


hostnames = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True)


@given(user=st.from_regex(r"[a-z_][a-z0-9_-]{0,15}", fullmatch=True), host=hostnames, port=st.integers(1, 65535))
def test_any_user_host_port_round_trips(user, host, port):
    target = parse_target(f"{user}@{host}:{port}", "root", 22)
    assert (target.user, target.host, target.port) == (user, host, port)


@given(st.lists(st.sampled_from(["kvm01", "kvm01:2222", "kvm/../01", "..", "kvm 01", "a@b"]), min_size=1, max_size=8))
def test_folder_names_are_unique_and_stay_inside_the_output_folder(labels):
    from diagnostics.probe.options import Target

    targets = [Target(host=label, port=22, user="root") for label in labels]
    names = folder_names(targets)
    assert len(set(names)) == len(names)
    assert all(name and "/" not in name and name not in (".", "..") for name in names)
