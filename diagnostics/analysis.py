"""Facts -> findings -> incidents -> the csdiag/v1 document: the analysis that `analyze`, bundles and the runbook share."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from diagnostics import parallel
from diagnostics.correlate import build_incidents
from diagnostics.engine import builtin_rules_dir, evaluate, load_rules
from diagnostics.model.identity import Identities
from diagnostics.pipeline import Collected, Progress, collect
from diagnostics.report.document import build_document, redact_document
from diagnostics.report.markdown_report import render_markdown


@dataclass(slots=True)
class Analysis:
    collected: Collected
    findings: list
    document: dict
    rule_errors: list[str]


@dataclass(slots=True)
class Scope:
    """What part of the inputs to diagnose: a time window, one VM, one host (each optional).

    A VM or host keeps its own facts and every fact of the jobs and log contexts that touched it (the planner's and
    the agent's lines rarely name the VM); facts with no time (host evidence) are kept by the time window."""

    since: datetime | None = None
    until: datetime | None = None
    vm: str | None = None
    host: str | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.vm, self.host))

    def apply(self, facts: list, identities: Identities | None = None) -> list:
        """The facts in scope. The VM and host are found by the identity resolver (learnt from `facts` when not
        given): `--vm` may be its instance name, UUID, id or a display name only it has; `--host` its name, id,
        UUID or IP."""
        who = identities if identities is not None else Identities.learn(facts)
        kept = [f for f in facts if self._in_window(f)]
        if self.vm:
            vm = who.vm_named(self.vm)
            names = {self.vm} | ({vm.instance, vm.uuid} - {None} if vm is not None else set())
            kept = _with_their_jobs(kept, lambda f: f.vm in names or f.vm_uuid in names
                                    or (vm is not None and (f.vm or f.vm_uuid) is not None and who.vm(f) == vm))
        if self.host:
            host = who.host_named(self.host)
            kept = _with_their_jobs(kept, lambda f: f.host_name == self.host or str(f.host_id) == self.host
                                    or (host is not None and (f.host_id is not None or bool(f.host_name))
                                        and who.host(f) == host))
        return kept

    def _in_window(self, f) -> bool:
        if f.ts is None:
            return True
        try:
            return (self.since is None or f.ts >= self.since) and (self.until is None or f.ts <= self.until)
        except TypeError:  # naive host evidence: no zone to compare in
            return True


def _with_their_jobs(facts: list, mine) -> list:
    own = [f for f in facts if mine(f)]
    jobs = {j for f in own for j in (f.job, f.work_job) if j is not None}
    logids = {f.logid for f in own if f.logid}
    return [f for f in facts if mine(f) or (f.job is not None and f.job in jobs) or (f.work_job is not None and f.work_job in jobs)
            or (f.logid is not None and f.logid in logids)]


def rule_folder_problems(rule_dirs: Sequence[str]) -> list[str]:
    """One line per rule folder (built-in or extra) that is missing or holds no rule file: the analysis would be
    silently incomplete, so `analyze` stops on these before reading anything."""
    problems = []
    for directory in [builtin_rules_dir(), *(Path(d) for d in rule_dirs)]:
        if not directory.is_dir():
            problems.append(f"rules folder not found: {directory}")
        elif not any(directory.rglob("*.toml")):
            problems.append(f"rules folder holds no *.toml rule files: {directory}")
    return problems


def analyze_paths(
    paths: Sequence[str],
    *,
    tz: tzinfo | None = None,
    tz_name: str = "UTC",
    rule_dirs: Sequence[str] = (),
    paste: bool | None = None,
    host_evidence: dict[str, str] | None = None,
    ping_interval: float = 60.0,
    ping_timeout: float = 2.5,
    progress: Progress | None = None,
    ignore: Sequence[str] = (),
    scope: Scope | None = None,
    jobs: int | None = 1,
    dask_scheduler: str | None = None,
) -> Analysis:
    """jobs: worker processes reading the inputs (None: every core; 1: this process); dask_scheduler: read them on
    that Dask cluster instead (diagnostics.parallel). Either way the findings are those of the serial run."""
    ruleset = load_rules(list(rule_dirs))  # first: the rules' literal texts decide which records are read closely
    notes = []
    if ignore:
        kept = [r for r in ruleset.rules if not any(fnmatch.fnmatchcase(r.id, pattern) for pattern in ignore)]
        dropped = sorted(r.id for r in ruleset.rules if r not in kept)
        for pattern in ignore:
            if not any(fnmatch.fnmatchcase(r.id, pattern) for r in ruleset.rules):
                notes.append(f"ignore {pattern}: no rule has this id (nothing ignored by it)")
        ruleset.rules = kept
        if dropped:
            notes.append(f"rules ignored as configured: {', '.join(dropped)}")
    collected = collect(list(paths), tz=tz, tz_name=tz_name, paste=paste, host_evidence=host_evidence,
                        ping_interval=ping_interval, ping_timeout=ping_timeout, progress=progress, rules=ruleset.rules,
                        runner=parallel.runner_for(jobs, dask_scheduler))
    if scope is not None and scope.active:
        before = len(collected.facts)
        collected.facts = scope.apply(collected.facts, collected.identities)
        collected.notes.append(f"scope {_describe(scope)}: {len(collected.facts)} of {before} facts kept")
    findings = evaluate(ruleset, collected.facts, collected.identities)
    incidents = build_incidents(collected, findings)
    doc = build_document(findings, collected.inputs, collected.errors, collected.notes + notes, tz_name,
                         rule_errors=list(ruleset.errors), incidents=incidents, facts_count=len(collected.facts))
    return Analysis(collected, findings, doc, list(ruleset.errors))


def _describe(scope: Scope) -> str:
    parts = []
    if scope.vm:
        parts.append(f"vm {scope.vm}")
    if scope.host:
        parts.append(f"host {scope.host}")
    if scope.since:
        parts.append(f"since {scope.since.isoformat(timespec='seconds')}")
    if scope.until:
        parts.append(f"until {scope.until.isoformat(timespec='seconds')}")
    return ", ".join(parts)


def reports_for(paths: list[str], tz: tzinfo | None = None, tz_name: str = "UTC") -> dict[str, str]:
    """The JSON and Markdown reports of `paths`, as bundle creation stores them (`bundle create` hands this to
    diagnostics.bundle as its `analyse` callable)."""
    doc = redact_document(analyze_paths(paths, tz=tz, tz_name=tz_name).document)
    return {"analysis.json": json.dumps(doc, indent=2, default=str) + "\n", "analysis.md": render_markdown(doc)}
