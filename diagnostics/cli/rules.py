"""`csdiag rules list|show|test`: browse the rule catalogue and run every rule's own examples."""

from __future__ import annotations

from typing import List, Optional

import typer

from diagnostics.cli.common import ExitCode, stdout_console, warn
from diagnostics.engine import Rule, RuleSet, load_rules
from diagnostics.engine.examples import run_examples
from diagnostics.engine.units import human_duration

rules_app = typer.Typer(name="rules", help="List, show and test the diagnosis rules.", no_args_is_help=True)

RulesDirs = typer.Option(None, "--rules", metavar="DIR", help="Also load the rules in DIR (repeatable).")


def _load(extra: Optional[List[str]]) -> RuleSet:
    ruleset = load_rules(list(extra or []))
    for error in ruleset.errors:
        warn(f"rule skipped: {error}")
    return ruleset


@rules_app.command("list")
def list_rules(rules: Optional[List[str]] = RulesDirs) -> None:
    """One line per rule: id, category, severity, title."""
    ruleset = _load(rules)
    ordered = sorted(ruleset.rules, key=lambda r: r.id)
    rows = [("ID", "CATEGORY", "SEVERITY", "TITLE")] + [
        (rule.id, rule.category, rule.severity + (" benign" if rule.benign else ""), rule.title) for rule in ordered
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    console = stdout_console()
    for row in rows:
        console.print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3], markup=False)
    console.print(f"{len(ruleset.rules)} rules, {len(ruleset.errors)} broken rule files")
    raise typer.Exit(int(ExitCode.UNKNOWN) if ruleset.errors else int(ExitCode.OK))


def _describe(rule: Rule) -> list[str]:
    lines = [
        f"id:          {rule.id}",
        f"title:       {rule.title}",
        f"file:        {rule.path}",
        f"category:    {rule.category}",
        f"severity:    {rule.severity}{' (benign: reported, never alarming)' if rule.benign else ''}",
        f"confidence:  {rule.confidence:.2f}",
        f"condition:   {' '.join(rule.condition.text.split())}",
        f"anchor kind: {rule.condition.anchor}",
    ]
    if len(rule.condition.kinds) > 1:
        window = human_duration(rule.window) if rule.window is not None else "none"
        lines.append(f"joins:       {', '.join(rule.condition.kinds)} on {', '.join(rule.join)} within {window}")
    lines.append(f"grouped by:  {', '.join(rule.group_by)}")
    if rule.description:
        lines.append(f"about:       {' '.join(rule.description.split())}")
    lines.append(f"message:     {rule.message}")
    if rule.symptom_of:
        lines.append(f"symptom of:  {', '.join(rule.symptom_of)}")
    if rule.remediation:
        lines.append("remediation:")
        lines.extend(f"  - {step}" for step in rule.remediation)
    if rule.references:
        lines.append("references:")
        lines.extend(f"  - {ref}" for ref in rule.references)
    lines.append("examples:")
    for example in rule.examples:
        note = f" - {example.note}" if example.note else ""
        lines.append(f"  {example.index}. {example.expect} (line {example.line}){note}")
    return lines


@rules_app.command("show")
def show_rule(rule_id: str = typer.Argument(..., metavar="ID"), rules: Optional[List[str]] = RulesDirs) -> None:
    """Everything about one rule: condition, joins, message, remediation, references, examples."""
    ruleset = _load(rules)
    rule = ruleset.get(rule_id)
    if rule is None:
        close = [r.id for r in ruleset.rules if rule_id in r.id]
        hint = f" (did you mean: {', '.join(close[:5])})" if close else " (see: csdiag rules list)"
        warn(f"no rule with id {rule_id!r}{hint}")
        raise typer.Exit(int(ExitCode.UNKNOWN))
    console = stdout_console()
    for line in _describe(rule):
        console.print(line, markup=False)
    raise typer.Exit(int(ExitCode.UNKNOWN) if ruleset.errors else int(ExitCode.OK))


@rules_app.command("test")
def test_rules(
    ids: Optional[List[str]] = typer.Argument(None, metavar="[ID]...", help="Rule ids to test (default: all)."),
    rules: Optional[List[str]] = RulesDirs,
) -> None:
    """Run the rules' positive and negative examples. Exit 0 all pass, 1 some fail, 3 broken rule files."""
    ruleset = _load(rules)
    unknown = sorted(set(ids or []) - {rule.id for rule in ruleset.rules})
    for rule_id in unknown:
        warn(f"no rule with id {rule_id!r}")
    results = run_examples(ruleset, ids)
    console = stdout_console()
    for result in results:
        status = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(f"{status} {result.rule_id} example {result.index} ({result.expect})", end="")
        console.print(f" {result.where}: {result.reason}" if not result.passed else "", markup=False)
    failed = [r for r in results if not r.passed]
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed, {len(ruleset.errors)} broken rule files",
                  markup=False)
    if ruleset.errors or unknown:
        raise typer.Exit(int(ExitCode.UNKNOWN))
    raise typer.Exit(int(ExitCode.WARNING) if failed else int(ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Add `csdiag rules ...` to the csdiag app."""
    app.add_typer(rules_app, name="rules")
