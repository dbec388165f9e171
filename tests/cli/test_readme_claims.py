"""The README states what is true: its rule and example counts are the real ones, its commands' options exist."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import ROOT, run_process
from diagnostics.engine import load_rules

README = (Path(ROOT) / "README.md").read_text()


def test_readme_rule_and_example_counts_are_the_real_ones():
    """When this fails after adding rules, update the two lines of `csdiag rules list|test` output in README.md."""
    ruleset = load_rules()
    (stated_rules,) = re.findall(r"^(\d+) rules, 0 broken rule files$", README, re.M)
    assert int(stated_rules) == len(ruleset.rules)
    last = run_process("rules", "test").stdout.strip().splitlines()[-1]
    real_examples = int(re.match(r"(\d+) passed, 0 failed", last).group(1))
    (stated_examples,) = re.findall(r"^(\d+) passed, 0 failed, 0 broken rule files$", README, re.M)
    assert int(stated_examples) == real_examples


def test_readme_first_command_is_what_ci_runs_from_the_wheel():
    block = README.split("**Try it**", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]
    assert block.endswith("&& csdiag analyze samples/libvirt-memory-start")
    ci = (Path(ROOT) / ".ci" / "run").read_text()
    assert "pip wheel" in ci and "venv" in ci and '"$rc" -ne 2' in ci and "chromium" in ci and "tmux" in ci


def test_every_analyze_option_the_readme_names_exists():
    help_text = run_process("analyze", "--help", env={"COLUMNS": "200"}).stdout
    section = README.split("### `csdiag analyze PATH...`", 1)[1].split("\n### ", 1)[0]
    for option in sorted(set(re.findall(r"`(--[a-z-]+)", section))):
        assert option in help_text, option
