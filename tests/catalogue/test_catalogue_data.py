"""The shipped catalogue: its entries are well formed, their examples are theirs, and it covers what it says."""

from __future__ import annotations

from collections import Counter

import pytest

from diagnostics.catalogue import load_catalogue

CAT = load_catalogue()
RELEASES = ("4.11", "4.13", "4.15", "4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22")


def test_every_example_matches_its_own_template_and_no_more_specific_one() -> None:
    wrong = []
    for t in CAT.templates:
        for example in t.examples:
            m = CAT.match(example)
            if m is None or m.template.id != t.id:
                wrong.append((t.id, example, m and m.template.id))
    assert wrong == []


def test_the_catalogue_reads_every_release_line_and_area() -> None:
    per_release = Counter(r for t in CAT.templates for r in t.releases)
    assert set(RELEASES) <= set(per_release)
    assert all(per_release[r] > 1500 for r in RELEASES), per_release
    areas = Counter(t.id.split(".")[0] for t in CAT.templates)
    for area in ("capacity", "planner", "allocator", "vmm", "uservm", "limits", "agentmgr", "agent", "kvm", "xen",
                 "vmware", "storage", "ha", "alert", "jobs"):
        assert areas[area] >= 10, area


def test_every_template_has_a_distinct_anchor_for_the_prefilter() -> None:
    literals = CAT.literals()
    assert len(literals) > 0.9 * len(CAT.templates)
    assert all(len(x) >= 4 for x in literals)


@pytest.mark.parametrize(("message", "template_id", "relevance", "category"), [
    ("Couldn't retrieve free memory, returning -1.", "kvm.couldn-t-retrieve-free-memory-returning-1", "benign", "libvirt_memory"),
    ("Found the following agents behind on ping: []", "agentmgr.found-the-following-agents-behind-on-ping", "benign", "agent_connectivity"),
    ("Host does not have enough RAM available, cannot allocate to this host.", "capacity.host-does-not-have-enough-ram", "failure", "insufficient_capacity"),
])
def test_known_messages_are_classified(message, template_id, relevance, category) -> None:
    m = CAT.match(message)
    assert m is not None, message
    assert (m.template.id, m.template.relevance, m.template.category) == (template_id, relevance, category)


def test_failures_benign_and_context_are_all_present() -> None:
    counts = Counter(t.relevance for t in CAT.templates)
    assert counts["failure"] > 1000 and counts["context"] > 500 and counts["benign"] >= 5


def test_the_word_index_finds_what_hyperscan_finds() -> None:
    """Where Hyperscan cannot load, the word index must pick the same template for every message."""
    import random

    from catalogue_render import render_message

    from diagnostics.catalogue import Catalogue

    plain = Catalogue(CAT.templates, CAT.exceptions)
    plain._hs = False
    rng = random.Random(5)
    sample = [render_message(t, rng.choice(["log4j1", "log4j2"]), rng) for t in rng.sample(CAT.templates, 1500)]
    sample += ["Seq 4-72530: Processing:  { Ans: , MgmtId: 905, via: 4, Ver: v1, Flags: 110, [] }", "", "é ünïcode"]
    fast = [(m.template.id, m.fields) if (m := CAT.match(x)) else None for x in sample]
    slow = [(m.template.id, m.fields) if (m := plain.match(x)) else None for x in sample]
    assert fast == slow


def test_the_extractors_phrases_are_cloudstacks_own_text() -> None:
    """A phrase that names a catalogue template must be part of that template's literal text (so it is text
    CloudStack writes, in the release lines the template lists); the others say where they come from."""
    from diagnostics.catalogue import PLACEHOLDER_RE, _vocabulary

    wrong = []
    for phrase in _vocabulary():
        if phrase.template is None:
            assert phrase.origin, phrase.where
            continue
        template = CAT.get(phrase.template)
        literal = PLACEHOLDER_RE.sub("\x00", template.text) if template else ""
        if template is None or (phrase.text or "").rstrip(".") not in literal:
            wrong.append((phrase.where, phrase.text, phrase.template))
    assert wrong == []
    assert sum(p.template is not None for p in _vocabulary()) >= 55


def test_a_malformed_phrase_is_refused_with_file_and_line(tmp_path, monkeypatch) -> None:
    import diagnostics.catalogue as catalogue

    bad = tmp_path / "vocabulary.toml"
    bad.write_text('[[phrase]]\nkind = "scale_error"\ntext = "x"\nevent = "y"\n\n[[phrase]]\nkind = "scale_error"\ntext = "z"\n')
    monkeypatch.setattr(catalogue, "VOCABULARY_FILE", bad)
    catalogue._vocabulary.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match=rf"{bad}:1: say where the text comes from"):
            catalogue.vocabulary("scale_error")
    finally:
        monkeypatch.undo()
        catalogue._vocabulary.cache_clear()
