"""Evaluation: anchors, joins on shared keys inside a window, grouping of repeats, symptoms and benign marks."""

from __future__ import annotations

from pathlib import Path

from diagnostics.engine import evaluate, load_rules
from diagnostics.engine.evaluate import MAX_EVIDENCE
from tests.engine.conftest import EXAMPLES, T0, make_fact, rule_text


def one_rule(rules_dir, body: str, rule_id: str = "test.rule"):
    rules_dir(f"{rule_id}.toml", rule_text(rule_id, body=body))
    ruleset = load_rules()
    assert ruleset.errors == []
    return ruleset


SHORT = '''condition = 'capacity_check.outcome == "insufficient_ram" and capacity_check.free_ram < capacity_check.requested_ram'
message = "{host}: {capacity_check.free_ram|bytes} free, {capacity_check.requested_ram|bytes} requested"
remediation = ["ssh {host} free -g", "cmk list hosts id={capacity_check.host_id}"]
'''


def short_check(seconds: float, host_id: int = 4, host_name: str | None = "kvm01", line: int = 1, **kw):
    fields = dict(outcome="insufficient_ram", free_ram=14495514624, requested_ram=34359738368,
                  host_id=host_id, host_name=host_name, line=line, job=1310, work_job=1311, logid="0f1e2d3c")
    fields.update(kw)
    return make_fact("capacity_check", seconds, **fields)


def test_a_single_kind_rule_makes_a_finding_with_message_entities_evidence_and_remediation(rules_dir) -> None:
    ruleset = one_rule(rules_dir, SHORT)
    (finding,) = evaluate(ruleset, [short_check(0, text="Free RAM: (13.50 GB) 14495514624 , Requested RAM: ...")])
    assert finding.rule_id == "test.rule" and finding.category == "insufficient_capacity"
    assert finding.severity == "critical" and finding.confidence == 0.9 and finding.count == 1
    assert finding.message == "kvm01: 13.5 GiB free, 32.0 GiB requested"
    assert finding.remediation == ["ssh kvm01 free -g", "cmk list hosts id=4"]
    assert finding.entities["host"] == "kvm01" and finding.entities["host_id"] == 4
    assert finding.entities["job"] == 1310 and finding.entities["logid"] == "0f1e2d3c"
    assert finding.first_ts == finding.last_ts == T0
    assert [(e.path, e.line, e.text) for e in finding.evidence] == [
        ("management-server.log", 1, "Free RAM: (13.50 GB) 14495514624 , Requested RAM: ...")]


def test_non_matching_facts_make_no_finding(rules_dir) -> None:
    ruleset = one_rule(rules_dir, SHORT)
    assert evaluate(ruleset, [short_check(0, outcome="ok"), short_check(1, free_ram=64 * 2**30)]) == []


def test_repeats_on_the_same_entities_are_grouped_with_a_count(rules_dir) -> None:
    ruleset = one_rule(rules_dir, SHORT)
    facts = [short_check(60 * i, line=10 + i, job=1300 + i) for i in range(5)] + [short_check(30, host_id=7, host_name="kvm07", line=99)]
    findings = evaluate(ruleset, facts)
    by_host = {f.entities["host"]: f for f in findings}
    assert set(by_host) == {"kvm01", "kvm07"}
    grouped = by_host["kvm01"]
    assert grouped.count == 5
    assert grouped.first_ts == T0 and (grouped.last_ts - T0).total_seconds() == 240
    assert [e.line for e in grouped.evidence] == [10, 11, 12, 13, 14]
    assert grouped.entities["jobs"] == [1300, 1301, 1302, 1303, 1304]
    assert by_host["kvm07"].count == 1


def test_evidence_is_capped_but_the_count_is_not(rules_dir) -> None:
    ruleset = one_rule(rules_dir, SHORT)
    (finding,) = evaluate(ruleset, [short_check(i, line=i + 1) for i in range(MAX_EVIDENCE + 25)])
    assert finding.count == MAX_EVIDENCE + 25
    assert len(finding.evidence) == MAX_EVIDENCE


JOINED = '''condition = """
insufficient_capacity.resource == "compute"
  and capacity_check.outcome == "insufficient_ram"
"""
join = ["job", "logid"]
window = "5m"
message = "{insufficient_capacity.vm}: {capacity_check.host_name} short by {capacity_check.requested_ram|bytes}"
'''


def exception(seconds: float, **kw):
    fields = dict(resource="compute", scope="zone", scope_id=1, vm="i-2-42-VM", job=1310, work_job=1311, logid="0f1e2d3c",
                  line=500, exception="InsufficientServerCapacityException")
    fields.update(kw)
    return make_fact("insufficient_capacity", seconds, **fields)


