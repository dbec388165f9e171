"""The timeline (and the exact reader) ask `Interest.hit` of every record: the Hyperscan matcher must answer exactly
as the regular expression it replaces, on real sample lines and on every literal in other cases and surroundings."""

from __future__ import annotations

import os
import random

import pytest

from diagnostics.logs.interest import _hyperscan_matcher, _re_matcher, interest_for

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")


@pytest.fixture(scope="module")
def matchers():
    literals = interest_for(()).literals
    fast = _hyperscan_matcher(literals)
    assert fast is not None  # Hyperscan loads here (a project dependency): the fast matcher is what runs
    return literals, fast, _re_matcher(literals)


def test_hyperscan_and_the_regex_agree_on_every_sample_line(matchers):
    _literals, fast, slow = matchers
    lines = []
    for root, _dirs, names in os.walk(SAMPLES):
        for name in names:
            if name.endswith((".log", ".txt")) or name == "agent.log":
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                    lines.extend(f.read().splitlines())
    assert len(lines) > 500
    answers = [fast(line) for line in lines]
    assert answers == [slow(line) for line in lines]
    assert any(answers) and not all(answers)


def test_they_agree_on_every_literal_in_other_case_and_cut_short(matchers):
    literals, fast, slow = matchers
    rnd = random.Random(1)
    probes = []
    for text, _caseless in literals:
        probes += [f"x {text} y", text.upper(), text.lower(), text[:-1], "\u00e9" + text + "\ufffd"]
    for text in rnd.sample(probes, 1500):
        assert fast(text) == slow(text), text
