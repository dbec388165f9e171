"""The condition language: every operator, units, regex, null handling and errors with positions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, strategies as st

from diagnostics.engine.language import ConditionError, parse_condition, truthy
from tests.engine.conftest import make_fact


class Env:
    def __init__(self, *facts, candidates=None):
        self.binding = {f.kind: f for f in facts}
        self._candidates = candidates or {}

    def candidates(self, kind):
        return self._candidates.get(kind, [])


def holds(condition: str, *facts, candidates=None) -> bool:
    return parse_condition(condition).eval(Env(*facts, candidates=candidates))


CHECK = make_fact("capacity_check", free_ram=14495514624, requested_ram=34359738368, free_cpu=88000,
                  requested_cpu=16000, used_ram=120259084288, total_ram=134754598912, outcome="insufficient_ram",
                  from_reserved=False, host_id=4, host_name="kvm01", reason="Host does not have enough RAM available")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("capacity_check.free_ram < capacity_check.requested_ram", True),
        ("capacity_check.free_ram > capacity_check.requested_ram", False),
        ("capacity_check.free_ram <= 14495514624", True),
        ("capacity_check.free_ram >= 14495514625", False),
        ("capacity_check.outcome == \"insufficient_ram\"", True),
        ("capacity_check.outcome != 'insufficient_ram'", False),
        ("capacity_check.outcome in [\"insufficient_ram\", \"insufficient_cpu\"]", True),
        ("capacity_check.outcome not in [\"insufficient_ram\", \"insufficient_cpu\"]", False),
        ("capacity_check.reason contains \"ENOUGH RAM\"", True),  # contains ignores case
        ("capacity_check.reason contains \"CPU\"", False),
        ("capacity_check.reason matches /enough (RAM|CPU) avail/", True),
        ("capacity_check.reason matches /^enough/", False),
        ("capacity_check.reason matches /HOST DOES/i", True),
        ("capacity_check.reason matches /HOST DOES/", False),
        ("\"RAM\" in capacity_check.reason", True),
        ("capacity_check.from_reserved", False),
        ("not capacity_check.from_reserved", True),
        ("capacity_check.from_reserved == false", True),
        ("capacity_check.reserved_ram == null", True),
        ("capacity_check.free_ram != null", True),
        ("capacity_check.reserved_ram > 0 or capacity_check.reserved_ram <= 0", False),  # null is never ordered
        ("capacity_check.used_ram / capacity_check.total_ram >= 89%", True),
        ("capacity_check.used_ram / capacity_check.total_ram >= 90%", False),
        ("capacity_check.requested_ram - capacity_check.free_ram > 18GiB", True),
        ("capacity_check.requested_ram - capacity_check.free_ram > 19GiB", False),
        ("capacity_check.free_ram * 2 + 1 > capacity_check.requested_ram", False),
        ("(capacity_check.free_ram + 20GiB) > capacity_check.requested_ram", True),
        ("capacity_check.requested_ram == 32GiB and capacity_check.requested_ram == 32GB", True),
        ("capacity_check.requested_ram == 32768MiB and capacity_check.requested_ram == 33554432KiB", True),
        ("capacity_check.requested_cpu == 16GHz", True),
        ("capacity_check.free_cpu / 0 > 1", False),  # division by zero is null, not a crash
        ("capacity_check.free_ram < 1GiB or capacity_check.outcome == \"insufficient_ram\" and capacity_check.from_reserved", False),
        ("(capacity_check.free_ram < 1GiB or capacity_check.outcome == \"insufficient_ram\") and not capacity_check.from_reserved", True),
        ("not not capacity_check", True),
        ("capacity_check and not libvirt_error", True),
        ("libvirt_error.message contains \"memory\"", False),  # unbound kind: fields are null
    ],
)
def test_operators(condition: str, expected: bool) -> None:
    assert holds(condition, CHECK) is expected
    # the compiled closure (hot path) and the tree walk (used inside quantifiers) agree
    assert truthy(parse_condition(condition).root.eval(Env(CHECK))) is expected


def test_sequence_fields_support_contains_in_and_matches() -> None:
    planner = make_fact("planner", event="avoid_set", avoid_hosts=(4, 7))
    assert holds("planner.avoid_hosts contains 4", planner)
    assert holds("7 in planner.avoid_hosts", planner)
    assert not holds("planner.avoid_hosts contains 5", planner)
    command = make_fact("agent_command", action="timed_out", commands=("com.cloud.agent.api.StopCommand",))
    assert holds("agent_command.commands contains \"stopcommand\"", command)
    assert holds("agent_command.commands matches /\\.StopCommand$/", command)
    assert not holds("agent_command.commands matches /ScaleVm/", command)


def test_durations_compare_timestamps() -> None:
    first = make_fact("insufficient_capacity", seconds=0)
    later = make_fact("capacity_check", seconds=150)
    assert holds("capacity_check.ts - insufficient_capacity.ts == 150s", later, first)
    assert holds("capacity_check.ts - insufficient_capacity.ts > 2m and capacity_check.ts - insufficient_capacity.ts < 2.6m", later, first)
    assert not holds("capacity_check.ts - insufficient_capacity.ts >= 1h", later, first)
    assert holds("capacity_check.ts - insufficient_capacity.ts < 200000ms", later, first)


def test_regex_slash_can_be_escaped() -> None:
    error = make_fact("libvirt_error", message="Unable to write to '/sys/fs/cgroup/cpu.weight': Numerical result out of range")
    assert holds(r"libvirt_error.message matches /\/sys\/fs\/cgroup\/.*cpu\.weight/", error)


def test_quantifiers_range_over_joined_facts() -> None:
    anchor = make_fact("agent_event", event="disconnecting", host_id=4)
    events = [make_fact("agent_event", seconds=i, event=e, host_id=4)
              for i, e in enumerate(["disconnecting", "connected", "disconnecting", "disconnecting"])]
    candidates = {"agent_event": events}
    assert holds('agent_event and count(agent_event where agent_event.event == "disconnecting") == 3', anchor, candidates=candidates)
    assert holds("agent_event and count(agent_event) >= 4", anchor, candidates=candidates)
    assert holds('agent_event and some(agent_event where agent_event.event == "connected")', anchor, candidates=candidates)
    assert not holds('agent_event and no(agent_event where agent_event.event == "connected")', anchor, candidates=candidates)
    assert holds('agent_event and no(libvirt_error)', anchor, candidates=candidates)
    # inside the quantifier the kind names the candidate, outside it still names the anchor
    assert holds('agent_event.event == "disconnecting" and some(agent_event where agent_event.event == "connected")',
                 anchor, candidates=candidates)


def test_condition_knows_its_anchor_and_kinds() -> None:
    condition = parse_condition('insufficient_capacity.resource == "compute" and capacity_check.free_ram < 1GiB '
                                'and no(libvirt_error) and count(planner) > 0')
    assert condition.anchor == "insufficient_capacity"
    assert condition.bound_kinds == ("insufficient_capacity", "capacity_check")
    assert condition.quantified_kinds == ("libvirt_error", "planner")


def test_parse_is_cached() -> None:
    text = 'capacity_check.outcome == "insufficient_cpu"'
    assert parse_condition(text) is parse_condition(text)


@pytest.mark.parametrize(
    ("condition", "loc", "message"),
    [
        ("capacity_check.free_ram < 4GiB and nonsense.x == 1", 35, "unknown fact kind 'nonsense'"),
        ("capacity_check.free_ram < 4GiB and capacity_check.freeram == 1", 35, "unknown field 'freeram'"),
        ("libvirt_error.message matches /a(b/", 32, "bad regex: missing )"),
        ("capacity_check.free_ram <", 24, "syntax error"),
        ("capacity_check.free_ram < 4 GiB", 28, "syntax error near 'GiB'"),
        ("capacity_check.free_ram < 4XB", 24, "syntax error near '< 4XB'"),
        ('capacity_check.outcome == "unterminated', 23, "syntax error"),
        ("no(libvirt_error)", 0, "at least one fact kind"),
        ("count(bogus) > 1 and capacity_check", 6, "unknown fact kind 'bogus'"),
    ],
)
def test_errors_carry_positions(condition: str, loc: int, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(condition)
    assert message in caught.value.message
    assert caught.value.loc == loc


@given(st.integers(-10**12, 10**12), st.integers(-10**12, 10**12))
def test_integer_comparisons_agree_with_python(a: int, b: int) -> None:
    fact = make_fact("capacity_check", free_ram=a, requested_ram=b)
    for op, expected in (("<", a < b), ("<=", a <= b), (">", a > b), (">=", a >= b), ("==", a == b), ("!=", a != b)):
        assert holds(f"capacity_check.free_ram {op} capacity_check.requested_ram", fact) is expected


@given(st.integers(0, 4096), st.sampled_from([("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40), ("B", 1)]))
def test_size_units(number: int, unit: tuple[str, int]) -> None:
    fact = make_fact("capacity_check", free_ram=number * unit[1])
    assert holds(f"capacity_check.free_ram == {number}{unit[0]}", fact)
    assert not holds(f"capacity_check.free_ram > {number}{unit[0]}", fact)


def test_timestamps_without_zone_do_not_crash_against_aware_ones() -> None:
    aware = make_fact("capacity_check", seconds=0)
    naive = make_fact("insufficient_capacity", seconds=None)
    naive.ts = aware.ts.replace(tzinfo=None) + timedelta(seconds=5)  # type: ignore[union-attr]
    assert not holds("insufficient_capacity.ts - capacity_check.ts > 1s", aware, naive)


def test_units_render_back_the_way_operators_write_them() -> None:
    from diagnostics.engine.units import human_bytes, human_duration, parse_duration

    assert [human_duration(s) for s in (12.5, 60, 212, 1800, 3600, 5400, None)] == \
        ["12.5s", "1m", "3m32s", "30m", "1h", "1h30m", "unknown"]
    assert [human_bytes(b) for b in (512, 14495514624, -4294967296, None)] == ["512 B", "13.5 GiB", "-4.0 GiB", "unknown"]
    assert parse_duration("10m") == 600.0 and parse_duration("1.5h") == 5400.0 and parse_duration("30") == 30.0
