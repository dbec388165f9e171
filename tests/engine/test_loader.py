"""Loading rule files: good ones load, broken ones are reported as file:line:col and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.engine import load_rule_file, load_rules
from tests.engine.conftest import EXAMPLES, RULE_HEAD, rule_text


def only_error(ruleset) -> str:
    assert len(ruleset.errors) == 1, ruleset.errors
    return ruleset.errors[0]


def test_a_valid_rule_loads_with_all_its_parts(rules_dir) -> None:
    rules_dir("capacity/host-ram-short.toml", rule_text("capacity.host-ram-short", body='''
condition = """
capacity_check.outcome == "insufficient_ram"
  and capacity_check.free_ram < capacity_check.requested_ram"""
join = ["host", "job"]
window = "10m"
group_by = ["host"]
message = "{host} has {capacity_check.free_ram|bytes} free"
remediation = ["free -g on {host}"]
references = ["https://github.com/apache/cloudstack/issues/1"]
symptom_of = ["libvirt.start-memory"]
benign = false
'''))
    ruleset = load_rules()
    assert ruleset.errors == []
    (rule,) = ruleset.rules
    assert rule.id == "capacity.host-ram-short"
    assert rule.condition.anchor == "capacity_check"
    assert rule.join == ("host", "job") and rule.window == 600.0 and rule.group_by == ("host",)
    assert rule.remediation == ("free -g on {host}",)
    assert rule.symptom_of == ("libvirt.start-memory",)
    assert [e.expect for e in rule.examples] == ["match", "no-match"]
    assert [e.line for e in rule.examples] == [19, 23]


def test_toml_syntax_error_is_reported_at_its_line_and_column_and_other_rules_still_load(rules_dir) -> None:
    rules_dir("a/good.toml", rule_text("test.good"))
    broken = rules_dir("a/broken.toml", 'id = "test.broken"\ntitle = "x"\ncategory "other"\n')
    ruleset = load_rules()
    assert [r.id for r in ruleset.rules] == ["test.good"]
    assert only_error(ruleset).startswith(f"{broken}:3:10: TOML syntax: Expected '=' after a key")


def test_condition_error_points_into_a_multiline_condition(rules_dir) -> None:
    path = rules_dir("x.toml", rule_text(body='''condition = """
