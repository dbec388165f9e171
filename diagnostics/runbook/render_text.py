"""The runbook in the terminal (rich): a status mark per check, its findings, what to run and what to verify.

All text from evidence is printed as plain Text, never as console markup: log lines are full of square brackets.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from diagnostics.runbook.assess import fill, status
from diagnostics.runbook.model import SECTION_TITLES, SECTIONS, Assessment, CheckResult

_MARK = {"passed": ("PASSED ", "green"), "failed": ("FAILED ", "bold red"), "unknown": ("unknown", "dim")}
_STATUS_STYLE = {"OK": "bold green", "WARNING": "bold yellow", "CRITICAL": "bold red", "UNKNOWN": "bold magenta"}
_INDENT = "          "
_PLACE_TAG = {"api": "api   $ ", "mgmt": "mgmt  $ ", "host": "host  $ ", "guest": "guest $ "}


def _line(console: Console, *parts: tuple[str, str] | str) -> None:
    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(part[0], style=part[1])
        else:
            text.append(part)
    console.print(text, soft_wrap=True)


def _check(console: Console, result: CheckResult, a: Assessment) -> None:
    c = result.check
    applies = f"  ({c.applies})" if c.applies else ""
    if a.evidence:
        label, style = _MARK[result.status]
        if result.status == "failed":
            style = "bold red" if result.level == "critical" else "bold yellow"
        _line(console, "  ", (label, style), " ", (c.title, "bold"), (applies, "italic"), (f"  [{c.id}]", "dim"))
    else:
        _line(console, "  - ", (c.title, "bold"), (applies, "italic"), (f"  [{c.id}]", "dim"))
    for ref in result.failed_by:
        symptom = f" (symptom of {', '.join(ref.symptom_of)})" if ref.symptom_of else ""
        _line(console, _INDENT, (f"{ref.id} {ref.rule}", "bold"), f" ({ref.severity}){symptom}: {ref.message}")
        for ev in ref.evidence[:2]:
            _line(console, _INDENT, "    ", (str(ev), "cyan"))
    if result.passed_by:
        _line(console, _INDENT, ("passed by ", "green"), ", ".join(str(e) for e in result.passed_by))
    for note in result.notes:
        _line(console, _INDENT, ("note ", "dim"), note)
    if a.evidence and result.status == "passed":
        return  # done: what to run matters for what failed or is still open
    if c.where:
        _line(console, _INDENT, ("where  ", "dim"), c.where)
    _line(console, _INDENT, ("why    ", "dim"), " ".join(c.why.split()))
    for cmd in c.commands:
        _line(console, _INDENT, (_PLACE_TAG[cmd.on], "dim"), (fill(cmd.run, a.values), "cyan"))
    for v in c.verify:
        _line(console, _INDENT, ("verify ", "dim"), " ".join(fill(v, a.values).split()))


def render_text(a: Assessment, console: Console) -> None:
    rb = a.runbook
    _line(console, (f"Runbook: {rb.title}", "bold underline"))
    if a.evidence:
        counts = {s: sum(1 for r in a.checks if r.status == s) for s in ("passed", "failed", "unknown")}
        state = status(a)
        who = f"VM {a.vm}" if a.vm else "all VMs in the evidence (--vm to focus on one)"
        _line(console, (state, _STATUS_STYLE[state]), f"  {who}: {counts['passed']} passed, {counts['failed']} failed, "
              f"{counts['unknown']} unknown (not decided by the evidence); {a.inputs} inputs")
        if a.vm and not a.vm_found:
            _line(console, ("VM not found", "bold magenta"), f": {a.vm} does not appear in the evidence")
    _line(console, " ".join(rb.summary.split()))
    _line(console, ("Run  api $ with cmk (CloudMonkey), mgmt $ on the management server, host $ on the VM's hypervisor, "
                    "guest $ inside the VM. <placeholders> are values the evidence did not give.", "dim"))
    for section in SECTIONS:
        results = a.results(section)
        if not results:
            continue
        console.print()
        _line(console, (SECTION_TITLES[section], "bold"))
        for result in results:
            _check(console, result, a)
    if a.unchecked:
        console.print()
        _line(console, ("Findings no check covers", "bold"))
        for ref in a.unchecked:
            _line(console, "  ", (f"{ref.id} {ref.rule}", "bold"), f" ({ref.severity}): {ref.message}")
    console.print()
    _line(console, ("Admin desk", "bold"))
    for q in a.questions:
        _line(console, "  ", (q.question.question, "bold"))
        _line(console, "    ", " ".join(fill(q.question.answer, a.values).split()))
        if q.seen:
            _line(console, "    ", ("seen in this evidence: ", "yellow"), ", ".join(f"{r.id} {r.rule}" for r in q.seen))
