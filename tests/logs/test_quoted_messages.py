"""Messages quoted without their log header, and records without a time, are read as what they are.

Each mechanism is tested on a text the real-world corpus (tests/corpus) does not contain: CloudStack's or the
hypervisor's source wording, quoted the way operators quote it in tickets.
"""

from __future__ import annotations

from datetime import timezone

import pytest

from diagnostics.analysis import analyze_paths
from diagnostics.catalogue import load_catalogue
from diagnostics.logs.quoted import known_message, rule_patterns
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.sources.discover import discover


def _answer(tmp_path, text: str, name: str = "ticket.txt") -> tuple[set[str], str, dict]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = analyze_paths([str(path)], tz=timezone.utc).document
    named = {f["category"] for f in doc["findings"] if f["severity"] in ("warning", "critical") and not f.get("benign")}
    return named, doc["summary"]["status"], doc


def _records(text: str, message_records: bool = True):
    opts = ReadOptions(tz=timezone.utc, message_records=message_records)
    return list(read_records("<paste>", opts, LogStats("<paste>"), lines=text.splitlines()))


# -- a message a rule reads, quoted in prose ----------------------------------------------------------------------

def test_a_hypervisor_refusal_quoted_in_a_sentence_is_a_scale_rejection(tmp_path):
    # CitrixResourceBase's refusal of a live scale (catalogue xen.toml), quoted without its numbers
    named, status, _ = _answer(
        tmp_path, 'On our XCP-ng pool the scale fails with "Cannot scale up the vm because of memory constraint '
                  'violation" every time.\n')
    assert "scale_rejected" in named and status != "OK"


def test_the_cgroup_v2_weight_check_of_libvirt_quoted_in_prose_is_the_cpu_shares_limit(tmp_path):
    # libvirt vircgroupv2.c: "shares '%llu' must be in range [%llu, %llu]" (checked before systemd's CPUWeight)
    named, status, _ = _answer(tmp_path, "Start fails on Ubuntu 22.04 hosts: shares '24000' must be in range [1, 10000]\n")
    assert "libvirt_memory" in named and status != "OK"


def test_a_short_rule_alternative_does_not_make_a_sentence_a_record():
    catalogue = load_catalogue()
    assert rule_patterns(), "the built-in rules give text patterns"
    assert not known_message("we restarted the agent and the scale timed out again", catalogue)
    assert not known_message("Thanks, that fixed it for us.", catalogue)


def test_a_file_of_plain_prose_is_still_an_unknown_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("We upgraded last week.\nSince then the dashboard is slow.\n", encoding="utf-8")
    found = discover([str(path)])
    assert any("unknown format" in e for e in found.errors)


# -- the catalogue's messages, quoted as the API returns them ---------------------------------------------------

def test_a_quoted_message_without_its_final_full_stop_is_still_the_template():
    match = load_catalogue().match("Host does not have enough RAM available, cannot allocate to this host")
    assert match is not None and match.template.id == "capacity.host-does-not-have-enough-ram"


def test_a_reworded_limit_error_is_still_a_resource_limit(tmp_path):
    # ResourceLimitManagerImpl's domain limit, quoted with its numbers run together (no comma before 'Requested')
    named, status, _ = _answer(
        tmp_path, "Error:\nMaximum domain resource limits of Type 'memory' for Domain Id = 3 is exceeded: Domain "
                  "Resource Limit = 8192, Current Domain Resource Amount = 8192 Requested Resource Amount = 1024.\n")
    assert "resource_limit" in named and status != "OK"


def test_the_limit_check_that_passes_is_no_refusal(tmp_path):
    named, _, _ = _answer(
        tmp_path, "The log shows: Checking if amount of resources of Type = 'cpu' for Account Name = bob in Domain "
                  "Id = 1 is exceeded: Account Resource Limit = -1, Current Account Resource Amount = 2, Requested "
                  "Resource Amount = 1.\n")
    assert "resource_limit" not in named


# -- records without a time -------------------------------------------------------------------------------------

