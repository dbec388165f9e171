"""Findings of an incident -> its root cause, contributing findings and the evidence that is missing.

A finding the engine marked as a symptom (an InsufficientCapacityException after a start failed on a host that had
room) points at its cause and is never chosen itself; known-benign findings are never chosen.
"""

from __future__ import annotations

from datetime import timedelta

from diagnostics.model import Finding

_RANK = {"critical": 0, "warning": 1, "info": 2}
# Categories that only say *that* something failed come after the ones that say *why*, at equal severity.
_GENERIC = {"start_failed": 1, "insufficient_capacity": 1, "other": 2}
SLACK = timedelta(minutes=15)


def related(finding: Finding, vms: set[str], jobs: set[int], logids: set[str], hosts: set, first, last) -> bool:
    e = finding.entities
    hit = (
        bool(vms & {e.get("vm"), e.get("vm_uuid")} - {None})
        or bool(jobs & set(as_list(e.get("job")) + as_list(e.get("jobs"))))
        or bool(logids & set(as_list(e.get("logid")) + as_list(e.get("logids"))))
    )
    if not hit and (e.get("host") or e.get("host_name") or e.get("host_id")) and not e.get("vm") and not e.get("job"):
        host_keys = {str(x) for x in as_list(e.get("host")) + as_list(e.get("host_name")) + as_list(e.get("host_id"))}
        hit = bool(host_keys & {str(h) for h in hosts})
    if not hit:
        return False
    if first is None or finding.first_ts is None:
        return True
    try:
        return first - SLACK <= finding.first_ts <= (last or first) + SLACK
    except TypeError:  # naive vs aware (host evidence without a zone)
        return True


def as_list(value) -> list:
    """An entity value that may be one value or several, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def rank(findings: list[Finding]) -> list[Finding]:
    """Causes first: not benign, not a symptom; a finding that says why before one that only says that; a finding
    that symptoms point at before one nobody points at, as severe as its worst symptom; then most severe, most
    confident, earliest."""
    pointed: dict[str, int] = {}
    for f in findings:
        for cause in f.symptom_of:
            pointed[cause] = min(pointed.get(cause, 9), _RANK.get(f.severity, 9))
    return sorted(
        findings,
        key=lambda f: (f.benign, bool(f.symptom_of), _GENERIC.get(f.category, 0), f.rule_id not in pointed,
                       min(_RANK.get(f.severity, 9), pointed.get(f.rule_id, 9)), -float(f.confidence),
                       f.first_ts.timestamp() if f.first_ts else float("inf")),
    )
