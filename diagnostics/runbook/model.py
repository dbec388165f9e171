"""The runbook's vocabulary: checks with the evidence that decides them, admin-desk answers, and verdicts.

The content itself is data (`change-offering.toml` beside this file); these types are what it loads into and what
an assessment against evidence produces, so the renderers never look at TOML or at facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnostics.engine import Condition
from diagnostics.model import Evidence

SECTIONS = ("prerequisite", "step", "troubleshooting")
SECTION_TITLES = {"prerequisite": "Prerequisites", "step": "Steps", "troubleshooting": "Troubleshooting matrix"}
STATUSES = ("passed", "failed", "unknown")
COMMAND_PLACES = {"api": "with cmk", "mgmt": "on the management server", "host": "on the hypervisor host", "guest": "in the guest"}


@dataclass(frozen=True, slots=True)
class Command:
    on: str  # api | mgmt | host | guest
    run: str  # a template: {vm_id}, {instance}, ... (see change-offering.toml)


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    section: str
    title: str
    why: str
    commands: tuple[Command, ...] = ()
    verify: tuple[str, ...] = ()
    applies: str = ""
    where: str = ""
    fail_rules: tuple[str, ...] = ()
    fail_categories: tuple[str, ...] = ()
    ignore_rules: tuple[str, ...] = ()
    pass_when: tuple[Condition, ...] = ()
    incident_step: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answer: str
    related_rules: tuple[str, ...] = ()
    related_checks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Runbook:
    id: str
    title: str
    source: str
    summary: str
    checks: tuple[Check, ...]
    questions: tuple[Question, ...]
    path: str = ""

    def section(self, name: str) -> list[Check]:
        return [c for c in self.checks if c.section == name]


@dataclass(frozen=True, slots=True)
class FindingRef:
    """A finding of the analysis as a check cites it: its document id (F1..) and enough to read it in place."""

    id: str
    rule: str
    severity: str
    title: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    symptom_of: tuple[str, ...] = ()


@dataclass(slots=True)
class CheckResult:
    check: Check
    status: str = "unknown"  # passed | failed | unknown
    level: str | None = None  # of a failed check: the worst severity of its findings (critical | warning)
    failed_by: list[FindingRef] = field(default_factory=list)
    passed_by: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class QuestionResult:
    question: Question
    seen: list[FindingRef] = field(default_factory=list)


@dataclass(slots=True)
class Assessment:
    """The runbook against evidence (or without: every check unknown, `evidence` False)."""

    runbook: Runbook
    checks: list[CheckResult]
    questions: list[QuestionResult]
    values: dict[str, str] = field(default_factory=dict)  # what the command templates were filled with
    evidence: bool = False
    vm: str | None = None
    vm_found: bool = True
    inputs: int = 0
    errors: list[str] = field(default_factory=list)
    unchecked: list[FindingRef] = field(default_factory=list)  # findings in scope that no check covers

    def results(self, section: str) -> list[CheckResult]:
        return [r for r in self.checks if r.check.section == section]
