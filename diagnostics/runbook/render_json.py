"""The assessed runbook as JSON (`csdiag-runbook/v1`), for scripts and chat-ops bots."""

from __future__ import annotations

from typing import Any

from diagnostics.runbook.assess import fill, status
from diagnostics.runbook.model import Assessment, CheckResult, FindingRef

SCHEMA = "csdiag-runbook/v1"


def _finding(ref: FindingRef) -> dict[str, Any]:
    return {"id": ref.id, "rule": ref.rule, "severity": ref.severity, "title": ref.title, "message": ref.message,
            "evidence": [str(e) for e in ref.evidence], "symptom_of": list(ref.symptom_of)}


def _check(result: CheckResult, values: dict[str, str]) -> dict[str, Any]:
    c = result.check
    return {
        "id": c.id, "section": c.section, "title": c.title, "applies": c.applies or None, "where": c.where or None,
        "why": c.why, "commands": [{"on": cmd.on, "run": fill(cmd.run, values)} for cmd in c.commands],
        "verify": [fill(v, values) for v in c.verify],
        "status": result.status, "level": result.level,
        "findings": [_finding(r) for r in result.failed_by],
        "passed_by": [{"path": e.path, "line": e.line, "text": e.text} for e in result.passed_by],
        "notes": list(result.notes),
    }


def to_dict(a: Assessment) -> dict[str, Any]:
    counts = {s: sum(1 for r in a.checks if r.status == s) for s in ("passed", "failed", "unknown")}
    return {
        "schema": SCHEMA,
        "runbook": a.runbook.id,
        "title": a.runbook.title,
        "source": a.runbook.source,
        "summary": a.runbook.summary,
        "vm": a.vm,
        "vm_found": a.vm_found,
        "evidence": a.evidence,
        "status": status(a) if a.evidence else None,
        "counts": counts if a.evidence else None,
        "values": dict(a.values),
        "checks": [_check(r, a.values) for r in a.checks],
        "questions": [{"id": q.question.id, "question": q.question.question, "answer": fill(q.question.answer, a.values),
                       "seen": [r.id for r in q.seen]} for q in a.questions],
        "unchecked_findings": [_finding(r) for r in a.unchecked],
        "errors": list(a.errors),
    }
