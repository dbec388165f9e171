"""`csdiag rules list|show|test` as an operator runs them: real process, real rule files, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = ("2025-03-10 15:11:55,713 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) "
         "(logid:0f1e2d3c) Checking if host: Host {\"id\":4,\"uuid\":\"0b6e1c2a-5d3f-4e8a-9b7c-1d2e3f4a5b6c\",\"name\":\"kvm01\",\"type\":\"Routing\"} "
         "has enough capacity for requested CPU: 16000 and requested RAM: (32.00 GB) 34359738368 , cpuOverprovisioningFactor: 2.0\n"
         "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) "
         "(logid:0f1e2d3c) Free CPU: 88000 , Requested CPU: 16000\n"
         "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) "
         "(logid:0f1e2d3c) Free RAM: (13.50 GB) 14495514624 , Requested RAM: (32.00 GB) 34359738368\n"
         "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) "
         "(logid:0f1e2d3c) Host does not have enough {what} available, cannot allocate to this host.\n")


def rule_file(rule_id: str, positive: str = "RAM", negative: str = "CPU", count: int | None = None) -> str:
    count_line = f"count = {count}\n" if count else ""
    return f'''id = "{rule_id}"
title = "RAM short"
category = "insufficient_capacity"
severity = "warning"
confidence = 0.9
condition = 'capacity_check.outcome == "insufficient_ram"'
message = "{{host}} is short of RAM"

[[example]]
expect = "match"
{count_line}log = """
{CHECK.replace("{what}", positive)}"""

[[example]]
expect = "no-match"
log = """
{CHECK.replace("{what}", negative)}"""
'''


def csdiag(*args: str, rules_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CSDIAG_RULES_DIR"}
    env["NO_COLOR"] = "1"
    if rules_dir is not None:
        env["CSDIAG_RULES_DIR"] = str(rules_dir)
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    (root / "capacity").mkdir(parents=True)
    (root / "capacity" / "ram.toml").write_text(rule_file("site.ram-short"), encoding="utf-8")
    return root


def test_list_shows_the_builtin_catalogue() -> None:
    run = csdiag("rules", "list")
    assert run.returncode == 0, run.stderr
    assert "capacity.host-ram-short" in run.stdout and "insufficient_capacity" in run.stdout
    assert "libvirt.balloon-free-memory" in run.stdout and "info benign" in run.stdout


def test_show_prints_the_rule_and_an_unknown_id_is_one_line(site: Path) -> None:
    run = csdiag("rules", "show", "site.ram-short", rules_dir=site)
    assert run.returncode == 0, run.stderr
    assert 'condition:   capacity_check.outcome == "insufficient_ram"' in run.stdout
    assert "1. match (line 9)" in run.stdout
    missing = csdiag("rules", "show", "site.nope", rules_dir=site)
    assert missing.returncode == 3
    assert missing.stderr.strip() == "csdiag: no rule with id 'site.nope' (see: csdiag rules list)"


def test_test_passes_with_exit_0(site: Path) -> None:
    run = csdiag("rules", "test", rules_dir=site)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS site.ram-short example 1 (match)" in run.stdout
    assert "2 passed, 0 failed, 0 broken rule files" in run.stdout


def test_a_failing_example_exits_1_and_says_why(site: Path) -> None:
    (site / "capacity" / "wrong.toml").write_text(rule_file("site.wrong", positive="CPU", negative="RAM"), encoding="utf-8")
    run = csdiag("rules", "test", rules_dir=site)
    assert run.returncode == 1
    assert "FAIL site.wrong example 1 (match)" in run.stdout and "expected a finding, got none" in run.stdout
    assert "FAIL site.wrong example 2 (no-match)" in run.stdout and "expected no finding, got 1" in run.stdout
    only = csdiag("rules", "test", "site.ram-short", rules_dir=site)
    assert only.returncode == 0 and "site.wrong" not in only.stdout


def test_a_wrong_count_fails(site: Path) -> None:
    (site / "capacity" / "ram.toml").write_text(rule_file("site.ram-short", count=2), encoding="utf-8")
    run = csdiag("rules", "test", rules_dir=site)
    assert run.returncode == 1 and "expected count 2, got 1" in run.stdout


def test_a_broken_rule_file_is_reported_skipped_and_exits_3(site: Path) -> None:
    broken = site / "capacity" / "broken.toml"
    broken.write_text(rule_file("site.broken").replace('capacity_check.outcome ==', "capacity_check.outcom =="), encoding="utf-8")
    run = csdiag("rules", "test", rules_dir=site)
    assert run.returncode == 3
    assert f"csdiag: rule skipped: {broken}:6:14: condition: unknown field 'outcom'" in run.stderr
    assert "PASS site.ram-short example 1" in run.stdout  # the others still ran
    assert "Traceback" not in run.stderr


def test_rules_option_adds_an_operator_folder(site: Path, tmp_path: Path) -> None:
    run = csdiag("rules", "list", "--rules", str(site))
    assert run.returncode == 0, run.stderr
    assert "site.ram-short" in run.stdout and "capacity.host-ram-short" in run.stdout
    missing = csdiag("rules", "list", "--rules", str(tmp_path / "absent"))
    assert missing.returncode == 3
    assert f"{tmp_path / 'absent'}:1:1: rules folder not found" in missing.stderr


def test_the_builtin_catalogue_passes_its_own_examples() -> None:
    run = csdiag("rules", "test")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert " 0 failed, 0 broken rule files" in run.stdout
