"""The runbook as a Markdown checklist (`- [x]` passed, `- [ ]` failed or unknown) to paste into a ticket."""

from __future__ import annotations

from diagnostics.runbook.assess import fill, status
from diagnostics.runbook.model import COMMAND_PLACES, SECTION_TITLES, SECTIONS, Assessment, CheckResult


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _one_line(text: str) -> str:
    """Prose on one line, with < > & escaped outside `code spans` (`<maxMemory ...>` must not vanish as an HTML tag)."""
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _status(result: CheckResult, evidence: bool) -> str:
    if not evidence:
        return ""
    if result.status == "failed":
        return f"**FAILED ({result.level})** "
    return "**passed** " if result.status == "passed" else "_unknown_ "


def _check(result: CheckResult, a: Assessment) -> list[str]:
    c = result.check
    box = "x" if result.status == "passed" and a.evidence else " "
    applies = f" _({c.applies})_" if c.applies else ""
    out = [f"- [{box}] {_status(result, a.evidence)}{_one_line(c.title)}{applies} <sub>`{c.id}`</sub>"]
    for ref in result.failed_by:
        where = ", ".join(_code(str(e)) for e in ref.evidence[:2])
        symptom = f" (symptom of {', '.join(ref.symptom_of)})" if ref.symptom_of else ""
        out.append(f"  - Failed by **{ref.id}** {_code(ref.rule)} ({ref.severity}){symptom}: {_one_line(ref.message)}"
                   + (f" — {where}" if where else ""))
    if result.passed_by:
        out.append("  - Passed by: " + ", ".join(_code(str(e)) for e in result.passed_by))
    for note in result.notes:
        out.append(f"  - Note: {_one_line(note)}")
    if a.evidence and result.status == "passed":
        return out  # done: what to run matters for what failed or is still open
    if c.where:
        out.append(f"  - Where: {_one_line(c.where)}")
    out.append(f"  - Why: {_one_line(c.why)}")
    for cmd in c.commands:
        out.append(f"  - Run {COMMAND_PLACES[cmd.on]}: {_code(fill(cmd.run, a.values))}")
    for v in c.verify:
        out.append(f"  - Verify: {_one_line(fill(v, a.values))}")
    return out


def render_markdown(a: Assessment) -> str:
    rb = a.runbook
    out = [f"# Runbook: {rb.title}", ""]
    if a.evidence:
        counts = {s: sum(1 for r in a.checks if r.status == s) for s in ("passed", "failed", "unknown")}
        vm = f"VM {_code(a.vm)}" if a.vm else "all VMs in the evidence"
        out += [f"**Status: {status(a)}** — {vm}; {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['unknown']} unknown (unknown: the evidence does not decide it); {a.inputs} inputs.", ""]
        if a.vm and not a.vm_found:
            out += [f"> VM {_code(a.vm)} does not appear in the evidence: every check is judged on evidence not tied to it.", ""]
        for e in a.errors:
            out.append(f"> Evidence error: {_one_line(e)}")
        if a.errors:
            out.append("")
    out += [f"> {_one_line(rb.summary)}", ""]
    for section in SECTIONS:
        results = a.results(section)
        if not results:
            continue
        out += [f"## {SECTION_TITLES[section]}", ""]
        for result in results:
            out += _check(result, a)
        out.append("")
    if a.unchecked:
        out += ["## Findings no check covers", ""]
        out += [f"- **{r.id}** {_code(r.rule)} ({r.severity}): {_one_line(r.message)}" for r in a.unchecked]
        out.append("")
    out += ["## Admin desk", ""]
    for q in a.questions:
        out += [f"### {q.question.question}", "", _one_line(fill(q.question.answer, a.values)), ""]
        if q.seen:
            out += ["Seen in this evidence: " + ", ".join(f"**{r.id}** {_code(r.rule)}" for r in q.seen), ""]
    out.append(f"_Source: {rb.source}._")
    return "\n".join(out) + "\n"
