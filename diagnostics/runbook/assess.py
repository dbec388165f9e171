"""The runbook against the analysis: each check passed, failed or unknown, and why.

Failures come only from findings (so every failed check cites finding ids the operator can look up in `analyze`);
passes come from facts matching the check's `pass_when` conditions, evaluated by the rule engine so they join and
read exactly like rules; the correlator's workflow steps, when present, decide the step checks too. A check that
nothing decides stays unknown: absence of evidence is not a pass.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from diagnostics.engine import Rule, evaluate
from diagnostics.model import Evidence, Fact, Finding
from diagnostics.runbook.model import Assessment, Check, CheckResult, FindingRef, QuestionResult, Runbook
from diagnostics.runbook.scope import INSTANCE_RE, VmScope, facts_in_scope, finding_in_scope, vm_scope

MAX_PASS_EVIDENCE = 3
_FAILING = ("critical", "warning")


def plain(runbook: Runbook) -> Assessment:
    """The runbook without evidence: every check unknown, commands with placeholders."""
    return Assessment(runbook, [CheckResult(c) for c in runbook.checks],
                      [QuestionResult(q) for q in runbook.questions])


def assess(runbook: Runbook, facts: Sequence[Fact], findings: Sequence[Finding], document: dict[str, Any],
           vm: str | None = None) -> Assessment:
    """Judge every check of `runbook` from one analysis (`analyze_paths`): its facts, findings and document.

    `findings` and `document["findings"]` are in the same order (ids F1..). With `vm`, only that VM's evidence counts.
    """
    ids = [d["id"] for d in document.get("findings", [])]
    refs = {id(f): _ref(f, ids[i] if i < len(ids) else f"F{i + 1}") for i, f in enumerate(findings)}
    scope: VmScope | None = None
    if vm:
        scope = vm_scope(facts, vm)
        scoped_facts = facts_in_scope(facts, scope)
        locations = {(f.path, f.line) for f in facts if id(f) in scope.linked}
        scoped_findings = [f for f in findings if finding_in_scope(f, scope, locations)]
    else:
        scoped_facts, scoped_findings = list(facts), list(findings)
    incidents = _incidents(document, scope)
    scoped_ids = {refs[id(f)].id for f in scoped_findings}
    for incident in incidents:  # the correlator may tie a finding to the VM that the scope alone did not
        scoped_ids.update(incident.get("findings") or [])
    scoped_findings = [f for f in findings if refs[id(f)].id in scoped_ids]
    passes = _pass_evidence(runbook, scoped_facts)

    results = []
    covered: set[str] = set()
    for check in runbook.checks:
        result = CheckResult(check)
        for finding in scoped_findings:
            if not _fails(check, finding):
                continue
            covered.add(refs[id(finding)].id)
            if finding.benign or finding.severity not in _FAILING:
                result.notes.append(f"{refs[id(finding)].id} ({finding.severity}{', benign' if finding.benign else ''}): {finding.message}")
            else:
                result.failed_by.append(refs[id(finding)])
        result.passed_by = passes.get(check.id, [])
        _apply_incident_steps(result, incidents, {r.id: r for r in refs.values()})
        result.failed_by.sort(key=_cause_first)
        if scope is not None and not scope.found:
            result.passed_by = []  # nothing ties the evidence to this VM: a zone's fine lines do not pass its checks
        if result.failed_by or (result.level and result.status == "failed"):
            result.status = "failed"
            result.level = _worst([r.severity for r in result.failed_by] + ([result.level] if result.level else []))
            result.passed_by = []  # a failed check is not also "passed by" other lines: one verdict per check
        elif result.passed_by:
            result.status = "passed"
        results.append(result)

    questions = []
    for q in runbook.questions:
        related_checks = {r.check.id: r for r in results}
        seen = [refs[id(f)] for f in scoped_findings if f.rule_id in q.related_rules and not f.benign]
        for check_id in q.related_checks:
            seen.extend(r for r in related_checks[check_id].failed_by if r not in seen)
        questions.append(QuestionResult(q, seen))

    unchecked = [refs[id(f)] for f in scoped_findings
                 if refs[id(f)].id not in covered and not f.benign and f.severity in _FAILING]
    return Assessment(runbook, results, questions, values=_values(scope, scoped_facts) if scope else {},
                      evidence=True, vm=vm, vm_found=scope.found if scope else True,
                      inputs=len(document.get("inputs", [])),
                      errors=[e.get("message", str(e)) for e in document.get("errors", [])], unchecked=unchecked)


def status(assessment: Assessment) -> str:
    """Nagios words, as `analyze` uses them: a failed critical check, a failed warning one, incomplete evidence."""
    levels = {r.level for r in assessment.checks if r.status == "failed"}
    if "critical" in levels:
        return "CRITICAL"
    if levels:
        return "WARNING"
    if assessment.errors or not assessment.vm_found:
        return "UNKNOWN"
    return "OK"


def fill(template: str, values: dict[str, str]) -> str:
    """A command or verification with the known values in (shell-quoted: they come from logs) and <placeholders> for the rest."""

    class _Values(dict):
        def __missing__(self, key: str) -> str:
            return f"<{key.replace('_', '-')}>"

    return template.format_map(_Values({k: shlex.quote(v) for k, v in values.items()}))


# ---------------------------------------------------------------- pieces


def _ref(finding: Finding, fid: str) -> FindingRef:
    return FindingRef(id=fid, rule=finding.rule_id, severity=finding.severity, title=finding.title,
                      message=finding.message, evidence=tuple(finding.evidence[:3]), symptom_of=tuple(finding.symptom_of))


def _fails(check: Check, finding: Finding) -> bool:
    if finding.rule_id in check.ignore_rules:
        return False
    return finding.rule_id in check.fail_rules or finding.category in check.fail_categories


def _cause_first(ref: FindingRef) -> tuple[bool, int, int]:
    """Causes before their symptoms, then the most severe, then in the analysis' own order."""
    number = int(ref.id[1:]) if ref.id[1:].isdigit() else 0
    return bool(ref.symptom_of), 0 if ref.severity == "critical" else 1, number