def test_kinds_join_on_a_shared_key_within_the_window(rules_dir) -> None:
    ruleset = one_rule(rules_dir, JOINED)
    (finding,) = evaluate(ruleset, [short_check(-1), exception(0)])
    assert finding.message == "i-2-42-VM: kvm01 short by 32.0 GiB"
    assert finding.entities["vm"] == "i-2-42-VM" and finding.entities["host"] == "kvm01"
    assert [e.line for e in finding.evidence] == [1, 500]


def test_facts_outside_the_window_do_not_join(rules_dir) -> None:
    ruleset = one_rule(rules_dir, JOINED)
    assert evaluate(ruleset, [short_check(-301), exception(0)]) == []
    assert evaluate(ruleset, [short_check(299), exception(0)]) != []


def test_facts_sharing_no_join_key_do_not_join(rules_dir) -> None:
    ruleset = one_rule(rules_dir, JOINED)
    assert evaluate(ruleset, [short_check(-1, job=999, work_job=None, logid="ffffffff"), exception(0)]) == []
    # the work job of one side is the job of the other: they belong together
    assert evaluate(ruleset, [short_check(-1, job=None, work_job=1311, logid=None), exception(0, job=1311, work_job=None, logid=None)]) != []


def test_hosts_join_by_id_or_by_name_learnt_from_facts_that_carry_both(rules_dir) -> None:
    ruleset = one_rule(rules_dir, '''condition = "capacity_check.outcome == 'insufficient_ram' and host_memory.available < 8GiB"
join = ["host"]
window = "1h"
message = "{capacity_check.host_name}/{host_memory.host_name}: {host_memory.available|bytes} available"
''')
    memory = make_fact("host_memory", None, host_name="KVM01", available=2 * 2**30, path="kvm01/free.txt")
    by_id_only = short_check(0, host_name=None)
    identity = make_fact("host_identity", 5, host_id=4, host_name="kvm01")
    assert evaluate(ruleset, [by_id_only, memory]) == []  # nothing says host 4 is kvm01
    (finding,) = evaluate(ruleset, [by_id_only, memory, identity])
    assert finding.message == "not logged/KVM01: 2.0 GiB available"  # host output has no time: joins regardless
    assert finding.entities["host"] == "kvm01"


def test_no_and_count_see_only_joined_facts(rules_dir) -> None:
    ruleset = one_rule(rules_dir, '''condition = """agent_event.event == "disconnecting"
  and count(agent_event where agent_event.event == "disconnecting") >= 3
  and no(agent_event where agent_event.event == "tls_error")"""
join = ["host"]
window = "10m"
group_by = ["host"]
message = "{host} disconnected repeatedly"
''')
    storm = [make_fact("agent_event", 60 * i, event="disconnecting", host_id=4, line=i + 1) for i in range(4)]
    elsewhere = [make_fact("agent_event", 60 * i, event="disconnecting", host_id=9) for i in range(2)]
    (finding,) = evaluate(ruleset, storm + elsewhere)
    assert finding.entities["host"] == "4" and finding.count == 4
    spread = [make_fact("agent_event", 900 * i, event="disconnecting", host_id=4) for i in range(4)]
    assert evaluate(ruleset, spread) == []  # never 3 within 10 minutes of one another
    tls = make_fact("agent_event", 30, event="tls_error", host_id=4)
    assert evaluate(ruleset, storm + [tls]) == []


def test_a_bound_kind_with_nothing_joined_reads_as_null(rules_dir) -> None:
    ruleset = one_rule(rules_dir, '''condition = "capacity_check.outcome == 'insufficient_ram' and not libvirt_error"
window = "10m"
message = "{capacity_check.host_name} short; libvirt said {libvirt_error.message}"
''')
    (finding,) = evaluate(ruleset, [short_check(0)])
    assert finding.message == "kvm01 short; libvirt said not logged"
    assert evaluate(ruleset, [short_check(0), make_fact("libvirt_error", 5, host_id=4, message="x")]) == []


def test_symptoms_are_marked_only_when_the_cause_shares_an_entity(rules_dir) -> None:
    rules_dir("cause.toml", rule_text("test.cause", body='''condition = "start_failure.event == 'host_failed'"
message = "start failed on {host}"
'''))
    rules_dir("symptom.toml", rule_text("test.symptom", body='''condition = "insufficient_capacity.resource == 'compute'"
message = "no capacity for {vm}"
symptom_of = ["test.cause", "test.absent"]
'''))
    ruleset = load_rules()
    start = make_fact("start_failure", -5, event="host_failed", vm="i-2-42-VM", host_id=4, job=1311)
    findings = {f.rule_id: f for f in evaluate(ruleset, [start, exception(0)])}
    assert findings["test.symptom"].symptom_of == ["test.cause"]
    assert findings["test.cause"].symptom_of == []
    other_vm = make_fact("start_failure", -5, event="host_failed", vm="i-9-99-VM", host_id=9, job=7)
    findings = {f.rule_id: f for f in evaluate(ruleset, [other_vm, exception(0)])}
    assert findings["test.symptom"].symptom_of == []


