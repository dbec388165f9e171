"""The machine-readable analysis: the versioned `csdiag/v1` document every other output is rendered from.

The JSON Schema beside this file (`csdiag-v1.schema.json`) is the contract; tests validate real output against it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from diagnostics import __version__
from diagnostics.model import Evidence, Finding

SCHEMA = "csdiag/v1"


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def _evidence(ev: Evidence) -> dict[str, Any]:
    return {"path": ev.path, "line": ev.line, "text": ev.text}


def finding_to_dict(f: Finding, index: int) -> dict[str, Any]:
    return {
        "id": f"F{index}",
        "rule": f.rule_id,
        "category": f.category,
        "severity": f.severity,
        "confidence": round(float(f.confidence), 2),
        "title": f.title,
        "message": f.message,
        "entities": {k: v for k, v in f.entities.items() if v is not None},
        "first": _iso(f.first_ts),
        "last": _iso(f.last_ts),
        "count": f.count,
        "evidence": [_evidence(e) for e in f.evidence],
        "remediation": list(f.remediation),
        "references": list(f.references),
        "symptom_of": list(f.symptom_of),
        "benign": bool(f.benign),
        "generic": bool(f.fallback),
    }


def build_document(
    findings: list[Finding],
    inputs: list[dict],
    errors: list[dict],
    notes: list[str],
    tz_name: str,
    rule_errors: list[str] = (),
    incidents: list[dict] | None = None,
    facts_count: int = 0,
) -> dict[str, Any]:
    actionable = [f for f in findings if not f.benign]
    counts = {sev: sum(1 for f in actionable if f.severity == sev) for sev in ("critical", "warning", "info")}
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "csdiag", "version": __version__},
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "timezone": tz_name,
        "summary": {
            "status": status_of(findings, list(errors) + list(rule_errors), incidents),
            "findings": counts,
            "benign": sum(1 for f in findings if f.benign),
            "facts": facts_count,
            "inputs": len(inputs),
            "errors": len(errors) + len(rule_errors),
            "incidents": {"total": len(incidents or []),
                          "failed": sum(1 for i in incidents or [] if i["outcome"] == "failed")},
        },
        "findings": [finding_to_dict(f, i) for i, f in enumerate(findings, start=1)],
        "inputs": inputs,
        "errors": list(errors) + [{"path": e.split(":", 1)[0], "message": e} for e in rule_errors],
        "notes": list(notes),
    }
    if incidents is not None:
        doc["incidents"] = incidents
    return doc


def status_of(findings: list[Finding], errors: list, incidents: list[dict] | None = None) -> str:
    """Nagios words: the worst non-benign severity among findings and incidents; UNKNOWN when input was incomplete
    and nothing worse was found. A failed operation is at least WARNING, even when no rule explains it: a confident
    "OK" over a failure is the worst answer an on-call tool can give."""
    severities = {f.severity for f in findings if not f.benign}
    for inc in incidents or ():
        severities.add({"CRITICAL": "critical", "WARNING": "warning"}.get(inc.get("status", ""), "info"))
        if inc.get("outcome") == "failed":
            severities.add("warning")
    if "critical" in severities:
        return "CRITICAL"
    if "warning" in severities:
        return "WARNING"
    if errors:
        return "UNKNOWN"
    return "OK"


def redact_document(doc: Any) -> Any:
    """Every string of the document through the bundle redactor: reports go into tickets, secrets must not."""
    from diagnostics.bundle.redact import redact_text

    if isinstance(doc, str):
        return redact_text(doc)
    if isinstance(doc, dict):
        return {k: redact_document(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [redact_document(v) for v in doc]
    return doc


def next_command(doc: dict, incident: dict) -> str | None:
    """The one next command of an incident: the root cause's first command, else how to read the failed job."""
    rc = incident.get("root_cause") or {}
    by_id = {f["id"]: f for f in doc.get("findings", [])}
    finding = by_id.get(rc.get("finding") or "")
    for step in (finding or {}).get("remediation", []):
        if is_command(step):
            return step
    if incident.get("outcome") == "failed" and incident.get("jobs"):
        logs = sorted({i["path"] for i in doc.get("inputs", []) if i.get("kind") == "log" and i.get("side") != "agent"})
        target = logs[0] if len(logs) == 1 else "<management-server.log>"
        return f"csdiag timeline {target} --job {incident['jobs'][0]} --level WARN"
    return None


_COMMANDS = {"cmk", "cloudmonkey", "virsh", "free", "dmesg", "sensors", "numactl", "grep", "zgrep", "csdiag", "systemctl",
             "journalctl", "tcpdump", "lscpu", "mysql", "cat", "ssh", "echo"}


def is_command(text: str) -> bool:
    """A remediation step that is a command line (rendered as code) rather than prose."""
    return text.split(" ", 1)[0] in _COMMANDS
