"""The analysis document as Markdown, for tickets and post-incident reviews."""

from __future__ import annotations

from diagnostics.report.document import is_command, next_command
from diagnostics.report.text_report import _STEP_WORD, cite, incident_evidence, outcome_phrase, vm_label
from diagnostics.untrusted import for_markdown, for_terminal


def _md(text: object) -> str:
    return for_markdown(text)


def _code(text: object) -> str:
    """Inline code that no backtick inside the text can close early."""
    t = for_terminal(text)
    fence = "``" if "`" in t else "`"
    return f"{fence} {t} {fence}" if fence == "``" else f"`{t}`"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: dict, verbose: bool = False) -> str:
    s = doc["summary"]
    out = [
        "# csdiag analysis",
        "",
        f"**Status: {s['status']}** — {s['findings'].get('critical', 0)} critical, {s['findings'].get('warning', 0)} warning, "
        f"{s['findings'].get('info', 0)} info, {s.get('benign', 0)} benign; {s['inputs']} inputs, {s.get('facts', 0)} facts, "
        f"{s['errors']} errors. Times in zone {doc['timezone']}. csdiag {doc['tool']['version']}, {doc['generated']}.",
        "",
    ]
    incidents = doc.get("incidents") or []
    by_id = {f["id"]: f for f in doc["findings"]}
    if incidents:
        out += ["## Incidents", ""]
        for inc in incidents:
            rc = inc.get("root_cause")
            out.append(f"### {inc['id']} {inc.get('status', '')}: {_md(vm_label(inc))} — {_md(inc['operation'])} {outcome_phrase(inc)}")
            out.append("")
            out.append(f"- **VM:** {_md(vm_label(inc, with_uuid=True))}")
            if rc:
                conf = f" ({_md(rc['category'])}, confidence {rc['confidence']:.0%})" if rc.get("rule") else ""
                out.append(f"- **Root cause:** {_md(rc['summary'])}{conf}")
            if inc.get("failed_step"):
                out.append(f"- **Failed step:** {inc['failed_step']}")
            nxt = next_command(doc, inc)
            if nxt:
                out.append(f"- **Next:** {_code(nxt)}")
            for e in incident_evidence(inc, by_id)[: None if verbose else 3]:
                out.append(f"- Evidence: {_code(cite(e['path'], e.get('line')))} {_md(e.get('text', '')[:200])}")
            for c in inc.get("contributing", []):
                out.append(f"- Contributing: {_md(c.get('summary', c.get('rule', '')))} ({_code(c['rule'])})")
            for c in inc.get("symptoms", []):
                out.append(f"- Symptom: {_md(c.get('summary', ''))} ({_code(c['rule'])})")
            for m in inc.get("missing_evidence", []):
                out.append(f"- Missing evidence: {_md(m)}")
            if inc.get("steps"):
                out += ["", "| step | status | first | duration |", "|---|---|---|---|"]
                for st in inc["steps"]:
                    dur = f"{st['duration_s']:.1f} s" if st.get("duration_s") is not None else ""
                    out.append(f"| {st['step']} | {_STEP_WORD[st['status']]} | {st.get('first') or ''} | {dur} |")
            out.append("")
    findings = [f for f in doc["findings"] if not f["benign"]]
    benign = [f for f in doc["findings"] if f["benign"]]
    out += ["## Findings", ""]
    if not findings and not any(i["outcome"] == "failed" for i in incidents):
        out += ["No problems found." if s["status"] == "OK" else "No rule finding above info.", ""]
    elif not findings:
        out += ["No rule finding; see the incidents above for the failed operations.", ""]
    for f in findings:
        sym = f" (symptom of {', '.join(f['symptom_of'])})" if f["symptom_of"] else ""
        out.append(f"### [{f['severity'].upper()}] {_md(f['title'])}{sym}")
        out.append("")
        out.append(_md(f["message"]))
        out.append("")
        ents = ", ".join(f"{k}={v}" for k, v in f["entities"].items())
        out.append(f"- Rule `{f['rule']}`, category `{f['category']}`, confidence {f['confidence']:.0%}, seen {f['count']}x"
                   + (f", {f['first']} .. {f['last']}" if f.get("first") else "") + (f"; {ents}" if ents else ""))
        if f["evidence"]:
            out.append("- Evidence:")
            shown = len(f["evidence"]) if verbose else 5
            for e in f["evidence"][:shown]:
                out.append(f"  - {_code(cite(e['path'], e.get('line')))} {_md(_cell(e.get('text', ''))[:2000 if verbose else 200])}")
            if len(f["evidence"]) > shown:
                out.append(f"  - ... and {len(f['evidence']) - shown} more (--verbose shows them all)")
        if f["remediation"]:
            out.append("- Next steps:")
            for r in f["remediation"]:
                out.append(f"  1. {_code(r)}" if is_command(r) else f"  1. {_md(r)}")
        out.append("")
    if benign:
        out += ["## Known benign", ""]
        for f in benign:
            out.append(f"- {f['title']} ({f['count']}x, rule `{f['rule']}`)")
        out.append("")
    out += ["## Inputs", "", "| input | kind | records/facts | notes |", "|---|---|---|---|"]
    for i in doc["inputs"]:
        counts = f"{i.get('records', '')}/{i.get('facts', '')}" if i["kind"] == "log" else str(i.get("facts", i.get("detail", "")))
        out.append(f"| {_code(_cell(i['path']))} | {i['kind']}{' (' + i['host'] + ')' if i.get('host') else ''} | {counts} | {_cell('; '.join(i.get('notes', [])))} |")
    if doc["errors"]:
        out += ["", "## Errors (the analysis is incomplete)", ""]
        out += [f"- {_md(_cell(e['message']))}" for e in doc["errors"]]
    if doc.get("notes"):
        out += ["", "## Notes", ""] + [f"- {_md(n)}" for n in doc["notes"]]
    return "\n".join(out) + "\n"
