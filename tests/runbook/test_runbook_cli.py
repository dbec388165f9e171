"""`csdiag runbook change-offering` as an operator runs it: formats, marks, exit codes, bad input."""

from __future__ import annotations

import json
import re

from runbook_samples import SAMPLES, run_csdiag

ANSI = re.compile(r"\x1b\[")


def test_plain_runbook_without_evidence(runbook):
    done = run_csdiag("runbook", "change-offering")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for check in runbook.checks:
        assert check.title in done.stdout
    assert "cmk scale virtualmachine id=<vm-id> serviceofferingid=<offering-id>" in done.stdout
    assert "PASSED" not in done.stdout and "FAILED" not in done.stdout
    assert not ANSI.search(done.stdout)


def test_plain_runbook_as_markdown_is_an_unticked_checklist(runbook):
    done = run_csdiag("runbook", "change-offering", "--format", "markdown")
    assert done.returncode == 0
    boxes = re.findall(r"^- \[( |x)\] ", done.stdout, re.M)
    assert len(boxes) == len(runbook.checks) and set(boxes) == {" "}
    assert "## Admin desk" in done.stdout
    # prose is escaped so a renderer shows <maxMemory ...> instead of swallowing it as HTML; code spans stay verbatim
    assert "&lt;maxMemory slots='16' ...&gt;" in done.stdout
    assert "`cmk list configurations name=enable.dynamic.scale.vm zoneid=<zone-id> filter=name,value,scope`" in done.stdout


def test_dynamic_scaling_disabled_text(analysed):
    analysis, _ = analysed("scale-dynamic-disabled")
    fid = next(f["id"] for f in analysis.document["findings"] if f["rule"] == "scaling.dynamic-scaling-disabled")
    done = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", str(SAMPLES / "scale-dynamic-disabled"))
    assert done.returncode == 1, done.stderr  # a failed warning-level check
    line = next(l for l in done.stdout.splitlines() if "enable.dynamic.scale.vm is true" in l)
    assert line.strip().startswith("FAILED")
    assert f"{fid} scaling.dynamic-scaling-disabled" in done.stdout
    assert not ANSI.search(done.stdout)  # NO_COLOR respected
    # commands come with the VM's ids from the evidence, ready to copy
    assert re.search(r"cmk scale virtualmachine id=[0-9a-f-]{36} serviceofferingid=[0-9a-f-]{36}", done.stdout)


def test_dynamic_scaling_disabled_markdown_and_json(analysed):
    analysis, _ = analysed("scale-dynamic-disabled")
    fid = next(f["id"] for f in analysis.document["findings"] if f["rule"] == "scaling.dynamic-scaling-disabled")
    md = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", "-f", "markdown", str(SAMPLES / "scale-dynamic-disabled"))
    assert md.returncode == 1
    failed = [l for l in md.stdout.splitlines() if l.startswith("- [ ] **FAILED")]
    assert any("enable.dynamic.scale.vm" in l for l in failed)
    assert f"Failed by **{fid}** `scaling.dynamic-scaling-disabled`" in md.stdout
    assert re.search(r"^- \[x\] \*\*passed\*\* ", md.stdout, re.M)
    js = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", "-f", "json", str(SAMPLES / "scale-dynamic-disabled"))
    doc = json.loads(js.stdout)
    check = next(c for c in doc["checks"] if c["id"] == "dynamic-scaling-setting")
    assert check["status"] == "failed" and [f["id"] for f in check["findings"]] == [fid]
    assert doc["status"] == "WARNING" and doc["schema"] == "csdiag-runbook/v1"


def test_healthy_scale_exit_0_nothing_failed():
    done = run_csdiag("runbook", "change-offering", "-f", "json", str(SAMPLES / "healthy-scale"))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["counts"]["failed"] == 0 and doc["counts"]["passed"] > 0
    assert doc["status"] == "OK"


