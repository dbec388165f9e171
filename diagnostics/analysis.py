"""Facts -> findings -> incidents -> the csdiag/v1 document: the analysis that `analyze`, bundles and the runbook share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from diagnostics.pipeline import Collected, Progress, collect
from diagnostics.report.document import build_document


@dataclass(slots=True)
class Analysis:
    collected: Collected
    findings: list
    document: dict


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
) -> Analysis:
    from diagnostics.engine import evaluate, load_rules

    ruleset = load_rules(list(rule_dirs))  # first: the rules' literal texts decide which records are read closely
    collected = collect(list(paths), tz=tz, tz_name=tz_name, paste=paste, host_evidence=host_evidence,
                        ping_interval=ping_interval, ping_timeout=ping_timeout, progress=progress, rules=ruleset.rules)
    findings = evaluate(ruleset, collected.facts)
    incidents = None
    try:
        from diagnostics.correlate import build_incidents
    except ImportError:
        build_incidents = None
    if build_incidents is not None:
        incidents = build_incidents(collected, findings)
    doc = build_document(findings, collected.inputs, collected.errors, collected.notes, tz_name,
                         rule_errors=list(ruleset.errors), incidents=incidents, facts_count=len(collected.facts))
    return Analysis(collected, findings, doc)


def reports_for(paths: list[str], tz: tzinfo | None = None, tz_name: str = "UTC") -> dict[str, str]:
    """The JSON and Markdown reports of `paths`, as bundle creation stores them."""
    import json

    from diagnostics.report.markdown_report import render_markdown

    doc = analyze_paths(paths, tz=tz, tz_name=tz_name).document
    return {"analysis.json": json.dumps(doc, indent=2, default=str) + "\n", "analysis.md": render_markdown(doc)}
