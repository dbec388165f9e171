"""A rule as loaded from its TOML file: identity, condition, wording, and the examples that prove it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diagnostics.engine.language import Condition

JOIN_KEYS = ("host", "vm", "job", "logid")
GROUP_KEYS = ("host", "vm", "job", "logid")  # and kind.field of a bound kind (`log_record.template`)


@dataclass(frozen=True, slots=True)
class HostEvidence:
    """Command output captured on one hypervisor host, keyed by what produced it (free, dmesg, sensors, ...)."""

    name: str
    outputs: tuple[tuple[str, str], ...]  # (evidence kind, text)


@dataclass(frozen=True, slots=True)
class Example:
    """One positive or negative example: real-format input and what the rule must (not) conclude from it."""

    index: int  # 1-based, in file order
    line: int  # where its [[example]] header is in the file
    expect: str  # match | no-match
    log: str = ""
    api: str = ""  # CloudStack API answers (JSON), each optionally preceded by its `command=...` query line
    hosts: tuple[HostEvidence, ...] = ()
    facts: tuple[dict[str, Any], ...] = ()  # hand-made facts, only for kinds no text parser produces
    count: int | None = None
    message_contains: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    category: str
    severity: str
    confidence: float
    condition: Condition
    message: str
    path: str
    join: tuple[str, ...] = JOIN_KEYS
    window: float | None = None  # seconds
    group_by: tuple[str, ...] = ("host", "vm")
    remediation: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    symptom_of: tuple[str, ...] = ()
    benign: bool = False
    examples: tuple[Example, ...] = ()
    description: str = ""
    fallback: bool = False  # only for facts no other rule's finding cites (a generic rule behind the specific ones)


@dataclass(slots=True)
class RuleSet:
    """What `load_rules` returns: the usable rules, and one `file:line:col: message` per refused file."""

    rules: list[Rule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def select(self, ids: list[str] | tuple[str, ...] | None) -> list[Rule]:
        if not ids:
            return list(self.rules)
        wanted = set(ids)
        return [rule for rule in self.rules if rule.id in wanted]
