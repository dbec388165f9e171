"""The analysis document as text: the answer first and last, for a terminal, a pipe, a file or a pager.

Why this shape: an operator paged at night reads the first screen and the last screen. So the report opens with the
status and, per incident, what failed, why and the one next command; details (every finding, every evidence line)
come with `--verbose`; and it ends with one closing block per incident, so the screen left after the scroll is the
answer again. No boxes and no hard wraps: a `path:line` stays whole on one line (copyable, clickable), output that
is not a terminal gets no colour, and a narrow terminal wraps lines itself.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from diagnostics.report.document import is_command, next_command
from diagnostics.untrusted import for_terminal

_SEV_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
_STATUS_STYLE = {"CRITICAL": "bold white on red", "WARNING": "bold black on yellow", "UNKNOWN": "bold white on blue",
                 "OK": "bold white on green"}
_STEP_WORD = {"ok": "ok", "failed": "FAILED", "unknown": "not logged"}
_ARCHIVE = re.compile(r"^(?P<archive>.+?\.(?:tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar\.zst|tar|zip)):(?P<member>[^:].*)$")


def cite(path: str, line: int | None) -> str:
    """`path:line` that opens: inside an archive `case.tar.gz!files/x/agent.log:378` (see `extract_command`)."""
    m = _ARCHIVE.match(path)
    where = f"{m['archive']}!{m['member']}" if m else path
    return for_terminal(f"{where}:{line}" if line else where)


def extract_command(path: str) -> str | None:
    """The command that extracts an archive member cited by `cite`, or None for a plain file."""
    m = _ARCHIVE.match(path)
    if not m:
        return None
    archive, member = m["archive"], m["member"]
    if archive.endswith(".zip"):
        return f"unzip -o {_quote(archive)} {_quote(member)}"
    return f"tar -xf {_quote(archive)} {_quote(member)}"


def _quote(s: str) -> str:
    return s if re.fullmatch(r"[\w./@%+=:,-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def vm_label(inc: dict, with_uuid: bool = False) -> str:
    """One VM naming everywhere: the instance name, its UUID only where asked (once per incident)."""
    vm = inc.get("vm")
    if not vm:
        return "VM not logged"
    if with_uuid and inc.get("vm_uuid"):
        return f"{vm} (uuid {inc['vm_uuid']})"
    return vm


def outcome_phrase(inc: dict) -> str:
    outcome = inc["outcome"]
    if outcome == "failed":
        return "failed" + (f" at {inc['failed_step']}" if inc.get("failed_step") else "")
    if outcome == "succeeded":
        return "succeeded"
    return "outcome not logged"


def cause_phrase(rc: dict) -> str:
    if rc.get("rule"):
        return f"{rc['summary']} ({rc['category']}, confidence {rc['confidence']:.0%})"
    return rc["summary"]


def status_counts(doc: dict) -> str:
    s = doc["summary"]
    inc = s.get("incidents") or {}
    parts = []
    if inc.get("total"):
        parts.append(f"{inc['failed']} of {inc['total']} operations failed" if inc.get("failed")
                     else f"{inc['total']} operations, none failed")
    f = s["findings"]
    parts.append(f"{f.get('critical', 0)} critical, {f.get('warning', 0)} warning, {f.get('info', 0)} info findings, "
                 f"{s.get('benign', 0)} benign")
    parts.append(f"{s['inputs']} inputs, {s.get('facts', 0)} facts, {s['errors']} errors")
    parts.append(f"times in {doc['timezone']}")
    return "; ".join(parts)


def _in_incidents(doc: dict) -> set[str]:
    return {fid for inc in doc.get("incidents") or [] for fid in inc.get("findings", [])}


def loose_findings(doc: dict) -> list[dict]:
    """Critical and warning findings that belong to no incident and point at no cause (a TLS failure seen only in a
    capture): a summary that left them out could hide the real cause."""
    mine = _in_incidents(doc)
    return [f for f in doc["findings"] if not f["benign"] and not f["symptom_of"] and f["id"] not in mine
            and f["severity"] in ("critical", "warning")]


def render_quiet(doc: dict) -> list[str]:
    """One line per incident with the incident's own status, then one per loose critical/warning finding."""
    lines = []
    for inc in doc.get("incidents") or []:
        rc = inc.get("root_cause") or {}
        lines.append(for_terminal(
            f"{inc.get('status', doc['summary']['status'])} {inc['id']} {inc.get('vm') or '-'} {inc['operation']} {inc['outcome']}"
            + (f" step={inc['failed_step']}" if inc.get("failed_step") else "")
            + (f" cause={rc.get('category')}: {rc.get('summary')}" if rc else "")))
    for f in loose_findings(doc):
        lines.append(for_terminal(f"{f['severity'].upper()} - {f['rule']}: {f['message']}"))
    if not lines:
        status = doc["summary"]["status"]
        lines.append(f"{status} no problems found in {doc['summary']['inputs']} inputs" if status == "OK"
                     else f"{status} {status_counts(doc)}")
    return lines


