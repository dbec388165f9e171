"""The catalogue's acceptance sweep, end to end: templates rendered as CloudStack logs them, read by the real analysis.

Every failure template, in every header generation it exists in, must give a `log_record` fact naming it and a
warning or critical finding of its own category (a specific rule's, or the catalogue fallback's); every benign
template must give no warning or critical finding. The records go through `diagnostics.analysis.analyze_paths` in
files of at most `BATCH` records (fewer than the engine's evidence cap, so a finding cites every record it covers)
and each record is judged by the facts on its line and the findings whose evidence cites that line. A record that
misses in a batch is read again alone, so a neighbour can neither hide nor explain it. accepted_overrides.toml
names the rules whose other category is right for a template (`[[override]]`, counted as right) and the
disagreements left to a rule's owner (`[[dispute]]`, counted as not right); the exit status is 1 when a record misses
for any other reason.

    python3 -m tests.catalogue.catalogue_coverage              # the full sweep, a table per area and generation
    python3 -m tests.catalogue.catalogue_coverage --failures   # and every miss, one line each
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as a module (-m) and under pytest alike

from catalogue_render import GENERATIONS, Rendered, corpus  # noqa: E402

from diagnostics.analysis import analyze_paths  # noqa: E402
from diagnostics.catalogue import Catalogue, load_catalogue  # noqa: E402

BATCH = 30  # records per file: below engine.evaluate.MAX_EVIDENCE (40), so no finding drops a citation
LOUD = ("warning", "critical")
OVERRIDES_FILE = Path(__file__).resolve().parent / "accepted_overrides.toml"


def accepted_overrides() -> dict[str, tuple[str, str]]:
    """template id -> (rule id, reason): a specific rule whose other category is the right one for that template."""
    data = tomllib.loads(OVERRIDES_FILE.read_text(encoding="utf-8"))
    return {o["template"]: (o["rule"], o["reason"]) for o in data.get("override", [])}


def disputes() -> dict[str, tuple[str, str]]:
    """template id -> (rule id, reason): a rule explains the record under another category and neither is clearly
    right; the record counts as missed in the table, and the acceptance test lets only these miss."""
    data = tomllib.loads(OVERRIDES_FILE.read_text(encoding="utf-8"))
    return {o["template"]: (o["rule"], o["reason"]) for o in data.get("dispute", [])}


OVERRIDES = accepted_overrides()
DISPUTES = disputes()


@dataclass
class Outcome:
    rendered: Rendered
    fact_template: str | None = None  # the template id of the log_record fact on the record's line
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # (rule id, category, severity) citing it

    @property
    def template(self):
        return self.rendered.template

    @property
    def area(self) -> str:
        return self.template.id.split(".", 1)[0]

    @property
    def has_fact(self) -> bool:
        """A log_record fact for this template, or a variant whose literal text holds all of this one's (the same
        message to a reader: `... for {host}` read as `... for {host},{text}` when a JSON host carries a comma)."""
        if self.fact_template is None:
            return False
        if self.fact_template == self.template.id:
            return True
        other = _CATALOGUE_BY_ID.get(self.fact_template)
        return other is not None and set(self.template.literals()) <= set(other.literals())

    @property
    def right_finding(self) -> bool:
        """A warning/critical finding of the template's category, or of the rule accepted_overrides.toml names."""
        accepted = OVERRIDES.get(self.template.id, (None,))[0]
        return any(sev in LOUD and (cat == self.template.category or rule == accepted)
                   for rule, cat, sev in self.findings)

    @property
    def by_override(self) -> bool:
        return self.right_finding and not any(sev in LOUD and cat == self.template.category
                                              for _, cat, sev in self.findings)

    @property
    def loud_findings(self) -> list[tuple[str, str, str]]:
        return [f for f in self.findings if f[2] in LOUD]

    @property
    def ok(self) -> bool:
        if self.template.relevance == "benign":
            return not self.loud_findings
        return self.has_fact and self.right_finding

    @property
    def disputed(self) -> bool:
        """Missed only because the rule a `[[dispute]]` of accepted_overrides.toml names explains it its own way."""
        rule = DISPUTES.get(self.template.id, (None,))[0]
        return (not self.ok and self.has_fact and self.template.relevance == "failure"
                and any(r == rule and sev in LOUD for r, _, sev in self.findings))

    def describe(self) -> str:
        got = ", ".join(f"{r}:{c}/{s}" for r, c, s in self.findings) or "no finding"
        return (f"{self.template.id} [{self.rendered.generation}] {self.template.relevance}/{self.template.category}"
                f" fact={self.fact_template} findings: {got} | {self.rendered.lines[0][:160]}")


_CATALOGUE_BY_ID: dict = {}
_CONTEXT_ID = re.compile(r"(?P<hex>(?<=logid:)[0-9a-f]{8}|(?<=ctx-)[0-9a-f]{8})|(?<=job-)(?P<job>\d+)")


def _isolated(lines: Sequence[str], k: int) -> list[str]:
    """The record with its own logid, contexts and jobs (in the header only, never in the message): rules that join
    records by job or logid (`no(...)` in the same job, a window over a logid) see each record alone, as in a log
    where it happened once."""
    first = lines[0]
    thread = first.index("] (") + 2
    end = first.index(") ", thread) + 2
    if first.startswith("(logid:", end):
        end = first.index(") ", end) + 2

    def shifted(m: re.Match) -> str:
        if m.group("job"):
            return str(int(m.group("job")) + 1000 * k)
        return f"{(int(m.group('hex'), 16) + k) & 0xFFFFFFFF:08x}"

    return [_CONTEXT_ID.sub(shifted, first[:end]) + first[end:], *lines[1:]]


