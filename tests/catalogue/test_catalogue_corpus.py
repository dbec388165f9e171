"""Every failure template, rendered as CloudStack writes it in every header generation it exists in, is read back
(header grammar of diagnostics.logs) and recognised as itself by `Catalogue.match`."""

from __future__ import annotations

from collections import Counter
from datetime import timezone

from catalogue_render import GENERATIONS, corpus

from diagnostics.catalogue import load_catalogue
from diagnostics.logs.reader import ReadOptions, read_records

CAT = load_catalogue()


def _recognised(rendered) -> bool:
    records = list(read_records("generated.log", ReadOptions(tz=timezone.utc), None, lines=iter(rendered.lines)))
    assert len(records) == 1, rendered.lines
    rec = records[0]
    texts = [rec.message, *rec.extra[:2]]
    for text in texts:
        m = CAT.match(text)
        # the same message to a reader: the template itself, or a variant whose literal text holds all of its own
        # (`... for {host}` read as `... for {host},{message}` when the JSON host rendering carries a comma)
        if m is not None and (m.template.id == rendered.template.id
                              or set(rendered.template.literals()) <= set(m.template.literals())):
            return True
    return False


def test_every_failure_template_is_recognised_in_every_generation() -> None:
    missed: Counter = Counter()
    total: Counter = Counter()
    examples = []
    for rendered in corpus(CAT, "failure"):
        total[rendered.generation] += 1
        if not _recognised(rendered):
            missed[rendered.generation] += 1
            examples.append((rendered.template.id, rendered.generation, rendered.lines[0][:200]))
    assert set(total) == set(GENERATIONS)
    assert examples == [], f"{sum(missed.values())} of {sum(total.values())} missed: {examples[:10]}"


def test_benign_templates_are_recognised_as_benign() -> None:
    for rendered in corpus(CAT, "benign"):
        assert _recognised(rendered), rendered.lines[0]
        assert CAT.match(rendered.message).template.relevance == "benign"
