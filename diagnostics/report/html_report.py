"""The analysis document as one self-contained HTML file, for a ticket attachment read offline.

Why one file and no network: the page is opened from a ticket, a mail or a laptop on a train; it must not fetch
anything (fonts, scripts, images) and must not leak that it was opened. Everything is inline (CSS, an SVG per
incident), a Content-Security-Policy forbids every fetch, and every string from the inputs goes through
`untrusted.for_html`. The picture shows, per incident, the operation's steps on the management server's lane and
the evidence of each host on its own lane, the failing step marked, so "where and when did it break" is one glance.
"""

from __future__ import annotations

import math
import os
from datetime import datetime

from diagnostics.report.document import is_command, next_command
from diagnostics.report.text_report import cite, extract_command, incident_evidence, outcome_phrase, status_counts, vm_label
from diagnostics.untrusted import for_html

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_STATUS_COLOR = {"CRITICAL": "#b71c1c", "WARNING": "#b26a00", "UNKNOWN": "#1a4f9c", "OK": "#2e7d32"}
_STEP_COLOR = {"ok": "#43a047", "failed": "#d32f2f", "unknown": "#9e9e9e"}
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#212121}
h1{font-size:20px;margin:0 0 8px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
.status{display:inline-block;color:#fff;font-weight:700;padding:2px 10px;border-radius:3px;margin-right:8px}
.incident{border:1px solid #ccc;border-left:6px solid #999;border-radius:4px;padding:8px 14px;margin:14px 0}
table{border-collapse:collapse;width:100%;margin:6px 0;table-layout:fixed}
td{overflow-wrap:anywhere} th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5} table.summary th{width:140px} table.findings th:nth-child(1){width:34px} table.findings th:nth-child(2){width:70px}
table.findings th:nth-child(3){width:28%} table.findings th:nth-child(5){width:80px} table.findings th:nth-child(6){width:50px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;word-break:break-all;background:#fafafa;border:1px solid #eee;padding:6px;margin:4px 0}
details{margin:2px 0} summary{cursor:pointer}
.critical{color:#b71c1c;font-weight:700} .warning{color:#b26a00;font-weight:700} .info{color:#1a4f9c}
.dim{color:#757575} .cause{font-weight:600}
svg{background:#fff;border:1px solid #eee;max-width:100%}
"""


def render_html(doc: dict) -> str:
    s = doc["summary"]
    by_id = {f["id"]: f for f in doc["findings"]}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>csdiag: {for_html(s['status'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>csdiag analysis</h1>",
        f'<p id="status"><span class="status" style="background:{_STATUS_COLOR.get(s["status"], "#555")}">{for_html(s["status"])}</span>'
        f"{for_html(status_counts(doc))}. csdiag {for_html(doc['tool']['version'])}, generated {for_html(doc['generated'])}.</p>",
    ]
    incidents = doc.get("incidents") or []
    if incidents:
        out.append("<h2>Incidents</h2>")
        for inc in incidents:
            out += _incident(doc, inc, by_id)
    elif s["status"] == "OK":
        out.append('<p id="answer">No problems found.</p>')
    out += _findings(doc)
    out += _inputs(doc)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _incident(doc: dict, inc: dict, by_id: dict) -> list[str]:
    status = inc.get("status", doc["summary"]["status"])
    color = _STATUS_COLOR.get(status, "#999")
    out = [f'<section class="incident" id="{for_html(inc["id"])}" style="border-left-color:{color}">',
           f'<h3><span class="status" style="background:{color}">{for_html(status)}</span>{for_html(inc["id"])}: '
           f"{for_html(vm_label(inc))} — {for_html(inc['operation'])} {for_html(outcome_phrase(inc))}</h3>",
           '<table class="summary">']
    rows = [("VM", vm_label(inc, with_uuid=True)), ("Operation", inc["operation"]), ("Outcome", outcome_phrase(inc))]
    if inc.get("jobs"):
        rows.append(("Jobs", ", ".join(str(j) for j in inc["jobs"])))
    if inc.get("hosts"):
        rows.append(("Hosts", ", ".join(inc["hosts"])))
    for name, value in rows:
        out.append(f"<tr><th>{name}</th><td>{for_html(value)}</td></tr>")
    rc = inc.get("root_cause")
    if rc:
        conf = f" ({for_html(rc['category'])}, confidence {rc['confidence']:.0%})" if rc.get("rule") else ""
        out.append(f'<tr><th>Root cause</th><td class="cause root-cause">{for_html(rc["summary"])}{conf}</td></tr>')
    nxt = next_command(doc, inc)
    if nxt:
        out.append(f'<tr><th>Next</th><td><code class="next">{for_html(nxt)}</code></td></tr>')
    for c in inc.get("contributing", []):
        out.append(f"<tr><th>Contributing</th><td>{for_html(c['summary'])} <span class=\"dim\">({for_html(c['rule'])})</span></td></tr>")
    for c in inc.get("symptoms", []):
        out.append(f"<tr><th>Symptom</th><td class=\"dim\">{for_html(c['summary'])} ({for_html(c['rule'])})</td></tr>")
    out.append("</table>")
    out.append(timeline_svg(doc, inc, by_id))
    evidence = incident_evidence(inc, by_id)
    steps_evidence = [(st["step"], e) for st in inc.get("steps", []) for e in st.get("evidence", [])]
    if evidence or steps_evidence:
        out.append("<h4>Evidence</h4>")
        seen = set()
        for label, e in [("root cause", e) for e in evidence] + steps_evidence:
            key = (e["path"], e.get("line"))
            if key in seen:
                continue
            seen.add(key)
            out.append(_evidence(e, label))
    if inc.get("missing_evidence"):
        out.append("<h4>Missing evidence</h4><ul>" + "".join(f"<li>{for_html(m)}</li>" for m in inc["missing_evidence"]) + "</ul>")
    out.append("</section>")
    return out


def _evidence(e: dict, label: str = "") -> str:
    where = cite(e["path"], e.get("line"))
    extract = extract_command(e["path"])
    href = "file://" + os.path.abspath(e["path"]) if not extract else None
    link = f'<a class="mono" href="{for_html(href)}">{for_html(where)}</a>' if href else f'<span class="mono">{for_html(where)}</span>'
    when = f' <span class="dim">{for_html(e["ts"][11:23])}</span>' if e.get("ts") else ""
    tag = f' <span class="dim">[{for_html(label)}]</span>' if label else ""
    body = f"<pre>{for_html(e.get('text', ''))}</pre>"
    if extract:
        body += f'<p class="dim">inside an archive; to open it: <code>{for_html(extract)}</code></p>'
    return f"<details><summary>{link}{when}{tag}</summary>{body}</details>"


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _lane_of(path: str, doc: dict, hosts: tuple[str, ...] = ()) -> str:
    """The lane of an evidence file: its host for host evidence and for an agent.log (the incident's host named by
    one of its folders, as `kvm01/agent.log`; its side may read `mixed` when some records look like the management
    server's), else the management server."""
    for item in doc.get("inputs", []):
        if item.get("path") == path:
            if item.get("kind") == "host" and item.get("host"):
                return item["host"]
            agent_side = item.get("side") in ("agent", "mixed") or os.path.basename(path).startswith("agent.log")
            if agent_side:
                folders = path.replace("\\", "/").split("/")[:-1]
                named = [h for h in hosts if h in folders]
                if named:
                    return named[-1]
                if item.get("side") == "agent":
                    return item.get("host") or "agent"
            return "management server"
    return "management server"


def timeline_svg(doc: dict, inc: dict, by_id: dict) -> str:
    """The operation on a time axis: steps as bars on the management server's lane, evidence ticks on the lane of
    the file they come from (the host of an agent.log), the failing step in red with a dashed marker."""
    steps = [st for st in inc.get("steps", []) if _ts(st.get("first"))]
    hosts = tuple(inc.get("hosts") or ())
    marks: list[tuple[str, datetime, str, bool]] = []  # lane, time, label, failure
    for st in inc.get("steps", []):
        for e in st.get("evidence", []):
            t = _ts(e.get("ts"))
            if t:
                marks.append((_lane_of(e["path"], doc, hosts), t, f"{cite(e['path'], e.get('line'))}", st["status"] == "failed"))
    rc = inc.get("root_cause") or {}
    for e in rc.get("evidence", []):
        t = _ts(e.get("ts"))
        if t:
            marks.append((_lane_of(e["path"], doc, hosts), t, cite(e["path"], e.get("line")), True))
    root = by_id.get(rc.get("finding") or "")
    if root and _ts(root.get("first")) and root.get("evidence"):
        marks.append((_lane_of(root["evidence"][0]["path"], doc, hosts), _ts(root["first"]), "root cause: "
                      + cite(root["evidence"][0]["path"], root["evidence"][0].get("line")), True))
    times = [t for st in steps for t in (_ts(st["first"]), _ts(st.get("last"))) if t] + [m[1] for m in marks]
    if not times:
        return '<p class="dim">No timed steps in the inputs: no timeline picture.</p>'
    try:
        ordered = sorted(set(times))
    except TypeError:  # naive and aware times mixed
        return '<p class="dim">Step times mix zones: no timeline picture.</p>'
    t0, t1 = ordered[0], ordered[-1]
    span = max((t1 - t0).total_seconds(), 1.0)
    # A compressed axis: each gap between two event times gets a width growing with log(1 + seconds), so a 5 s
    # start after a 12 min stop is still visible; the order of events is kept exactly.
    cum, acc = {ordered[0]: 0.0}, 0.0
    for a, b in zip(ordered, ordered[1:]):
        acc += math.log1p((b - a).total_seconds()) + 0.05
        cum[b] = acc
    total = acc or 1.0
    lanes = ["management server"] + sorted({m[0] for m in marks if m[0] != "management server"}
                                           | set(inc.get("hosts", [])) - {"management server"})
    left, width, top, row, host_h = 150, 820, 14, 22, 40
    mgmt_h = row * max(len(steps), 1) + 26  # one row per step (a clean-up stop can overlap the start), then marks
    lane_top = {"management server": top}
    for k, lane in enumerate(lanes[1:]):
        lane_top[lane] = top + mgmt_h + k * host_h
    height = top + mgmt_h + host_h * (len(lanes) - 1) + 40

    def x(t: datetime) -> float:
        return left + cum[t] / total * width

    def mark_y(lane: str) -> float:
        return lane_top[lane] + (mgmt_h - 12 if lane == "management server" else host_h / 2)

    svg = [f'<svg class="timeline" role="img" aria-label="timeline of {for_html(inc["id"])}" xmlns="http://www.w3.org/2000/svg" '
           f'width="{left + width + 30}" height="{height}" viewBox="0 0 {left + width + 30} {height}" font-family="sans-serif" font-size="11">']
    for lane in lanes:
        y = mark_y(lane)
        svg.append(f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#e0e0e0"/>')
        label_y = lane_top[lane] + (mgmt_h / 2 if lane == "management server" else host_h / 2) + 4
        svg.append(f'<text x="8" y="{label_y}" font-weight="600">{for_html(lane)}</text>')
        if lane != "management server" and not any(m[0] == lane for m in marks):
            svg.append(f'<text x="{left + 6}" y="{y - 5}" fill="#9e9e9e">no evidence from this host among the inputs</text>')
    axis_y = height - 22
    for k, st in enumerate(steps):
        a, b = _ts(st["first"]), _ts(st.get("last")) or _ts(st["first"])
        xa, xb = x(a), x(b)
        y = top + k * row
        color = _STEP_COLOR.get(st["status"], "#9e9e9e")
        failed = st["status"] == "failed"
        svg.append(f'<rect class="step step-{for_html(st["status"])}" x="{xa:.1f}" y="{y + 3}" width="{max(xb - xa, 4):.1f}" '
                   f'height="{row - 6}" fill="{color}" rx="2"><title>{for_html(st["step"])}: {for_html(st["status"])} '
                   f'{for_html(st["first"])}</title></rect>')
        label = st["step"] + (" FAILED" if failed else "")
        weight = ' font-weight="700"' if failed else ""
        end = xb + 4 > left + width - 110
        lx, anchor = (xa - 4, ' text-anchor="end"') if end else (max(xb, xa + 4) + 4, "")
        svg.append(f'<text x="{lx:.1f}" y="{y + row / 2 + 4}" fill="{color}"{weight}{anchor}>{for_html(label)}</text>')
        svg.append(f'<text x="{xa:.1f}" y="{axis_y}" fill="#757575" font-size="10">{for_html(st["first"][11:19])}</text>')
        if failed:
            svg.append(f'<line class="failed-marker" x1="{xa:.1f}" y1="{top}" x2="{xa:.1f}" y2="{axis_y - 10}" stroke="#d32f2f" stroke-dasharray="4 3"/>')
    for lane, t, label, failure in marks:
        color = "#d32f2f" if failure else "#455a64"
        svg.append(f'<circle class="evidence-mark" cx="{x(t):.1f}" cy="{mark_y(lane):.1f}" r="4" '
                   f'fill="{color}"><title>{for_html(label)} {for_html(t.isoformat())}</title></circle>')
    svg.append(f'<text x="{left}" y="{height - 6}" fill="#757575">{for_html(t0.isoformat(timespec="seconds"))} .. '
               f'{for_html(t1.isoformat(timespec="seconds"))} ({span:.0f} s; axis compressed: gaps on a log scale; '
               f'dots: evidence lines, red = failure)</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def _findings(doc: dict) -> list[str]:
    out = ["<h2>Findings</h2>"]
    findings = [f for f in doc["findings"] if not f["benign"]]
    if not findings:
        out.append("<p>No findings above info.</p>")
    else:
        out.append('<table class="findings"><tr><th>id</th><th>severity</th><th>finding</th><th>rule / category</th>'
                   "<th>confidence</th><th>seen</th><th>evidence</th><th>next</th></tr>")
        for f in findings:
            ev = "".join(_evidence(e) for e in f["evidence"][:5])
            if len(f["evidence"]) > 5:
                ev += f'<span class="dim">… {len(f["evidence"]) - 5} more</span>'
            nxt = "".join(f"<div><code>{for_html(r)}</code></div>" if is_command(r) else f"<div>{for_html(r)}</div>"
                          for r in f["remediation"])
            sym = f'<div class="dim">symptom of {for_html(", ".join(f["symptom_of"]))}</div>' if f["symptom_of"] else ""
            out.append(f'<tr id="{for_html(f["id"])}"><td>{for_html(f["id"])}</td><td class="{for_html(f["severity"])}">{for_html(f["severity"])}</td>'
                       f"<td><b>{for_html(f['title'])}</b><div>{for_html(f['message'])}</div>{sym}</td>"
                       f"<td><code>{for_html(f['rule'])}</code><div class=\"dim\">{for_html(f['category'])}</div></td>"
                       f"<td>{f['confidence']:.0%}</td><td>{f['count']}x</td><td>{ev}</td><td>{nxt}</td></tr>")
        out.append("</table>")
    benign = [f for f in doc["findings"] if f["benign"]]
    if benign:
        out.append('<p class="dim">Known benign: ' + ", ".join(for_html(f"{f['title']} ({f['count']}x)") for f in benign) + "</p>")
    return out


def _inputs(doc: dict) -> list[str]:
    out = ["<h2>Inputs</h2>", '<table class="inputs"><tr><th>input</th><th>kind</th><th>host</th><th>facts</th><th>notes</th></tr>']
    for i in doc["inputs"]:
        out.append(f"<tr><td class=\"mono\">{for_html(cite(i['path'], None))}</td><td>{for_html(i['kind'])}</td>"
                   f"<td>{for_html(i.get('host') or '')}</td><td>{for_html(i.get('facts', ''))}</td>"
                   f"<td>{for_html('; '.join(i.get('notes', [])))}</td></tr>")
    out.append("</table>")
    if doc["errors"]:
        out.append('<h2 id="errors">Errors (the analysis is incomplete)</h2><ul>'
                   + "".join(f"<li>{for_html(e['message'])}</li>" for e in doc["errors"]) + "</ul>")
    if doc.get("notes"):
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{for_html(n)}</li>" for n in doc["notes"]) + "</ul>")
    out.append(f'<p class="dim">Times in zone {for_html(doc["timezone"])}.</p>')
    return out
