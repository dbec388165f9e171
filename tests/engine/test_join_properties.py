"""The indexed join agrees with the obvious all-pairs definition on random fact sets."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from diagnostics.engine import evaluate, load_rules
from tests.engine.conftest import make_fact, rule_text

RULE = '''condition = """
insufficient_capacity.resource == "compute"
  and capacity_check.outcome == "insufficient_ram"
"""
join = ["host", "job", "logid"]
window = "{window}"
group_by = ["vm"]
message = "m"
'''

checks = st.builds(
    lambda t, host, job, logid, outcome: make_fact("capacity_check", t, host_id=host, job=job, logid=logid, outcome=outcome),
    st.integers(0, 3600), st.one_of(st.none(), st.integers(1, 4)), st.one_of(st.none(), st.integers(1, 6)),
    st.one_of(st.none(), st.sampled_from(["aa", "bb", "cc"])), st.sampled_from(["insufficient_ram", "ok"]),
)
exceptions = st.builds(
    lambda t, host, job, logid, vm: make_fact("insufficient_capacity", t, host_id=host, job=job, logid=logid,
                                              vm=f"i-2-{vm}-VM", resource="compute"),
    st.integers(0, 3600), st.one_of(st.none(), st.integers(1, 4)), st.one_of(st.none(), st.integers(1, 6)),
    st.one_of(st.none(), st.sampled_from(["aa", "bb", "cc"])), st.integers(1, 5),
)


def shares_key(a, b) -> bool:
    return any(x is not None and x == y for x, y in ((a.host_id, b.host_id), (a.job, b.job), (a.logid, b.logid)))


@given(st.lists(checks, max_size=25), st.lists(exceptions, max_size=10), st.sampled_from([60, 300, 900]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_indexed_join_equals_all_pairs(rules_dir, check_facts, exception_facts, window) -> None:
    rules_dir("join.toml", rule_text("test.join", body=RULE.replace("{window}", f"{window}s")))
    ruleset = load_rules()
    expected_by_vm: dict[str, int] = {}
    for anchor in exception_facts:
        if any(c.outcome == "insufficient_ram" and shares_key(anchor, c) and abs((c.ts - anchor.ts).total_seconds()) <= window
               for c in check_facts):
            expected_by_vm[anchor.vm] = expected_by_vm.get(anchor.vm, 0) + 1
    findings = evaluate(ruleset, [*check_facts, *exception_facts])
    assert {f.entities["vm"]: f.count for f in findings} == expected_by_vm
