"""Findings of an incident -> its root cause, contributing findings and the evidence that is missing.

A finding the engine marked as a symptom (an InsufficientCapacityException after a start failed on a host that had
room) points at its cause and is never chosen itself; known-benign findings are never chosen.
"""

from __future__ import annotations

import re
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


_ERRORTEXT = re.compile(r'"errortext"\s*:\s*"((?:[^"\\]|\\.)*)"')
_LOUD = {"ERROR", "FATAL", "WARN", "WARNING"}


def _is_loud(f) -> bool:
    return (f.kind == "log_record" and getattr(f, "relevance", None) != "benign"
            and ((f.level or "").upper() in _LOUD or bool(f.exceptions)))


class LoudRecords:
    """The facts `unexplained_records` can pick (loud or exception-carrying `log_record` facts, not benign), in file
    order, indexed once per analysis by job, work job, logid and host: a busy log has hundreds of failed incidents
    and thousands of loud lines, and a pass over all of them per incident was a quarter of its analysis."""

    def __init__(self, facts):
        self.records = [f for f in facts if _is_loud(f)]
        self.by_job: dict = {}
        self.by_logid: dict = {}
        self.by_host: dict = {}
        for i, f in enumerate(self.records):
            for job in {f.job, f.work_job}:
                self.by_job.setdefault(job, []).append(i)
            if f.logid is not None:
                self.by_logid.setdefault(f.logid, []).append(i)
            for key in {str(f.host_name), str(f.host_id)}:  # as the operation's host keys are compared: str()
                self.by_host.setdefault(key, []).append(i)

    def inside(self, jobs, logids, hosts) -> list:
        """Records naming one of the jobs, logids or hosts, in file order."""
        picked: set[int] = set()
        for index, keys in ((self.by_job, jobs), (self.by_logid, logids), (self.by_host, {str(h) for h in hosts})):
            for key in keys:
                picked.update(index.get(key, ()))
        return [self.records[i] for i in sorted(picked)]


def loud_log_records(facts: list) -> LoudRecords:
    """Index the loud records once per analysis (see `LoudRecords`)."""
    return LoudRecords(facts)


def unexplained_records(facts, jobs: set[int], logids: set[str], hosts: set, first, last, limit: int = 8) -> list:
    """The `log_record` facts at ERROR/WARN, or carrying an exception, inside an operation: its jobs (work jobs
    included), logids or hosts, within its time window. Known-benign templates are left out. `facts` is a list of
    facts or the `LoudRecords` of the analysis."""
    loud = facts if isinstance(facts, LoudRecords) else LoudRecords(facts)
    lo = first - SLACK if first is not None else None
    hi = (last or first) + SLACK if first is not None else None
    out = []
    for f in loud.inside(jobs, logids, hosts):
        if lo is not None and f.ts is not None:
            try:
                if not lo <= f.ts <= hi:
                    continue
            except TypeError:
                pass
        out.append(f)
        if len(out) >= limit:
            break
    return out


def not_recognised(step, records: list) -> dict:
    """The root cause of a failed step that no rule explains: said plainly, with the loud lines that might tell."""
    evidence = [{"path": f.path, "line": f.line, "text": (f.message or f.text)[:300]}
                | ({"ts": f.ts.isoformat()} if f.ts else {}) for f in records]
    if not evidence:
        evidence = [{"path": e.path, "line": e.line, "text": e.text[:300]} for e in step.failures[:3]]
    exceptions = list(dict.fromkeys(x for f in records for x in f.exceptions))
    if records:
        said = f"; the first loud line says: {records[0].message or records[0].text}"[:300]
    else:
        said = ""
        for e in step.failures[:3]:
            m = _ERRORTEXT.search(e.text)
            if m:
                said = f"; the job's result says: {m.group(1)}"[:300]
                break
    return {
        "rule": None, "category": "not_recognised", "severity": "warning", "confidence": 0.0, "finding": None,
        "summary": (f"Cause not recognised: the {step.step} step failed and no rule explains it"
                    + (f" (exceptions: {', '.join(exceptions[:3])})" if exceptions else "") + said),
        "evidence": evidence,
    }