def test_critical_failure_exits_2():
    done = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", "-f", "json", str(SAMPLES / "stale-capacity-start"))
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert any(c["status"] == "failed" and c["level"] == "critical" for c in doc["checks"])


def test_bad_evidence_one_line_each_and_the_rest_still_judged(tmp_path):
    binary = tmp_path / "agent.log"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "management-server.log"
    empty.write_bytes(b"")
    latin1 = tmp_path / "free.txt"
    latin1.write_bytes("Mem:  total  \xe9\xe8 used\n".encode("latin-1"))
    missing = tmp_path / "gone.log"
    done = run_csdiag("runbook", "change-offering", str(missing), str(binary), str(empty), str(latin1))
    assert done.returncode == 3  # nothing failed, but the evidence is incomplete
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    for path in (missing, binary, empty):
        assert sum(str(path) in l for l in lines) == 1, done.stderr
    assert all(l.startswith("csdiag: ") for l in lines)
    assert "Runbook: Change a VM's offering" in done.stdout


def test_bad_evidence_beside_a_real_failure_still_reports_the_failure(tmp_path):
    broken = tmp_path / "capture.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 7)  # pcap magic, header cut short
    done = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", "-f", "json",
                      str(SAMPLES / "scale-dynamic-disabled"), str(broken))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and str(broken) in done.stderr
    doc = json.loads(done.stdout)
    assert doc["errors"] and any(str(broken) in e for e in doc["errors"])


def test_unknown_vm_and_bad_format():
    done = run_csdiag("runbook", "change-offering", "--vm", "i-9-999-VM", str(SAMPLES / "healthy-scale"))
    assert done.returncode == 3
    assert "i-9-999-VM does not appear in the evidence" in done.stderr
    bad = run_csdiag("runbook", "change-offering", "--format", "yaml")
    assert bad.returncode == 3 and "--format must be one of: text, markdown, json" in bad.stderr


def test_heartbeat_captures_decide_the_agent_link_row():
    # the recorded captures ping every 2 s (see samples/captures/README.md), so the cut-off is 2 x 2.5 = 5 s
    verdicts = {}
    for name in ("heartbeat-healthy", "heartbeat-gap"):
        done = run_csdiag("runbook", "change-offering", "-f", "json", "--ping-interval", "2",
                          str(SAMPLES / "captures" / f"{name}.pcap"))
        doc = json.loads(done.stdout)
        verdicts[name] = (done.returncode, next(c for c in doc["checks"] if c["id"] == "agent-link"))
    assert verdicts["heartbeat-healthy"][0] == 0 and verdicts["heartbeat-healthy"][1]["status"] == "passed"
    code, row = verdicts["heartbeat-gap"]
    assert code == 2 and row["status"] == "failed" and row["level"] == "critical"
    assert [f["rule"] for f in row["findings"]] == ["connectivity.heartbeat-gap"]


GUEST_DMESG = """\
[    0.000000] Linux version 5.15.0-105-generic (buildd@lcy02-amd64-007) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024 (Ubuntu 5.15.0-105.115-generic 5.15.149)
[    0.000000] Built 1 zonelists, mobility grouping on.  Total pages: 1015821
[ 7210.118442] Built 1 zonelists, mobility grouping on.  Total pages: 2064397
"""


def test_guest_dmesg_named_after_the_vm_passes_step_6(tmp_path):
    """The kernel rebuilt its zonelists with more pages after the live scale: the guest onlined the new memory."""
    statuses = {}
    for folder in ("i-2-42-VM", "i-3-77-VM"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "dmesg.txt").write_text(GUEST_DMESG)
        done = run_csdiag("runbook", "change-offering", "--vm", "i-2-42-VM", "-f", "json",
                          str(SAMPLES / "healthy-scale"), str(tmp_path / folder))
        assert done.returncode == 0, done.stderr
        statuses[folder] = next(c for c in json.loads(done.stdout)["checks"] if c["id"] == "verify-guest")["status"]
    assert statuses == {"i-2-42-VM": "passed", "i-3-77-VM": "unknown"}
