"""Every real excerpt in the corpus is a test: csdiag must name what the expert named, and raise nothing the expert
ruled out on a negative control.

Cases csdiag gets wrong today carry `known_gap` and run as strict xfail: when a change makes csdiag right, the test
fails until the label is removed, so the recorded gaps can only shrink honestly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.corpus.corpus import RESULTS, load_cases, problems, verdict

CASES = load_cases()


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=case.known_gap)] if case.known_gap else []
    return pytest.param(case, id=case.name, marks=marks)


def test_corpus_is_large_enough_and_has_negative_controls():
    positives = [c for c in CASES if not c.negative]
    negatives = [c for c in CASES if c.negative]
    assert len(positives) >= 40, f"{len(positives)} positive cases"
    assert len(negatives) >= 8, f"{len(negatives)} negative controls"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_well_formed(case):
    assert problems(case) == []


def test_no_excerpt_is_repeated():
    seen = {}
    for case in CASES:
        text = case.excerpt.read_text(encoding="utf-8")
        assert text not in seen, f"{case.name} repeats the excerpt of {seen.get(text)}"
        seen[text] = case.name


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_csdiag_on_real_excerpt(case):
    v = verdict(str(case.path))
    RESULTS.append((case, v))
    assert v.right, v.why


def _reserved_threads_file():
    """The list of threads kept for independent evaluation, when this checkout sits in the team's workspace."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "reserved-threads.md"
        if candidate.is_file():
            return candidate
    return None


def test_no_case_comes_from_a_reserved_thread():
    listing = _reserved_threads_file()
    if listing is None:
        pytest.skip("reserved-threads.md is not reachable from this checkout")
    text = listing.read_text(encoding="utf-8")
    numbers = set(re.findall(r"\b\d{3,5}\b", text.split("Pages kept", 1)[0]))
    pages = set(re.findall(r"https?://\S+", text))
    for case in CASES:
        url = case.meta["url"]
        assert url not in pages, f"{case.name} uses a reserved page"
        m = re.search(r"github\.com/apache/cloudstack/(?:issues|pull)/(\d+)", url)
        assert not (m and m.group(1) in numbers), f"{case.name} uses reserved thread #{m.group(1)}"