def test_an_elided_header_keeps_its_level_logger_and_job():
    recs = _records("… ERROR [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-8:ctx-9b1f3a2c job-2210/job-2211 "
                    "ctx-4c5d6e7f) (logid:9b1f3a2c) Unable to start VM on Host[-3-Routing]\n"
                    "... 12 more\n"
                    "... INFO  c.c.a.ApiServer bye\n")
    assert [(r.fmt, r.level, r.logger) for r in recs] == [
        ("elided", "ERROR", "c.c.v.VirtualMachineManagerImpl"), ("elided", "INFO", "c.c.a.ApiServer")]
    assert recs[0].jobs == (2210, 2211) and recs[0].logid == "9b1f3a2c" and recs[0].ts is None
    assert recs[0].extra == ["... 12 more"]  # a trace elision is no header


def test_the_python_logging_layout_of_setup_logs_is_a_header_generation():
    recs = _records("WARNING:root:libvirtd is not running\nCRITICAL:cloudutils:giving up\nERROR:root:boom\n")
    assert [(r.fmt, r.level, r.logger, r.message) for r in recs] == [
        ("python-logging", "WARN", "root", "libvirtd is not running"),
        ("python-logging", "FATAL", "cloudutils", "giving up"),
        ("python-logging", "ERROR", "root", "boom"),
    ]


def test_a_console_layout_line_after_prose_is_a_record():
    recs = _records("Here is the log:\n\nWARN  [c.c.a.m.AgentManagerImpl] (AgentTaskPool-1:ctx-1) (logid:1234abcd) "
                    "Something odd happened to host 5\n")
    loud = [r for r in recs if r.level == "WARN"]
    assert len(loud) == 1 and loud[0].logger == "c.c.a.m.AgentManagerImpl" and loud[0].thread == "AgentTaskPool-1"


def test_a_sentence_opening_with_a_level_word_is_no_record():
    recs = _records("INFO [docs] we changed the page\nERROR: the page is gone\n")
    assert all(r.level is None for r in recs)


def test_a_timestamped_log_does_not_read_timeless_records():
    """In a plain log a line such as `DEBUG:root:x` can only be a record's continuation (the fast path agrees)."""
    text = ("2024-06-11 09:14:52,331 INFO  [c.c.a.ApiServer] (qtp-1:ctx-1) (logid:1) output follows\n"
            "DEBUG:root:not a record here\n")
    recs = _records(text, message_records=False)
    assert len(recs) == 1 and recs[0].extra == ["DEBUG:root:not a record here"]


@pytest.mark.parametrize("name", ["setup.log", "console.txt"])
def test_the_setup_scripts_old_memory_check_is_a_host_resource_finding(tmp_path, name):
    # the wording of syscfg.py (sysConfigAgent.check: CloudRuntimeException("Need at least 1G memory")), in the
    # Python logging layout the setup scripts write
    named, status, doc = _answer(tmp_path, "DEBUG:root:execute:hostname -f\nDEBUG:root:Need at least 1G memory\n", name)
    assert "host_resource" in named and status != "OK", doc["findings"]
    assert any("no time" in n for i in doc["inputs"] for n in i.get("notes", []))



def test_a_quoted_message_in_prose_beside_a_fenced_record_is_kept(tmp_path):
    """A paste's prose blocks are set aside, except a line quoting a message csdiag knows: it is log material."""
    text = ("Deploy fails, the UI says \"Host does not have enough RAM available, cannot allocate to this host\".\n"
            "\n"
            "```\n"
            "2024-06-11 09:14:52,331 DEBUG [c.c.a.ApiServlet] (qtp-1:ctx-9b1f3a2c) (logid:9b1f3a2c) ===START===  "
            "127.0.0.1 -- GET  command=deployVirtualMachine&response=json\n"
            "```\n"
            "\n"
            "Any idea what else to check?\n")
    named, status, doc = _answer(tmp_path, text)
    assert "insufficient_capacity" in named and status != "OK", doc["findings"]
    assert any(e["line"] == 1 for f in doc["findings"] for e in f["evidence"])
