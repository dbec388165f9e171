"""The analysis document as Markdown, for tickets and post-incident reviews."""

from __future__ import annotations

from diagnostics.report.document import is_command


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
    if incidents:
        out += ["## Incidents", ""]
        for inc in incidents:
            rc = inc.get("root_cause")
            out.append(f"### {inc['id']}: {inc['operation']} of {inc.get('vm') or 'unknown VM'} — {inc['outcome']}")
            out.append("")
            if rc:
                out.append(f"- **Root cause** ({rc['category']}, confidence {rc['confidence']:.0%}): {rc['summary']}")
            if inc.get("failed_step"):
                out.append(f"- **Failed step:** {inc['failed_step']}")
            for c in inc.get("contributing", []):
                out.append(f"- Contributing: {c.get('summary', c.get('rule', ''))}")
            for m in inc.get("missing_evidence", []):
                out.append(f"- Missing evidence: {m}")
            if inc.get("steps"):
                out += ["", "| step | status | first | duration |", "|---|---|---|---|"]
                for st in inc["steps"]:
                    dur = f"{st['duration_s']:.1f} s" if st.get("duration_s") is not None else ""
                    out.append(f"| {st['step']} | {st['status']} | {st.get('first') or ''} | {dur} |")
            out.append("")
    findings = [f for f in doc["findings"] if not f["benign"]]
    benign = [f for f in doc["findings"] if f["benign"]]
    out += ["## Findings", ""]
    if not findings:
        out += ["No problems found.", ""]
    for f in findings:
        sym = f" (symptom of {', '.join(f['symptom_of'])})" if f["symptom_of"] else ""
        out.append(f"### [{f['severity'].upper()}] {f['title']}{sym}")
        out.append("")
        out.append(f"{f['message']}")
        out.append("")
        ents = ", ".join(f"{k}={v}" for k, v in f["entities"].items())
        out.append(f"- Rule `{f['rule']}`, category `{f['category']}`, confidence {f['confidence']:.0%}, seen {f['count']}x"
                   + (f", {f['first']} .. {f['last']}" if f.get("first") else "") + (f"; {ents}" if ents else ""))
        if f["evidence"]:
            out.append("- Evidence:")
            for e in f["evidence"][:5]:
                out.append(f"  - `{e['path']}:{e['line']}` {_cell(e.get('text', ''))[:200]}")
            if len(f["evidence"]) > 5:
                out.append(f"  - ... and {len(f['evidence']) - 5} more")
        if f["remediation"]:
            out.append("- Next steps:")
            for r in f["remediation"]:
                out.append(f"  1. `{r}`" if is_command(r) else f"  1. {r}")
        out.append("")
    if benign:
        out += ["## Known benign", ""]
        for f in benign:
            out.append(f"- {f['title']} ({f['count']}x, rule `{f['rule']}`)")
        out.append("")
    out += ["## Inputs", "", "| input | kind | records/facts | notes |", "|---|---|---|---|"]
    for i in doc["inputs"]:
        counts = f"{i.get('records', '')}/{i.get('facts', '')}" if i["kind"] == "log" else str(i.get("facts", i.get("detail", "")))
        out.append(f"| `{_cell(i['path'])}` | {i['kind']}{' (' + i['host'] + ')' if i.get('host') else ''} | {counts} | {_cell('; '.join(i.get('notes', [])))} |")
    if doc["errors"]:
        out += ["", "## Errors (the analysis is incomplete)", ""]
        out += [f"- {_cell(e['message'])}" for e in doc["errors"]]
    if doc.get("notes"):
        out += ["", "## Notes", ""] + [f"- {n}" for n in doc["notes"]]
    return "\n".join(out) + "\n"