def test_benign_rules_make_benign_findings_sorted_last(rules_dir) -> None:
    rules_dir("noise.toml", (rule_text("test.noise", body='''condition = "libvirt_error.signature == 'balloon_free_memory'"
message = "balloon noise"
benign = true
''')).replace('"critical"', '"info"'))
    rules_dir("real.toml", rule_text("test.real", body=SHORT))
    ruleset = load_rules()
    noise = make_fact("libvirt_error", 0, signature="balloon_free_memory", host_id=4)
    findings = evaluate(ruleset, [noise, short_check(10)])
    assert [(f.rule_id, f.benign) for f in findings] == [("test.real", False), ("test.noise", True)]


def test_large_fact_lists_are_evaluated_through_the_index(rules_dir) -> None:
    """Many hosts and jobs: every anchor finds its own partner and nobody else's."""
    ruleset = one_rule(rules_dir, JOINED)
    facts = []
    for i in range(3000):
        facts.append(short_check(i, host_id=i % 50, host_name=f"kvm{i % 50:02d}", job=10_000 + i, work_job=None, logid=f"{i:08x}"))
        facts.append(exception(i + 1, vm=f"i-2-{i}-VM", job=10_000 + i, work_job=None, logid=f"{i:08x}"))
    findings = evaluate(ruleset, facts)
    assert sum(f.count for f in findings) == 3000
    assert len(findings) == 3000  # one per VM: grouped by host and VM
    sample = next(f for f in findings if f.entities["vm"] == "i-2-123-VM")
    assert sample.entities["host"] == "kvm23"


def test_an_empty_fact_list_gives_nothing(tmp_path: Path, rules_dir) -> None:
    ruleset = one_rule(rules_dir, SHORT)
    assert evaluate(ruleset, []) == []
    assert EXAMPLES  # the rule file had its examples, so it loaded


def test_templates_fall_back_to_an_else_text_when_a_value_is_missing(rules_dir) -> None:
    ruleset = one_rule(rules_dir, '''condition = "capacity_check.outcome == 'insufficient_ram'"
message = "{vm|else:the VM} on {host|else:an unnamed host}: {capacity_check.used_ram|bytes|else:not logged} used, {capacity_check.free_ram|bytes}"
''')
    (finding,) = evaluate(ruleset, [short_check(0, host_id=None, host_name=None)])
    assert finding.message == "the VM on an unnamed host: not logged used, 13.5 GiB"


def test_a_rule_failing_at_run_time_is_skipped_and_reported(rules_dir) -> None:
    import dataclasses

    rules_dir("good.toml", rule_text("test.good", body=SHORT))
    rules_dir("bad.toml", rule_text("test.bad", body=SHORT))
    ruleset = load_rules()
    bad = next(r for r in ruleset.rules if r.id == "test.bad")

    def explode(env):
        raise ZeroDivisionError("simulated defect")

    broken = dataclasses.replace(bad, condition=dataclasses.replace(bad.condition, compiled=explode))
    ruleset.rules = [broken if r.id == "test.bad" else r for r in ruleset.rules]
    findings = evaluate(ruleset, [short_check(0)])
    assert [f.rule_id for f in findings] == ["test.good"]
    assert ruleset.errors == [f"{bad.path}:1:1: rule test.bad failed during evaluation and was skipped: "
                              "ZeroDivisionError: simulated defect"]


def test_one_incident_seen_from_agent_and_management_side_is_one_finding(rules_dir) -> None:
    ruleset = one_rule(rules_dir, '''condition = "libvirt_error.signature == 'guest_memory_alloc'"
message = "{host|else:a host} could not allocate memory"
''')
    agent_side = make_fact("libvirt_error", 0, signature="guest_memory_alloc", logid="6d7e8f90", path="kvm01/agent.log", line=7)
    management_side = make_fact("libvirt_error", 1, signature="guest_memory_alloc", logid="6d7e8f90", host_id=4,
                                host_name="kvm01", job=1400, line=90)
    unrelated = make_fact("libvirt_error", 2, signature="guest_memory_alloc", logid="ffff0000", host_name="kvm09",
                          path="kvm09/agent.log", line=3)
    findings = evaluate(ruleset, [agent_side, management_side, unrelated])
    merged = next(f for f in findings if f.entities.get("host") == "kvm01")
    assert merged.count == 2 and [e.path for e in merged.evidence] == ["kvm01/agent.log", "management-server.log"]
    assert merged.message == "kvm01 could not allocate memory"  # worded from the side that names the host
    assert merged.first_ts == T0  # but it starts with the agent's line
    assert sorted(f.count for f in findings) == [1, 2]  # the unrelated one stays apart
