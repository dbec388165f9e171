"""More than 90 secrets planted across every form: none is found in a bundle (any member, reports included) nor in
any report format (JSON, Markdown, text) once it went through `redact_text`, the contract every renderer uses."""

from __future__ import annotations

import copy
import io
import html
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from planted import FORMS, leaks
from rich.console import Console

from diagnostics.analysis import analyze_paths, reports_for
from diagnostics.bundle import BundleOptions, create_bundle
from diagnostics.bundle.redact import redact_text
from diagnostics.report.html_report import render_html
from diagnostics.report.markdown_report import render_markdown
from diagnostics.report.text_report import render_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "scale-dynamic-disabled"
_HEADER = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ +\w+ +\[[^\]]*\] \([^)]*\) \(logid:[^)]*\) ")


def _secret(form, n: int) -> str:
    base = f"Pl4nt{n:03d}x" + "aB3.-_~!#$*+/:=?@^%"[n % 19] + f"{form.name[:6]}Zq{n * 7919 % 1000:03d}"
    return "".join(c for c in base if c in form.alphabet)


PLANTED = [(form, _secret(form, i * 2 + k)) for i, form in enumerate(FORMS) for k in range(2)]


def test_there_are_at_least_90_distinct_planted_values_in_every_form() -> None:
    assert len({s for _f, s in PLANTED}) == len(PLANTED) >= 90
    assert {f.name for f, _s in PLANTED} == {f.name for f in FORMS}


@pytest.fixture(scope="module")
def incident(tmp_path_factory) -> Path:
    """The sample incident, with every planted line where CloudStack would write it."""
    folder = tmp_path_factory.mktemp("planted") / "case"
    shutil.copytree(SAMPLE, folder)
    log = folder / "management-server.log"
    lines = log.read_text().splitlines(keepends=True)
    in_log = [form.line(s) + "\n" for form, s in PLANTED if _HEADER.match(form.line(s))]
    step = max(1, len(lines) // (len(in_log) + 1))
    for i, planted in enumerate(in_log):
        lines.insert((i + 1) * step + i, planted)
    log.write_text("".join(lines))
    other = [form.line(s) + "\n" for form, s in PLANTED if not _HEADER.match(form.line(s))]
    (folder / "db.properties").write_text("".join(line for line in other if "=" in line.split()[0] and "://" not in line and not line.startswith("<")))
    (folder / "shell_history").write_text("".join(line for line in other if line.startswith(("mysql ", "cmk ", "cloudstack-"))))
    (folder / "domain.xml").write_text("".join(line for line in other if line.startswith("<")))
    (folder / "agent.properties").write_text("".join(line for line in other if "://" in line) + "port=8250\n")
    (folder / "environment").write_text("".join(line for line in other if line.startswith(("MYSQL", "export", "  ", "# "))))
    written = "".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    missing = [(f.name, s) for f, s in PLANTED if s not in written and not any(e in written for e in leaks(s, f.line(s)))]
    assert missing == []
    return folder


def test_no_planted_secret_is_in_any_member_of_the_bundle(incident: Path, tmp_path: Path) -> None:
    out = tmp_path / "case.tar.gz"
    result = create_bundle(BundleOptions(out=out, paths=[str(incident)], analyse=reports_for))
    assert result.manifest["reports"]["produced"], result.manifest["reports"]
    with tarfile.open(out) as tf:
        text = "".join(tf.extractfile(m).read().decode("utf-8", "replace") for m in tf.getmembers() if m.isfile())
    found = {f"{f.name}:{s}": leaks(s, text) for f, s in PLANTED if leaks(s, text)}
    assert found == {}


def _with_planted_evidence(doc: dict) -> dict:
    """The document with every planted line cited as evidence (as a rule citing it would), 3 per finding."""
    doc = copy.deepcopy(doc)
    template = doc["findings"][0]
    texts = [_HEADER.sub("", form.line(s))[:500] for form, s in PLANTED]
    doc["findings"] = [
        dict(copy.deepcopy(template), id=f"F{i // 3 + 1}",
             evidence=[{"path": "case/management-server.log", "line": 100 + j, "text": t} for j, t in enumerate(texts[i:i + 3])])
        for i in range(0, len(texts), 3)
    ]
    return doc


def _renderings(doc: dict) -> dict[str, str]:
    console = Console(record=True, width=400, file=io.StringIO(), color_system=None)
    render_text(doc, console, verbose=True)
    return {"json": json.dumps(doc, indent=2, default=str), "markdown": re.sub(r"\\(.)", r"\1", render_markdown(doc, verbose=True)),  # Markdown escapes undone
            "text": console.export_text(), "html": html.unescape(render_html(doc))}


def test_no_planted_secret_is_in_any_report_format_after_redaction(incident: Path) -> None:
    doc = _with_planted_evidence(analyze_paths([str(incident)], tz_name="UTC").document)
    for fmt, raw in _renderings(doc).items():
        reached = sum(1 for f, s in PLANTED if leaks(s, raw))
        assert reached >= (90 if fmt != "text" else 30), f"{fmt}: only {reached} planted values reach this format"
        out = redact_text(raw)
        found = {f"{f.name}:{s}": leaks(s, out) for f, s in PLANTED if leaks(s, out)}
        assert found == {}, fmt
