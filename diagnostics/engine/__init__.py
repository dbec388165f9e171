"""The rule engine: rules are data (TOML files under rules/), conditions are a small pyparsing language.

    ruleset = load_rules(["/etc/csdiag/rules"])   # built-in rules/ plus an operator's folder
    findings = evaluate(ruleset, facts)            # joined, windowed, grouped, symptoms/benign marked

Every rule's own positive and negative examples run through the real parsers: `diagnostics.engine.examples`
(`run_examples(ruleset)`). It sits above the read side (logs, facts, host, api), which itself uses the condition
language to learn what to read, so the engine package does not import it: the dependency stays one-way.
"""

from __future__ import annotations

from diagnostics.engine.evaluate import evaluate
from diagnostics.engine.language import Condition, ConditionError, parse_condition
from diagnostics.engine.loader import builtin_rules_dir, load_rule_file, load_rules
from diagnostics.engine.rule import Example, HostEvidence, Rule, RuleSet

__all__ = [
    "Condition", "ConditionError", "Example", "HostEvidence", "Rule", "RuleSet",
    "builtin_rules_dir", "evaluate", "load_rule_file", "load_rules", "parse_condition",
]
