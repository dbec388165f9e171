"""Issue 11's acceptance, end to end: a catalogue template rendered as CloudStack logs it, in every header generation
it exists in, read by the real analysis (`analyze_paths`), gives a `log_record` fact naming the template and a
warning or critical finding of the template's category; a benign template gives none.

The default suite sweeps every SAMPLE-th template (all its generations) and every benign one; the full sweep with
its table per area and generation is `python3 -m tests.catalogue.catalogue_coverage`."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timezone

from catalogue_coverage import DISPUTES, OVERRIDES, Outcome, sample, sweep, table
from catalogue_render import GENERATIONS, Rendered, corpus, render_line

from diagnostics.analysis import analyze_paths
from diagnostics.catalogue import load_catalogue
from diagnostics.engine import load_rules

CAT = load_catalogue()
SAMPLE = 9  # every 9th failure template: about 1,100 records, every area and generation


def _misses(outcomes: list[Outcome]) -> list[str]:
    """Every record that misses, except those whose disagreement is recorded as a dispute (for a rule's owner)."""
    return [o.describe() for o in outcomes if not o.ok and not o.disputed]


def test_sampled_failure_templates_give_a_fact_and_a_finding_of_their_category() -> None:
    items = sample(corpus(CAT, "failure"), SAMPLE)
    assert {r.generation for r in items} == set(GENERATIONS)
    assert len({r.template.id.split(".")[0] for r in items}) >= 15  # every area of the catalogue is in the sample
    outcomes = sweep(items, CAT)
    misses = _misses(outcomes)
    assert misses == [], f"{len(misses)} of {len(outcomes)} missed:\n" + "\n".join(misses[:15])


def test_benign_templates_give_no_warning_or_critical_finding() -> None:
    items = list(corpus(CAT, "benign"))
    assert len(items) >= 30
    outcomes = sweep(items, CAT)
    loud = [o.describe() for o in outcomes if o.loud_findings]
    assert loud == []
    loud_level = [o for o in outcomes if o.template.level in ("WARN", "ERROR")]
    assert loud_level and all(o.has_fact for o in loud_level)  # a loud record is never dropped, benign or not


def test_the_judge_sees_a_miss() -> None:
    """The sweep can fail: a failure template's record whose words are not CloudStack's gives no fact of it and no
    finding; a benign template's routine value replaced by a real ping backlog is loud (the value decides)."""
    failure = next(t for t in CAT.templates if t.id == "capacity.host-does-not-have-enough-ram")
    plain = Rendered(failure, "log4j1", tuple(render_line(failure, "log4j1", random.Random(1),
                                                            "Host had a quiet afternoon")), "Host had a quiet afternoon")
    behind = next(t for t in CAT.templates if t.id == "agentmgr.found-the-following-agents-behind-on-ping")
    text = "Found the following agents behind on ping: [4, 7]"
    backlog = Rendered(behind, "log4j2", tuple(render_line(behind, "log4j2", random.Random(1), text)), text)
    missed, loud = sweep([plain, backlog], CAT)
    assert not missed.ok and missed.fact_template is None and not missed.right_finding
    assert not loud.ok and loud.loud_findings


def test_a_wrong_category_is_a_miss() -> None:
    """A finding of another category than the template's does not count (unless accepted_overrides.toml names the
    rule): the record is the one the catalogue knows, its category is changed."""
    template = next(t for t in CAT.templates if t.id == "capacity.host-does-not-have-enough-ram")
    wrong = replace(template, category="tls")
    rendered = next(r for r in corpus(CAT, "failure") if r.template.id == template.id)
    outcome = sweep([replace(rendered, template=wrong)], CAT)[0]
    assert outcome.has_fact and outcome.findings and not outcome.right_finding


def test_accepted_overrides_name_a_real_template_and_rule_that_still_disagree() -> None:
    rules = {r.id: r for r in load_rules([]).rules}
    templates = {t.id: t for t in CAT.templates}
    assert not set(OVERRIDES) & set(DISPUTES)
    for template_id, (rule_id, reason) in [*OVERRIDES.items(), *DISPUTES.items()]:
        assert template_id in templates and templates[template_id].relevance == "failure", template_id
        assert rule_id in rules, rule_id
        assert rules[rule_id].category != templates[template_id].category, f"{template_id}: stale override"
        assert len(reason) > 30


def test_the_table_counts_per_area_and_generation() -> None:
    items = [r for r in corpus(CAT, "failure") if r.template.id.startswith("capacity.")][:12]
    text = table(sweep(items, CAT))
    assert "| capacity |" in text and "| **all** |" in text
    row = next(line for line in text.splitlines() if line.startswith("| **all** |"))
    assert row.endswith(f"| {len(items)} / {len(items)} / {len(items)} |")



def test_the_sweep_reads_log4j_through_the_fast_filter_and_journald_exactly(tmp_path) -> None:
    """The sweep's verdicts cover the fast filter (interest literals decide which records it keeps): plain log4j
    generations are read by it, journald by the exact reader."""
    readers = {}
    for rendered in corpus(CAT, "failure"):
        if rendered.generation in readers:
            continue
        path = tmp_path / f"{rendered.generation}.log"
        path.write_text("\n".join(rendered.lines) + "\n", encoding="utf-8")
        readers[rendered.generation] = analyze_paths([str(path)], tz=timezone.utc).document["inputs"][0]["reader"]
    assert readers == {"log4j1-nologid": "fast", "log4j1": "fast", "log4j2": "fast", "log4j2-iso": "fast",
                       "journald": "exact"}