def render_text(doc: dict, console: Console, verbose: bool = False) -> None:
    for text in report_lines(doc, verbose):
        console.print(text, soft_wrap=True)


def report_lines(doc: dict, verbose: bool = False) -> list[Text]:
    out: list[Text] = []
    s = doc["summary"]
    head = Text(f" {s['status']} ", style=_STATUS_STYLE.get(s["status"], ""))
    head.append("  " + status_counts(doc))
    out.append(head)
    by_id = {f["id"]: f for f in doc["findings"]}
    archives: dict[str, str] = {}
    for inc in doc.get("incidents") or []:
        out.append(Text(""))
        out += _incident(doc, inc, by_id, verbose, archives)
    loose = loose_findings(doc)
    shown = doc["findings"] if verbose else loose
    shown = [f for f in shown if not f["benign"]]
    if shown:
        out.append(Text(""))
        out.append(Text("Findings" if verbose else "Findings outside the incidents", style="bold"))
        for f in shown:
            out += _finding(f, verbose, archives)
    elif not doc.get("incidents") and s["status"] == "OK":
        out.append(Text("No problems found.", style="green"))
    hidden = len([f for f in doc["findings"] if not f["benign"]]) - len(shown)
    if hidden > 0:
        out.append(Text(f"{hidden} more findings with their evidence and commands: --verbose", style="dim"))
    benign = [f for f in doc["findings"] if f["benign"]]
    if benign:
        out.append(Text("Known benign: " + ", ".join(for_terminal(f"{f['title']} ({f['count']}x)") for f in benign), style="dim"))
    if archives:
        out.append(Text("Evidence inside archives (cited as ARCHIVE!MEMBER:LINE); to open it, extract first:", style="dim"))
        for command in archives.values():
            out.append(Text(f"  $ {for_terminal(command)}", style="dim"))
    if doc["errors"]:
        out.append(Text("Incomplete input (the answer may be incomplete):", style="bold blue"))
        for e in doc["errors"]:
            out.append(Text(f"  - {for_terminal(e['message'])}"))
    for note in doc.get("notes", []):
        out.append(Text(f"note: {for_terminal(note)}", style="dim"))
    if verbose:
        for i in doc["inputs"]:
            for note in i.get("notes", []):
                out.append(Text(f"note: {for_terminal(i['path'])}: {for_terminal(note)}", style="dim"))
    out += closing_lines(doc)
    return out


def closing_lines(doc: dict) -> list[Text]:
    """The last screen: per incident what failed, why and what to run next; then the overall status."""
    out = [Text("")]
    incidents = doc.get("incidents") or []
    s = doc["summary"]
    for inc in incidents:
        style = _STATUS_STYLE.get(inc.get("status", ""), "")
        line = Text(f" {inc.get('status', s['status'])} ", style=style)
        line.append(for_terminal(f" {inc['id']} {vm_label(inc)}: {inc['operation']} {outcome_phrase(inc)}"), style="bold")
        out.append(line)
        rc = inc.get("root_cause")
        if rc:
            out.append(Text("   why:  " + for_terminal(cause_phrase(rc))))
        nxt = next_command(doc, inc)
        if nxt:
            out.append(Text("   next: " + for_terminal(nxt)))
    loose = loose_findings(doc)
    if loose:
        out.append(Text(f" {len(loose)} finding(s) outside the incidents, worst: "
                        + for_terminal(f"[{loose[0]['severity'].upper()}] {loose[0]['title']}")))
    if not incidents and not loose:
        out.append(Text(f" {s['status']} ", style=_STATUS_STYLE.get(s["status"], ""))
                   + Text(" no problems found" if s["status"] == "OK" else " " + status_counts(doc)))
    return out


