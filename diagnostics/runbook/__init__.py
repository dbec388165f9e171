"""On-call runbooks as data (TOML beside this file), judged against the evidence of an analysis.

    runbook = load_runbook("change-offering")
    analysis = analyze_paths(paths)
    result = assess(runbook, analysis.collected.facts, analysis.findings, analysis.document, vm="i-2-42-VM")
    status(result)            # OK | WARNING | CRITICAL | UNKNOWN, as `analyze` says it
    render_markdown(result)   # a checklist; render_text(result, console); render_json(result) -> dict
"""

from diagnostics.runbook.assess import assess, fill, plain, status
from diagnostics.runbook.load import RunbookError, available, load_runbook, parse_runbook
from diagnostics.runbook.render_json import to_dict as render_json
from diagnostics.runbook.render_markdown import render_markdown
from diagnostics.runbook.render_text import render_text

__all__ = ["RunbookError", "assess", "available", "fill", "load_runbook", "parse_runbook", "plain", "render_json",
           "render_markdown", "render_text", "status"]
