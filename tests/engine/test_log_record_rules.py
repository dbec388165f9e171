"""Rules over the generic `log_record` fact: an operator's own rule from their own folder, literal-derived interest,
the generic catalogue rule (one finding per failure template, never for benign ones, never twice)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from diagnostics.catalogue import load_catalogue
from diagnostics.engine import evaluate, load_rules
from diagnostics.engine.loader import build_rule
from diagnostics.facts import facts_from_text
from diagnostics.logs.interest import interest_for

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "rules" / "README.md"
HDR = "2025-03-10 15:21:0{s},100 {level} [c.c.n.r.VirtualNetworkApplianceManagerImpl] (RouterStatusMonitor-1:[ctx-1a2b3c4d]) (logid:1a2b3c4d) "
# CapacityManagerImpl / FirstFitAllocator (4.20): logger.info(String.format("Host {id: %s, name: %s, uuid: %s} already
# reached max Running VMs(count includes system VMs), limit: %d, running VM count: %s", ...)) -- an INFO record.
MAX_VMS = ("2025-03-10 15:30:00,001 INFO  [c.c.a.m.a.i.FirstFitAllocator] (Work-Job-Executor-2:[ctx-5e6f7a8b, job-88/job-89, "
           "ctx-6f7a8b9c]) (logid:5e6f7a8b) Host {id: 4, name: kvm01, uuid: 0b6e1c2a-5d3f-4e8a-9b7c-1d2e3f4a5b6c} already "
           "reached max Running VMs(count includes system VMs), limit: 50, running VM count: 50")
START_FAILED = ("2024-06-11 09:14:52,331 INFO  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-8:ctx-9b1f3a2c job-2210/job-2211 "
                "ctx-4c5d6e7f) (logid:9b1f3a2c) Unable to start VM on Host[-3-Routing] due to Unable to start instance due to "
                "Unable to start VM:56b7c1f2-8a3e-4e1d-9f0a-2b3c4d5e6f70 due to error in finalizeStart, not retrying")


def operator_rule() -> str:
    """The rule shown in rules/README.md, taken from there so the documentation cannot drift."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("### A rule of your own"):]
    return re.search(r"```\n(id = .*?)```", block, re.S).group(1)


def csdiag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CSDIAG_RULES_DIR"}
    env.update(NO_COLOR="1", PYTHONPATH=str(ROOT))  # this checkout's code, run from a folder outside it
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_an_operators_rule_in_their_own_folder_passes_its_examples_and_raises_its_finding(tmp_path):
    rules = tmp_path / "site-rules"
    rules.mkdir()
    (rules / "gateway.toml").write_text(operator_rule(), encoding="utf-8")
    log = tmp_path / "management-server.log"
    log.write_text(HDR.format(s=1, level="INFO ") + "Router r-12-VM is alive\n"
                   + HDR.format(s=2, level="WARN ") + "gateway gw01 refused the health check\n", encoding="utf-8")
    assert not str(tmp_path).startswith(str(ROOT))

    tested = csdiag("rules", "test", "--rules", str(rules), "site.gateway-refused", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed, 0 failed" in tested.stdout

    analysed = csdiag("analyze", "--rules", str(rules), "--format", "json", "--tz", "UTC", str(log), cwd=tmp_path)
    doc = json.loads(analysed.stdout)
    found = [f for f in doc["findings"] if f["rule"] == "site.gateway-refused"]
    assert len(found) == 1 and found[0]["category"] == "network" and found[0]["count"] == 1
    assert "refused the health check" in found[0]["message"]
    assert any(str(e).endswith(":2") or (isinstance(e, dict) and e.get("line") == 2) for e in found[0]["evidence"])


def test_a_rules_literal_text_makes_an_info_record_a_log_record(tmp_path):
    rule_text = '''id = "site.max-running-vms"
title = "A host is full by VM count"
category = "insufficient_capacity"
severity = "warning"
confidence = 0.8
condition = 'log_record.message contains "already reached max Running VMs"'
message = "{log_record.message|short}"
[[example]]
expect = "match"
log = """%s"""
[[example]]
expect = "no-match"
log = """%s"""
''' % (MAX_VMS, MAX_VMS.replace("already reached", "has not reached"))
    rule = build_rule(__import__("tomllib").loads(rule_text), rule_text, "site.toml")
    plain = facts_from_text(MAX_VMS)
    assert [f for f in plain if f.kind == "log_record"] == []  # an INFO record nobody asked about costs nothing
    wanted = facts_from_text(MAX_VMS, interest=interest_for([rule]))
    (record,) = [f for f in wanted if f.kind == "log_record"]
    assert record.level == "INFO" and record.side == "management" and record.job == 88 and record.logid == "5e6f7a8b"
    assert [f.rule_id for f in evaluate([rule], wanted)] == ["site.max-running-vms"]


def test_regex_literals_feed_the_interest_and_a_literal_free_condition_reads_everything():
    def interest(condition: str):
        text = f'''id = "site.x"
title = "x"
category = "other"
severity = "info"
confidence = 0.5
condition = '{condition}'
message = "x"
[[example]]
expect = "match"
log = "x"
[[example]]
expect = "no-match"
log = "y"
'''
        return interest_for([build_rule(__import__("tomllib").loads(text), text, "x.toml")])

    got = interest(r"log_record.message matches /gateway \w+ refused|connection (reset|closed) by peer/i")
    assert {("gateway ", True), ("connection ", True)} <= set(got.literals) and not got.everything
    assert interest('log_record.level in ["WARN", "ERROR"] and log_record.logger == "x"').everything is False
    assert interest('"LibvirtException" in log_record.exceptions').everything is False
    assert interest('log_record.level == "DEBUG"').everything is True


def test_the_generic_rule_reports_each_failure_template_once_in_its_category():
    facts = facts_from_text(START_FAILED + "\n" + START_FAILED.replace("-3-", "-4-").replace("52,331", "58,001"))
    generic = load_rules().get("catalogue.failure-template")
    (finding,) = evaluate([generic], facts)
    assert finding.category == "start_failed" and finding.severity == "warning" and finding.count == 2
    assert finding.first_ts < finding.last_ts and [e.line for e in finding.evidence] == [1, 2]


def test_the_generic_rule_stays_silent_where_a_specific_rule_explains_the_record():
    facts = facts_from_text(START_FAILED)
    findings = evaluate(load_rules(), facts)
    rules = {f.rule_id for f in findings}
    assert "catalogue.failure-template" not in rules and rules, rules  # start.* explains the same line


def test_benign_templates_never_give_a_warning(tmp_path):
    (tmp_path / "benign.toml").write_text('''[[message]]
id = "test.benign-retry"
class = "com.cloud.vm.VirtualMachineManagerImpl"
level = "WARN"
template = "Retrying the start of {vm:vm} on another host"
relevance = "benign"
category = "start_failed"
''', encoding="utf-8")
    catalogue = load_catalogue((str(tmp_path),))
    text = ("2024-06-11 09:14:52,331 WARN  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-8:ctx-9b1f3a2c job-2210/job-2211 "
            "ctx-4c5d6e7f) (logid:9b1f3a2c) Retrying the start of i-2-57-VM on another host")
    facts = facts_from_text(text, interest=interest_for((), catalogue))
    (record,) = [f for f in facts if f.kind == "log_record"]
    assert record.template == "test.benign-retry" and record.relevance == "benign"
    assert not [f for f in evaluate(load_rules(), facts) if f.severity in ("warning", "critical")]
