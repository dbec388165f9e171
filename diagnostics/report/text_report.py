"""The analysis document for a terminal (rich): the answer first, evidence as path:line, next steps last."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from diagnostics.report.document import is_command

_SEV_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
_STATUS_STYLE = {"CRITICAL": "bold white on red", "WARNING": "bold black on yellow", "UNKNOWN": "bold white on blue", "OK": "bold white on green"}


def render_quiet(doc: dict) -> list[str]:
    """One line per incident (or per finding when there are no incidents), for pagers and cron mail."""
    lines = []
    for inc in doc.get("incidents") or []:
        rc = inc.get("root_cause") or {}
        lines.append(f"{doc['summary']['status']} {inc['id']} {inc.get('vm') or '-'} {inc['operation']} {inc['outcome']}"
                     + (f" step={inc['failed_step']}" if inc.get("failed_step") else "")
                     + (f" cause={rc.get('category')}: {rc.get('summary')}" if rc else ""))
    if not lines:
        for f in doc["findings"]:
            if not f["benign"] and not f["symptom_of"]:
                lines.append(f"{f['severity'].upper()} {f['rule']}: {f['message']}")
    if not lines:
        lines.append(f"{doc['summary']['status']} no problems found in {doc['summary']['inputs']} inputs")
    return lines


def render_text(doc: dict, console: Console, verbose: bool = False) -> None:
    s = doc["summary"]
    head = Text(f" {s['status']} ", style=_STATUS_STYLE.get(s["status"], ""))
    head.append(f"  {s['findings'].get('critical', 0)} critical, {s['findings'].get('warning', 0)} warning, "
                f"{s['findings'].get('info', 0)} info, {s.get('benign', 0)} benign  |  {s['inputs']} inputs, "
                f"{s.get('facts', 0)} facts, {s['errors']} errors  |  times in {doc['timezone']}")
    console.print(head)
    for inc in doc.get("incidents") or []:
        _incident(inc, console)
    findings = [f for f in doc["findings"] if not f["benign"]]
    if not findings:
        console.print("No problems found.", style="green")
    for f in findings:
        _finding(f, console, verbose)
    benign = [f for f in doc["findings"] if f["benign"]]
    if benign:
        console.print(Text("Known benign: ", style="dim") + Text(", ".join(f"{f['title']} ({f['count']}x)" for f in benign), style="dim"))
    if doc["errors"]:
        console.print(Text("Incomplete input:", style="bold blue"))
        for e in doc["errors"]:
            console.print(f"  - {e['message']}", markup=False)
    for note in doc.get("notes", []):
        console.print(f"note: {note}", style="dim", markup=False)
    for i in doc["inputs"]:
        for note in i.get("notes", []):
            console.print(f"note: {i['path']}: {note}", style="dim", markup=False)


def _incident(inc: dict, console: Console) -> None:
    rc = inc.get("root_cause")
    body = Text()
    body.append(f"{inc['operation']} of {inc.get('vm') or 'unknown VM'}: {inc['outcome']}", style="bold")
    if inc.get("failed_step"):
        body.append(f"  (failed at: {inc['failed_step']})")
    if rc:
        body.append(f"\nRoot cause [{rc['category']}, {rc['confidence']:.0%}]: ", style="bold red")
        body.append(rc["summary"])
    for c in inc.get("contributing", []):
        body.append(f"\nContributing: {c.get('summary', c.get('rule', ''))}")
    if inc.get("steps"):
        body.append("\nSteps:")
        for st in inc["steps"]:
            mark = {"ok": "ok  ", "failed": "FAIL", "unknown": "?   "}[st["status"]]
            dur = f" {st['duration_s']:.1f}s" if st.get("duration_s") is not None else ""
            when = (st.get("first") or "")[11:23]
            body.append(f"\n  {mark} {st['step']:<16} {when:<12}{dur:>9}")
            for e in st.get("evidence", [])[:2]:
                body.append(f"\n         {e['path']}:{e['line']}", style="dim")
    for m in inc.get("missing_evidence", []):
        body.append(f"\nMissing evidence: {m}", style="blue")
    console.print(Panel(body, title=inc["id"], title_align="left"))


def _finding(f: dict, console: Console, verbose: bool) -> None:
    style = _SEV_STYLE.get(f["severity"], "")
    title = Text(f"[{f['severity'].upper()}] ", style=style)
    title.append(f["title"], style="bold")
    if f["symptom_of"]:
        title.append(f"  (symptom of {', '.join(f['symptom_of'])})", style="dim")
    console.print(title)
    console.print(f"  {f['message']}", markup=False)
    meta = f"  rule {f['rule']} | {f['category']} | confidence {f['confidence']:.0%} | {f['count']}x"
    if f.get("first"):
        meta += f" | {f['first']}" + (f" .. {f['last']}" if f.get("last") and f["last"] != f["first"] else "")
    console.print(meta, style="dim", markup=False)
    limit = len(f["evidence"]) if verbose else 3
    for e in f["evidence"][:limit]:
        console.print(f"  at {e['path']}:{e['line']}  {e.get('text', '')[:160]}", markup=False, style="dim")
    if len(f["evidence"]) > limit:
        console.print(f"  ... {len(f['evidence']) - limit} more (--verbose)", style="dim")
    if f["remediation"] and not f["symptom_of"]:
        console.print("  next:", style="bold")
        for r in f["remediation"]:
            console.print(f"    $ {r}" if is_command(r) else f"    - {r}", markup=False)
