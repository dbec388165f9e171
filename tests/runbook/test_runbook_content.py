"""The runbook as data: it covers the reference document, names only real rules, fact kinds and cmk verbs."""

from __future__ import annotations

import re
import string

import pytest

from diagnostics.engine import load_rules
from diagnostics.model import CATEGORIES
from diagnostics.runbook import RunbookError, available, fill, parse_runbook

PLACEHOLDERS = {"vm_id", "vm_name", "instance", "offering_id", "zone_id", "host", "host_id", "account", "domain_id"}
CMK_VERBS = {"list", "scale", "stop", "start", "change", "query", "update"}


def test_change_offering_is_shipped():
    assert "change-offering" in available()


def test_prerequisites_cover_the_reference_document(runbook):
    # the five prerequisites of the source document, plus resource limits from its hardening section
    ids = [c.id for c in runbook.section("prerequisite")]
    for wanted in ("management-api", "guest-tools", "dynamic-scaling-setting", "capacity", "privileges", "resource-limits"):
        assert wanted in ids


def test_six_steps_in_order_with_the_real_api_commands(runbook):
    steps = runbook.section("step")
    assert [s.title.split(".")[0] for s in steps] == ["1", "2", "3", "4", "5", "6"]
    commands = {s.id: " ".join(c.run for c in s.commands) for s in steps}
    assert "cmk scale virtualmachine id={vm_id} serviceofferingid={offering_id}" in commands["live-scale"]
    assert "cmk stop virtualmachine id={vm_id}" in commands["stop"]
    assert "cmk change serviceforvirtualmachine id={vm_id} serviceofferingid={offering_id}" in commands["change-offering"]
    assert "cmk start virtualmachine id={vm_id}" in commands["start"]
    assert {c.run for c in steps[-1].commands} >= {"lscpu", "free -m"}
    assert all(s.verify for s in steps), "every step says what to verify after it"


def test_troubleshooting_matrix_and_admin_desk(runbook):
    rows = {c.id for c in runbook.section("troubleshooting")}
    assert {"insufficient-capacity", "libvirt-limits", "host-health", "agent-link"} <= rows
    questions = [q.question for q in runbook.questions]
    assert any("Insufficient Capacity" in q for q in questions)
    assert any("downgrade" in q and "running" in q for q in questions)
    assert any("NIC" in q for q in questions)
    assert any("lose data" in q for q in questions)


def test_every_rule_named_exists_in_the_catalogue(runbook):
    catalogue = {r.id for r in load_rules().rules}
    named = set()
    for check in runbook.checks:
        named.update(check.fail_rules, check.ignore_rules)
    for question in runbook.questions:
        named.update(question.related_rules)
    assert named - catalogue == set()
    for check in runbook.checks:
        assert set(check.fail_categories) <= set(CATEGORIES), check.id


def test_every_alarming_rule_fails_some_check(runbook):
    """A failure mode the catalogue knows must show up in the runbook as a failed check, not only as a stray finding."""
    uncovered = []
    for rule in load_rules().rules:
        if rule.benign or rule.severity == "info":
            continue
        if "{" in rule.category:  # category taken from the fact (catalogue.failure-template): assess maps the finding's
            continue              # own category at run time, so no static check can name the rule
        if not any((rule.id in c.fail_rules or rule.category in c.fail_categories) and rule.id not in c.ignore_rules
                   for c in runbook.checks):
            uncovered.append(rule.id)
    assert uncovered == []


def test_commands_are_real_cmk_calls_with_known_placeholders(runbook):
    for check in runbook.checks:
        for cmd in check.commands:
            fields = {name for _, name, _, _ in string.Formatter().parse(cmd.run) if name}
            assert fields <= PLACEHOLDERS, (check.id, cmd.run)
            if cmd.on == "api":
                words = cmd.run.split()
                assert words[0] == "cmk" and words[1] in CMK_VERBS, cmd.run
                assert all("=" in w for w in words[3:]), cmd.run  # cmk takes key=value arguments only
        for text in check.verify:
            fill(text, {})  # every template renders
    for q in runbook.questions:
        fill(q.answer, {})


def test_filled_commands_quote_values_taken_from_evidence():
    template = "virsh dominfo {instance}"
    assert fill(template, {"instance": "i-2-42-VM"}) == "virsh dominfo i-2-42-VM"
    assert fill(template, {"instance": "i-2-42-VM; reboot"}) == "virsh dominfo 'i-2-42-VM; reboot'"
    assert fill("cmk stop virtualmachine id={vm_id}", {}) == "cmk stop virtualmachine id=<vm-id>"


MINIMAL = '''
id = "x"
title = "X"
[[check]]
id = "a"
section = "step"
title = "A"
why = "because"
'''


@pytest.mark.parametrize("extra, message", [
    ('colour = "red"\n', "unknown key(s) colour"),
    ('pass_when = ["capacity_check.outcom == 1"]\n', "check 'a': pass_when"),
    ('pass_when = ["no_such_kind.field == 1"]\n', "check 'a': pass_when"),
    ('incident_step = "reboot"\n', "incident_step must be one of"),
    ('commands = [{ on = "moon", run = "x" }]\n', "each command is"),
    ('fail_rules = "scaling.same-offering"\n', "fail_rules must be a list"),
])
def test_a_broken_runbook_is_refused_naming_the_check(extra, message):
    with pytest.raises(RunbookError, match=re.escape(message)):
        parse_runbook(MINIMAL + extra, path="broken.toml")


def test_a_broken_runbook_names_its_file():
    with pytest.raises(RunbookError, match="broken.toml"):
        parse_runbook("id = ", path="broken.toml")
    with pytest.raises(RunbookError, match="duplicate check ids a"):
        parse_runbook(MINIMAL + MINIMAL[MINIMAL.index("[[check]]"):], path="broken.toml")