capacity_check.outcome == "insufficient_ram"
   and capacity_check.fre_ram < 4GiB"""
message = "m"
'''))
    error = only_error(load_rules())
    assert error.startswith(f"{path}:8:8: condition: unknown field 'fre_ram' of fact kind 'capacity_check'")


def test_condition_error_on_a_single_line_condition(rules_dir) -> None:
    path = rules_dir("x.toml", rule_text(body='condition = "capacity_check.free_ram < 4GiB and capacity_chek"\nmessage = "m"\n'))
    assert only_error(load_rules()).startswith(f"{path}:6:49: condition: unknown fact kind 'capacity_chek'")


def test_bad_regex_is_reported_at_the_offending_character(rules_dir) -> None:
    path = rules_dir("x.toml", rule_text(body="condition = 'libvirt_error.message matches /maxMemory(/'\nmessage = \"m\"\n"))
    assert only_error(load_rules()) == f"{path}:6:54: condition: bad regex: missing ), unterminated subpattern"


def test_syntax_error_in_condition(rules_dir) -> None:
    path = rules_dir("x.toml", rule_text(body="condition = 'capacity_check.free_ram <'\nmessage = \"m\"\n"))
    assert only_error(load_rules()).startswith(f"{path}:6:38: condition: syntax error")


@pytest.mark.parametrize(
    ("examples", "missing"),
    [
        ("", 'a positive example (expect = "match") and a negative example (expect = "no-match") is missing'),
        (EXAMPLES.split("[[example]]")[0] + "[[example]]" + EXAMPLES.split("[[example]]")[1], "a negative example"),
        ("\n[[example]]" + EXAMPLES.split("[[example]]")[2], 'a positive example (expect = "match") is missing'),
    ],
)
def test_a_rule_without_positive_and_negative_examples_is_refused(rules_dir, examples: str, missing: str) -> None:
    path = rules_dir("x.toml", rule_text(examples=examples))
    error = only_error(load_rules())
    assert error.startswith(f"{path}:1:1: refused: every rule needs a positive and a negative example")
    assert missing in error


@pytest.mark.parametrize(
    ("body", "position", "message"),
    [
        ('condition = "capacity_check"\nmessage = "m"\ncolour = "red"\n', "8:1", "unknown key 'colour'"),
        ('condition = "capacity_check"\n', "1:1", "missing required key 'message'"),
        ('condition = "capacity_check"\nmessage = "m"\nwindow = "10 parsecs"\n', "8:1", "not a duration"),
        ('condition = "capacity_check"\nmessage = "m"\njoin = ["rack"]\n', "8:1", "unknown join key 'rack'"),
        ('condition = "capacity_check"\nmessage = "m"\nbenign = "yes"\n', "8:1", "'benign' must be true or false"),
        ('condition = "capacity_check.free_ram < 1GiB and no(libvirt_error)"\nmessage = "m"\n', "6:1",
         "name a time window"),
        ('condition = "capacity_check"\nmessage = "{capacity_check.free_ram|gigs}"\n', "7:1", "unknown formatter 'gigs'"),
        ('condition = "capacity_check"\nmessage = "{libvirt_error.message}"\n', "7:1", "does not bind"),
        ('condition = "capacity_check"\nmessage = "m"\nremediation = ["virsh dominfo {vm_name}"]\n', "8:1",
         "unknown placeholder {vm_name}"),
    ],
)
def test_invalid_rule_keys_are_reported_where_they_are(rules_dir, body: str, position: str, message: str) -> None:
    path = rules_dir("x.toml", rule_text(body=body))
    error = only_error(load_rules())
    assert error.startswith(f"{path}:{position}: "), error
    assert message in error


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (RULE_HEAD.replace('"insufficient_capacity"', '"capacity"'), "unknown category 'capacity'"),
        (RULE_HEAD.replace('"critical"', '"fatal"'), "unknown severity 'fatal'"),
        (RULE_HEAD.replace("0.9", "1.5"), "confidence must be between 0 and 1"),
        (RULE_HEAD.replace('"{id}"', '"NoDots"'), "rule id 'NoDots' must look like area.name"),
    ],
)
def test_vocabulary_is_enforced(rules_dir, head: str, message: str) -> None:
    rules_dir("x.toml", head.format(id="test.rule") + 'condition = "capacity_check"\nmessage = "m"\n' + EXAMPLES)
    assert message in only_error(load_rules())


def test_hand_made_facts_are_refused_for_kinds_a_parser_produces(rules_dir) -> None:
    rules_dir("x.toml", rule_text(examples=EXAMPLES + '\n[[example]]\nexpect = "match"\n[[example.fact]]\nkind = "capacity_check"\nfree_ram = 1\n'))
    assert "capacity_check facts must come from real input" in only_error(load_rules())


def test_duplicate_ids_keep_the_first_and_report_the_second(rules_dir) -> None:
    rules_dir("a.toml", rule_text("test.same"))
    second = rules_dir("b.toml", rule_text("test.same"))
    ruleset = load_rules()
    assert [r.path for r in ruleset.rules] == [str(rules_dir.root / "a.toml")]
    assert only_error(ruleset).startswith(f"{second}:1:1: duplicate rule id 'test.same'")


def test_non_utf8_and_binary_files_are_reported_not_fatal(rules_dir) -> None:
    path = rules_dir.root / "latin1.toml"
    path.write_bytes(b'id = "test.x"\ntitle = "caf\xe9"\n')
    rules_dir("ok.toml", rule_text("test.ok"))
    ruleset = load_rules()
    assert [r.id for r in ruleset.rules] == ["test.ok"]
    assert only_error(ruleset) == f"{path}:2:13: not UTF-8 text"


def test_empty_file_is_reported(rules_dir) -> None:
    path = rules_dir("empty.toml", "")
    assert only_error(load_rules()) == f"{path}:1:1: missing required key 'id'"


def test_extra_rule_folders_are_added_and_a_missing_one_is_reported(rules_dir, tmp_path: Path) -> None:
    rules_dir("builtin.toml", rule_text("test.builtin"))
    own = tmp_path / "site-rules"
    (own / "site").mkdir(parents=True)
    (own / "site" / "mine.toml").write_text(rule_text("site.mine"), encoding="utf-8")
    ruleset = load_rules([str(own), str(tmp_path / "nowhere")])
    assert [r.id for r in ruleset.rules] == ["test.builtin", "site.mine"]
    assert only_error(ruleset) == f"{tmp_path / 'nowhere'}:1:1: rules folder not found"


def test_the_builtin_folder_is_the_repository_rules_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    import diagnostics
    from diagnostics.engine import builtin_rules_dir

    monkeypatch.delenv("CSDIAG_RULES_DIR", raising=False)
    assert builtin_rules_dir() == Path(diagnostics.__file__).resolve().parent.parent / "rules"


def test_load_rule_file_reads_one_file(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text(rule_text("test.one"), encoding="utf-8")
    assert load_rule_file(path).id == "test.one"


def test_examples_can_carry_api_answers_read_by_the_api_parser(rules_dir) -> None:
    from diagnostics.engine.examples import run_examples

    rules_dir("api.toml", RULE_HEAD.format(id="test.api") + '''condition = "api_host.memory_allocated > 512"
message = "{host} has {api_host.memory_allocated} allocated"

[[example]]
expect = "match"
api = \'\'\'
command=listHosts&type=Routing
{"listhostsresponse": {"count": 1, "host": [{"name": "kvm01", "memoryallocated": 1024}]}}
\'\'\'
message_contains = ["kvm01 has 1024 allocated"]

[[example]]
expect = "no-match"
api = \'\'\'
{"listhostsresponse": {"count": 1, "host": [{"name": "kvm01", "memoryallocated": 256}]}}
\'\'\'
''')
    ruleset = load_rules()
    assert ruleset.errors == []
    results = run_examples(ruleset)
    assert [(r.expect, r.passed) for r in results] == [("match", True), ("no-match", True)], [r.reason for r in results]
