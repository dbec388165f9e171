"""Bounded memory without changing a result: shared values, compact join indexes, lean operations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from diagnostics.correlate.operations import Keys, Operation
from diagnostics.engine.evaluate import Aliases, KindIndex
from diagnostics.model.identity import Identities
from diagnostics.model.log_facts import AsyncJob, PlannerDecision, VmStateTransition
from diagnostics.model.sharing import PROBE, ValueTable

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def _complete(job: int, line: int, logid: str) -> AsyncJob:
    # each string built at run time, as a parser would: equal values, distinct objects
    return AsyncJob(ts=T0 + timedelta(seconds=line), path="ms.log", line=line, text=f"Complete async job-{job}",
                    job=job, logid=logid, phase="complete", status="".join(["SUCC", "EEDED"]),
                    command="".join(["Start", "VMCmd"]), result="".join(["ok", "!"]))


def test_equal_values_of_many_facts_become_one_object_and_compare_as_before():
    table = ValueTable()
    facts = [table.share(_complete(1000 + i, i, f"{i:08x}")) for i in range(3)]
    assert facts[0].status == facts[2].status == "SUCCEEDED"
    assert facts[0].status is facts[1].status is facts[2].status
    assert facts[0].command is facts[2].command
    assert facts[0].logid is not facts[1].logid  # different values stay different
    assert table.shared == 6  # status, command and result of the second and third fact


def test_a_field_whose_values_rarely_repeat_is_no_longer_looked_up():
    table = ValueTable()
    for i in range(PROBE + 10):
        table.share(_complete(1000 + i, i, f"{i:08x}"))
    names = table.fields[AsyncJob]
    assert "logid" not in names and "text" not in names  # unique per line: the table would only grow
    assert "status" in names and "command" in names
    logids = {f"{i:08x}" for i in range(PROBE + 10)}
    assert len([v for v in table.values if v in logids]) == PROBE  # probed, then left alone


def test_tuples_equal_by_value_but_not_by_type_are_not_swapped():
    table = ValueTable()
    ints = PlannerDecision(path="ms.log", line=1, avoid_hosts=(1, 2))
    same = PlannerDecision(path="ms.log", line=2, avoid_hosts=tuple([1, 2]))
    bools = PlannerDecision(path="ms.log", line=3, avoid_hosts=(True, 2))
    for fact in (ints, same, bools):
        table.share(fact)
    assert same.avoid_hosts is ints.avoid_hosts
    assert bools.avoid_hosts is not ints.avoid_hosts and type(bools.avoid_hosts[0]) is bool


def test_a_join_key_naming_one_fact_joins_exactly_as_a_bucket_would():
    facts = [VmStateTransition(ts=T0 + timedelta(minutes=m), path="ms.log", line=m, job=j, to_state="Running")
             for m, j in ((0, 1), (10, 2), (20, 2), (30, 3))]
    timeless = VmStateTransition(path="free.txt", line=1, job=3)
    index = KindIndex(facts + [timeless], ("job",), Aliases(Identities.learn(facts)))
    at = (T0 + timedelta(minutes=9)).timestamp()
    assert index.joined([("job", 1)], at, 600.0) == [facts[0]]  # 9 minutes away, window 10
    assert index.joined([("job", 1)], at, 500.0) == []
    assert index.joined([("job", 2)], at, 600.0) == [facts[1]]
    assert index.joined([("job", 2)], None, None) == [facts[1], facts[2]]
    assert index.joined([("job", 3)], at, 60.0) == [timeless]  # a fact without a time joins regardless
    assert index.joined([("job", 1), ("job", 2)], at, 3600.0) == facts[:3]


def test_an_operation_adds_each_fact_once_before_and_after_it_keeps_an_id_set():
    op = Operation("start")
    facts = [_complete(7, i, "ab") for i in range(20)]
    for f in facts + facts[:3] + facts[15:]:
        op.add(f)
    assert op.facts == facts
    assert op.first == facts[0].ts and op.last == facts[-1].ts
    assert op.has(facts[19]) and not op.has(_complete(7, 1, "ab"))


def test_keys_behave_as_a_set_below_and_above_the_list_limit():
    keys = Keys([3, 1, 3])
    assert len(keys) == 2 and 3 in keys and 2 not in keys and keys == {1, 3}
    keys |= Keys(range(20))
    assert type(keys.items) is set and keys == set(range(20)) and sorted(keys) == list(range(20))
    assert set().union(Keys(["a"]), Keys(["b", "a"])) == {"a", "b"}
    assert not Keys()