def _incident(doc: dict, inc: dict, by_id: dict, verbose: bool, archives: dict) -> list[Text]:
    out = []
    head = Text(f"{inc['id']} ", style="bold")
    head.append(f"{inc.get('status', '')}", style=_SEV_STYLE.get(inc.get("status", "").lower(), ""))
    head.append("  " + for_terminal(vm_label(inc, with_uuid=True)), style="bold")
    out.append(head)
    details = []
    if inc.get("jobs"):
        details.append("job " + ", ".join(str(j) for j in inc["jobs"]))
    if inc.get("hosts"):
        details.append("hosts " + ", ".join(inc["hosts"]))
    out.append(_field("operation", f"{inc['operation']}: {outcome_phrase(inc)}" + (f" ({'; '.join(details)})" if details else "")))
    rc = inc.get("root_cause")
    if rc:
        line = _field("root cause", cause_phrase(rc))
        line.stylize("bold", 0, 14)
        out.append(line)
    nxt = next_command(doc, inc)
    if nxt:
        out.append(_field("next", f"$ {nxt}"))
    if inc.get("steps"):
        parts = []
        for st in inc["steps"]:
            when = (st.get("first") or "")[11:19]
            dur = f" {st['duration_s']:.1f}s" if st.get("duration_s") else ""
            parts.append(f"{st['step']} {_STEP_WORD[st['status']]}" + (f" {when}{dur}" if when else ""))
        out.append(_field("steps", " > ".join(parts)))
    failed = [st for st in inc.get("steps", []) if st["status"] == "failed"]
    evidence = incident_evidence(inc, by_id)
    limit = len(evidence) if verbose else 3
    for k, e in enumerate(evidence[:limit]):
        out.append(_field("evidence" if k == 0 else "", cite(e["path"], e.get("line"))
                          + (f"  {for_terminal(e.get('text', ''))[:160]}" if verbose else ""), style="dim"))
        _note_archive(e["path"], archives)
    if len(evidence) > limit:
        out.append(_field("", f"... {len(evidence) - limit} more lines (--verbose)", style="dim"))
    contributing = inc.get("contributing", [])
    for k, c in enumerate(contributing if verbose else contributing[:3]):
        out.append(_field("also" if k == 0 else "", f"{c['summary']} ({c['rule']})"))
    if not verbose and len(contributing) > 3:
        out.append(_field("", f"... {len(contributing) - 3} more contributing findings (--verbose)", style="dim"))
    symptoms = inc.get("symptoms", [])
    if verbose:
        for k, c in enumerate(symptoms):
            out.append(_field("symptom" if k == 0 else "", f"{c['summary']} ({c['rule']})", style="dim"))
    elif symptoms:
        out.append(_field("symptoms", f"{len(symptoms)} finding(s) that only follow from the cause (--verbose)", style="dim"))
    for k, m in enumerate(inc.get("missing_evidence", [])):
        out.append(_field("missing" if k == 0 else "", m, style="blue"))
    skew = inc.get("clock_skew")
    if verbose and skew:
        out.append(_field("clock", f"agent vs management server {skew.get('offset_s', 0):+.3f} s ({skew.get('method', '')})", style="dim"))
    return out


def incident_evidence(inc: dict, by_id: dict) -> list[dict]:
    """The lines that show the root cause (its finding's, or the loud lines of an unrecognised failure), else the
    failed step's."""
    rc = inc.get("root_cause") or {}
    if rc.get("evidence"):
        return rc["evidence"]
    if rc.get("finding") in by_id and by_id[rc["finding"]]["evidence"]:
        return by_id[rc["finding"]]["evidence"]
    failed = [st for st in inc.get("steps", []) if st["status"] == "failed"]
    return failed[0].get("evidence", []) if failed else []


def _field(name: str, value: str, style: str = "") -> Text:
    line = Text(f"  {name + ':' if name else '':<12} ")
    line.append(for_terminal(value), style=style)
    return line


def _note_archive(path: str, archives: dict) -> None:
    command = extract_command(path)
    if command:
        archives.setdefault(path, command)


def _finding(f: dict, verbose: bool, archives: dict) -> list[Text]:
    out = []
    title = Text(f"[{f['severity'].upper()}] ", style=_SEV_STYLE.get(f["severity"], ""))
    title.append(for_terminal(f["title"]), style="bold")
    if f["symptom_of"]:
        title.append(for_terminal(f"  (symptom of {', '.join(f['symptom_of'])})"), style="dim")
    out.append(title)
    out.append(Text(f"  {for_terminal(f['message'])}"))
    meta = f"  rule {f['rule']} | {f['category']} | confidence {f['confidence']:.0%} | {f['count']}x"
    if f.get("first"):
        meta += f" | {f['first']}" + (f" .. {f['last']}" if f.get("last") and f["last"] != f["first"] else "")
    out.append(Text(for_terminal(meta), style="dim"))
    limit = len(f["evidence"]) if verbose else 1
    for e in f["evidence"][:limit]:
        out.append(Text(f"  at {cite(e['path'], e.get('line'))}  {for_terminal(e.get('text', ''))[:160]}", style="dim"))
        _note_archive(e["path"], archives)
    if len(f["evidence"]) > limit:
        out.append(Text(f"  ... {len(f['evidence']) - limit} more (--verbose)", style="dim"))
    if f["remediation"] and not f["symptom_of"]:
        out.append(Text("  next:", style="bold"))
        for r in f["remediation"] if verbose else f["remediation"][:2]:
            out.append(Text(f"    $ {for_terminal(r)}" if is_command(r) else f"    - {for_terminal(r)}"))
    return out
