"""Run each rule's own examples through the real parsers and the engine: the rule's executable spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diagnostics.api import facts_from_api_text
from diagnostics.engine.evaluate import evaluate
from diagnostics.engine.rule import Example, Rule, RuleSet
from diagnostics.facts import facts_from_text as log_facts_from_text
from diagnostics.host import facts_from_text as host_facts_from_text
from diagnostics.logs.interest import interest_for
from diagnostics.model import FACT_KINDS, Fact, Finding


@dataclass(slots=True)
class ExampleResult:
    rule_id: str
    index: int
    expect: str
    passed: bool
    reason: str
    path: str
    line: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class ExampleInputError(Exception):
    """The example's input could not be turned into facts (parser missing or refusing the text)."""


def _log_facts(text: str, path: str, rule: Rule) -> list[Fact]:
    """The example's log read as `analyze` reads it with this rule loaded (its literals pick log_record facts)."""
    return list(log_facts_from_text(text, path=path, interest=interest_for([rule])))


def _host_facts(text: str, path: str, host: str, kind: str) -> list[Fact]:
    return list(host_facts_from_text(text, path=path, host=host, kind=kind))


def _api_facts(text: str, path: str) -> list[Fact]:
    return list(facts_from_api_text(text, path=path))


def _hand_made(spec: dict[str, Any], path: str, line: int) -> Fact:
    values = {key: value for key, value in spec.items() if key != "kind"}
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    values.setdefault("path", path)
    values.setdefault("line", line)
    try:
        return FACT_KINDS[spec["kind"]](**values)
    except TypeError as exc:
        raise ExampleInputError(f"hand-made {spec['kind']} fact: {exc}") from None


def example_facts(rule: Rule, example: Example) -> list[Fact]:
    """The facts an example's input yields: log lines, API answers, each host's command output, hand-made facts."""
    source = f"{rule.path}#example{example.index}"
    facts: list[Fact] = []
    if example.log.strip():
        facts.extend(_log_facts(example.log, f"{source}/log", rule))
    if example.api.strip():
        facts.extend(_api_facts(example.api, f"{source}/api"))
    for host in example.hosts:
        for kind, text in host.outputs:
            facts.extend(_host_facts(text, f"{source}/{host.name}-{kind}", host.name, kind))
    facts.extend(_hand_made(spec, f"{source}/fact", example.line) for spec in example.facts)
    return facts


def run_example(rule: Rule, example: Example) -> ExampleResult:
    result = ExampleResult(rule.id, example.index, example.expect, False, "", rule.path, example.line)
    try:
        facts = example_facts(rule, example)
    except ExampleInputError as exc:
        result.reason = str(exc)
        return result
    except Exception as exc:  # noqa: BLE001  (a parser bug must fail this example, not the whole run)
        result.reason = f"parsing the example failed: {type(exc).__name__}: {exc}"
        return result
    findings = [f for f in evaluate([rule], facts) if f.rule_id == rule.id]
    result.findings = findings
    total = sum(f.count for f in findings)
    if example.expect == "no-match":
        result.passed = not findings
        result.reason = "no finding, as expected" if result.passed else (
            f"expected no finding, got {total}: {findings[0].message}")
        return result
    if not findings:
        kinds = sorted({fact.kind for fact in facts})
        result.reason = (f"expected a finding, got none (the input gave {len(facts)} facts"
                         f"{': ' + ', '.join(kinds) if kinds else ''}; the condition needs {', '.join(rule.condition.kinds)})")
        return result
    if example.count is not None and total != example.count:
        result.reason = f"expected count {example.count}, got {total}"
        return result
    messages = " | ".join(f.message for f in findings)
    missing = [fragment for fragment in example.message_contains if fragment not in messages]
    if missing:
        result.reason = f"message lacks {missing[0]!r}: {messages}"
        return result
    result.passed = True
    result.reason = f"{total} match{'es' if total != 1 else ''}: {findings[0].message}"
    return result


def run_examples(ruleset: RuleSet, ids: list[str] | tuple[str, ...] | None = None) -> list[ExampleResult]:
    return [run_example(rule, example) for rule in ruleset.select(ids) for example in rule.examples]