def _worst(levels: list[str]) -> str:
    return "critical" if "critical" in levels else "warning"


def _pass_evidence(runbook: Runbook, facts: list[Fact]) -> dict[str, list[Evidence]]:
    """Run every pass condition as a rule over the facts; a match is the evidence that passes its check."""
    rules, owner = [], {}
    for check in runbook.checks:
        for i, condition in enumerate(check.pass_when, start=1):
            rule_id = f"runbook.{check.id}.pass-{i}"
            owner[rule_id] = check.id
            rules.append(Rule(id=rule_id, title=check.title, category="other", severity="info", confidence=1.0,
                              condition=condition, message="", path=runbook.path, group_by=()))  # one group: a few lines suffice
    out: dict[str, list[Evidence]] = {}
    for match in evaluate(rules, facts):
        bucket = out.setdefault(owner[match.rule_id], [])
        for ev in match.evidence:
            if len(bucket) < MAX_PASS_EVIDENCE and ev not in bucket:
                bucket.append(ev)
    return out


def _incidents(document: dict[str, Any], scope: VmScope | None) -> list[dict[str, Any]]:
    incidents = document.get("incidents") or []
    if scope is None:
        return list(incidents)
    keys = scope.names | scope.uuids
    return [i for i in incidents
            if (isinstance(i.get("vm"), str) and (i["vm"] in keys or i["vm"].lower() in keys))
            or set(i.get("jobs") or []) & scope.jobs]


def _apply_incident_steps(result: CheckResult, incidents: list[dict[str, Any]], refs: dict[str, FindingRef]) -> None:
    step_name = result.check.incident_step
    if not step_name:
        return
    for incident in incidents:
        for step in incident.get("steps") or []:
            if step.get("step") != step_name:
                continue
            evidence = [Evidence(e.get("path", ""), int(e.get("line", 0)), e.get("text", ""))
                        for e in step.get("evidence") or []]
            if step.get("status") == "failed":
                root = incident.get("root_cause") or {}
                ref = refs.get(root.get("finding") or "")
                if ref is not None and incident.get("failed_step") == step_name and ref.severity in _FAILING:
                    if ref not in result.failed_by:
                        result.failed_by.append(ref)
                else:
                    result.status, result.level = "failed", result.level or "warning"
                    where = ", ".join(str(e) for e in evidence[-2:]) or "no evidence lines"
                    result.notes.append(f"incident {incident.get('id')}: step {step_name} failed ({where})")
            elif step.get("status") == "ok":
                for ev in evidence:
                    if len(result.passed_by) < MAX_PASS_EVIDENCE and ev not in result.passed_by:
                        result.passed_by.append(ev)


def _values(scope: VmScope, facts: list[Fact]) -> dict[str, str]:
    """What the evidence says about the VM, to fill the command templates (only values that are unambiguous)."""
    mine = [f for f in facts if id(f) in scope.linked]
    found: dict[str, set[str]] = {}

    def put(key: str, value: Any) -> None:
        if value not in (None, ""):
            found.setdefault(key, set()).add(str(value))

    for uuid in scope.uuids:
        put("vm_id", uuid)
    for name in scope.names:
        if INSTANCE_RE.match(name):
            put("instance", name)
    for f in mine:
        if f.kind == "api_vm":
            put("vm_name", getattr(f, "name", None))
            put("zone_id", getattr(f, "zone_id", None))
            put("account", getattr(f, "account", None))
            put("domain_id", getattr(f, "domain_id", None))
        elif f.kind == "api_call" and f.command in ("scaleVirtualMachine", "changeServiceForVirtualMachine"):  # type: ignore[attr-defined]
            put("offering_id", getattr(f, "offering", None))
        elif f.kind == "resource_limit" and getattr(f, "owner_kind", "") == "account":
            put("account", getattr(f, "owner", None))
            put("domain_id", getattr(f, "domain_id", None))
    if len(scope.host_names) == 1:
        put("host", next(iter(scope.host_names)))
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