def _analyse(batch: Sequence[Rendered], directory: Path, name: str) -> list[Outcome]:
    path = directory / name
    starts = []
    lines: list[str] = []
    for k, rendered in enumerate(batch, start=1):
        starts.append(len(lines) + 1)
        lines.extend(_isolated(rendered.lines, k))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    analysis = analyze_paths([str(path)], tz=timezone.utc)
    by_line = {start: Outcome(rendered) for start, rendered in zip(starts, batch)}
    for fact in analysis.collected.facts:
        if fact.kind == "log_record" and fact.line in by_line and fact.template is not None:
            by_line[fact.line].fact_template = fact.template
    for finding in analysis.findings:
        cited = {ev.line for ev in finding.evidence if ev.path == str(path)}
        for line in cited & by_line.keys():
            by_line[line].findings.append((finding.rule_id, finding.category, finding.severity))
    return list(by_line.values())


def sweep(items: Iterable[Rendered], catalogue: Catalogue, batch: int = BATCH) -> list[Outcome]:
    """Each rendered record's outcome; misses in a batch are judged again alone."""
    _CATALOGUE_BY_ID.update({t.id: t for t in catalogue.templates})
    items = list(items)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="csdiag-catalogue-") as tmp:
        directory = Path(tmp)
        for i in range(0, len(items), batch):
            outcomes.extend(_analyse(items[i:i + batch], directory, f"batch-{i}.log"))
        for k, outcome in enumerate(outcomes):
            if not outcome.ok:
                outcomes[k] = _analyse([outcome.rendered], directory, f"alone-{k}.log")[0]
    return outcomes


def sample(items: Iterable[Rendered], every: int) -> list[Rendered]:
    """Every `every`-th template (all its generations kept), spread over every area by the catalogue's order."""
    out, seen = [], {}
    for rendered in items:
        index = seen.setdefault(rendered.template.id, len(seen))
        if index % every == 0:
            out.append(rendered)
    return out


def table(outcomes: Sequence[Outcome]) -> str:
    """Markdown: per area and per generation, templates rendered / with fact / with a finding of the right category
    (failure templates), and benign ones without a warning or critical finding."""
    gens = list(GENERATIONS)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    templates: dict[str, dict[str, bool]] = defaultdict(dict)  # area -> template id -> right in every generation
    for o in outcomes:
        if o.template.relevance != "failure":
            continue
        for area in (o.area, "**all**"):
            seen = templates[area]
            seen[o.template.id] = seen.get(o.template.id, True) and o.has_fact and o.right_finding
        for key in ((o.area, o.rendered.generation), (o.area, "all"), ("**all**", o.rendered.generation),
                    ("**all**", "all")):
            c = cells[key]
            c[0] += 1
            c[1] += o.has_fact
            c[2] += o.has_fact and o.right_finding
    areas = sorted({a for a, _ in cells if a != "**all**"}) + ["**all**"]
    head = ("| area | templates | " + " | ".join(gens) + " | all records |\n|---|---:|" + "---:|" * (len(gens) + 1)
            + "\n")
    rows = []
    for area in areas:
        row = [f"{len(templates[area])} / {sum(templates[area].values())}"]
        for gen in [*gens, "all"]:
            n, fact, finding = cells.get((area, gen), [0, 0, 0])
            row.append(f"{n} / {fact} / {finding}" if n else "-")
        rows.append(f"| {area} | " + " | ".join(row) + " |")
    benign = [o for o in outcomes if o.template.relevance == "benign"]
    quiet = sum(1 for o in benign if not o.loud_findings)
    overridden = sorted({o.template.id for o in outcomes if o.template.relevance == "failure" and o.by_override})
    disputed = [o for o in outcomes if o.disputed]
    return (head + "\n".join(rows) + "\n\nTemplates: failure templates / right in every generation they exist in."
            " Generations and all records: failure records rendered / with a `log_record` fact of the template /"
            f" with a warning or critical finding of its category ({len(overridden)} templates by the rule"
            f" accepted_overrides.toml names as right). Not right: {len(disputed)} records of"
            f" {len({o.template.id for o in disputed})} templates that a rule explains under a disputed category"
            f" ([[dispute]] in accepted_overrides.toml). Benign: {quiet} of {len(benign)} rendered records give no"
            " warning or critical finding.\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.catalogue.catalogue_coverage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--failures", action="store_true", help="list every record that misses, one line each")
    parser.add_argument("--every", type=int, default=1, help="sweep every N-th template only (default: all)")
    parser.add_argument("--area", action="append", help="only templates of this area (repeatable)")
    parser.add_argument("--seed", type=int, default=11, help="seed of the placeholder values (default: 11)")
    args = parser.parse_args(argv)
    catalogue = load_catalogue()
    items = [r for rel in ("failure", "benign") for r in corpus(catalogue, rel, seed=args.seed)]
    if args.area:
        items = [r for r in items if r.template.id.split(".", 1)[0] in args.area]
    if args.every > 1:
        items = sample(items, args.every)
    outcomes = sweep(items, catalogue)
    print(table(outcomes))
    missed = [o for o in outcomes if not o.ok]
    unexplained = [o for o in missed if not o.disputed]
    if args.failures:
        for o in missed:
            print(("disputed " if o.disputed else "") + o.describe())
    print(f"records: {len(outcomes) - len(missed)} as expected, {len(missed) - len(unexplained)} disputed,"
          f" {len(unexplained)} missed")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
