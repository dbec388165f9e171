"""The real-world corpus: loading the cases, judging csdiag's answer on each, and the accuracy table.

A case is a directory `cases/NNN-slug/` holding the excerpt exactly as posted and `case.toml` (provenance and the
expert's labels). Labels come from the thread's conclusion and the lines, never from csdiag's output; the judgement
below is the only place csdiag's answer meets them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timezone
from functools import lru_cache
from pathlib import Path

from diagnostics.model import CATEGORIES

CASES_DIR = Path(__file__).resolve().parent / "cases"
SOURCE_KINDS = ("issue", "pr", "mailing-list", "docs", "blog", "qa")
REQUIRED = ("url", "title", "source_kind", "cloudstack_version", "hypervisor", "excerpt", "conclusion",
            "expected", "negative", "notes")
ALARMING = ("warning", "critical")
# (Case, Verdict) of every case judged in this process; conftest prints the table from it at the end of a pytest run.
RESULTS: list = []


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    path: Path
    meta: dict

    @property
    def excerpt(self) -> Path:
        return self.path / self.meta["excerpt"]

    @property
    def negative(self) -> bool:
        return bool(self.meta["negative"])

    @property
    def primary(self) -> str:
        return self.meta["expected"][0]

    @property
    def known_gap(self) -> str | None:
        return self.meta.get("known_gap")


@dataclass(slots=True)
class Verdict:
    """csdiag's answer on one case, reduced to what the labels can be compared with."""

    status: str
    alarming: set[str] = field(default_factory=set)  # categories of warning/critical findings
    root_causes: set[str] = field(default_factory=set)  # categories of incident root causes
    right: bool = False
    why: str = ""


def load_cases(root: Path = CASES_DIR) -> list[Case]:
    return [Case(d.name, d, tomllib.loads((d / "case.toml").read_text(encoding="utf-8")))
            for d in sorted(root.iterdir()) if (d / "case.toml").is_file()]


def problems(case: Case) -> list[str]:
    """What is wrong with a case's own description (so a malformed case fails loudly, not silently)."""
    m = case.meta
    out = [f"missing key {k!r}" for k in REQUIRED if k not in m]
    if out:
        return out
    if m["source_kind"] not in SOURCE_KINDS:
        out.append(f"source_kind {m['source_kind']!r} not in {SOURCE_KINDS}")
    if not str(m["url"]).startswith(("https://", "http://")):
        out.append("url is not a URL")
    if not case.excerpt.is_file() or not case.excerpt.read_text(encoding="utf-8").strip():
        out.append(f"excerpt {m['excerpt']!r} missing or empty")
    labels = list(m["expected"]) + list(m.get("forbidden", []))
    out += [f"unknown category {c!r}" for c in labels if c not in CATEGORIES]
    if m["negative"] and not m.get("forbidden"):
        out.append("a negative control needs `forbidden`")
    if not m["negative"] and not m["expected"]:
        out.append("a positive case needs at least one expected category")
    if "known_gap" in m and not str(m["known_gap"]).strip():
        out.append("known_gap must say what is missing")
    return out


def judge(case: Case, doc: dict) -> Verdict:
    """Compare csdiag's csdiag/v1 document with the expert's labels of one case."""
    v = Verdict(status=doc["summary"]["status"])
    v.alarming = {f["category"] for f in doc["findings"] if f["severity"] in ALARMING and not f.get("benign")}
    v.root_causes = {i["root_cause"]["category"] for i in doc.get("incidents") or [] if i.get("root_cause")}
    named = v.alarming | v.root_causes
    if case.negative:
        bad = sorted(set(case.meta["forbidden"]) & v.alarming)
        v.right = not bad
        v.why = f"false alarm: {', '.join(bad)}" if bad else "no forbidden category raised"
    else:
        v.right = case.primary in named and v.status != "OK"
        if v.status == "OK":
            v.why = f"status OK; expected {case.primary}"
        elif case.primary not in named:
            v.why = f"expected {case.primary}, csdiag named {sorted(named) or 'nothing'} (status {v.status})"
        else:
            v.why = f"{case.primary} found (status {v.status})"
    return v


@lru_cache(maxsize=None)
def verdict(case_dir: str) -> Verdict:
    """Run csdiag on the excerpt as an operator would (UTC, the shipped rules only) and judge the answer."""
    from diagnostics.analysis import analyze_paths

    path = Path(case_dir)
    case = Case(path.name, path, tomllib.loads((path / "case.toml").read_text("utf-8")))
    return judge(case, analyze_paths([str(case.excerpt)], tz=timezone.utc).document)


def accuracy_table(results: list[tuple[Case, Verdict]]) -> str:
    """Per primary category and overall, positives and negative controls apart."""
    rows: dict[str, list[int]] = {}
    for case, v in results:
        key = "negative controls" if case.negative else case.primary
        rows.setdefault(key, [0, 0])
        rows[key][0] += 1
        rows[key][1] += int(v.right)
    pos = [(c, v) for c, v in results if not c.negative]
    neg = [(c, v) for c, v in results if c.negative]

    def pct(right: int, n: int) -> str:
        return f"{100.0 * right / n:5.1f} %" if n else "    - "

    lines = ["csdiag accuracy on the real-world corpus (tests/corpus)",
             f"{'category':<24}{'cases':>6}{'right':>7}{'accuracy':>10}"]
    for key in [c for c in CATEGORIES if c in rows] + (["negative controls"] if "negative controls" in rows else []):
        n, right = rows[key]
        lines.append(f"{key:<24}{n:>6}{right:>7}{pct(right, n):>10}")
    for label, part in (("positives", pos), ("all cases", results)):
        right = sum(v.right for _, v in part)
        lines.append(f"{label:<24}{len(part):>6}{right:>7}{pct(right, len(part)):>10}")
    false_alarms = sum(not v.right for _, v in neg)
    lines.append(f"false alarms on negative controls: {false_alarms} of {len(neg)}")
    return "\n".join(lines)
