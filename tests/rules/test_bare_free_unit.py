"""A bare `free` table (no prompt, no unit) is read in the unit that agrees with CloudStack's total for the host;
when still ambiguous the facts say so and no rule compares their absolute sizes (issue 12 §3)."""

from diagnostics.host.evidence import facts_from_text
from diagnostics.host.free import parse_free, plausible_units, unit_agreeing

BARE_SMALL = """\
               total        used        free      shared  buff/cache   available
Mem:            7900        7000         300          10         600         800
Swap:              0           0           0
"""
BARE_BIG = """\
               total        used        free      shared  buff/cache   available
Mem:          257676       98012        4311        1120      155352      156900
"""


def test_a_bare_total_possible_in_two_units_is_ambiguous():
    out = parse_free(BARE_SMALL)
    assert out.unit_inferred and out.unit_ambiguous
    assert set(out.candidates) == {"g", "m"}
    assert "unit ambiguous" in out.unit_note


def test_cloudstack_total_settles_the_unit():
    out = parse_free(BARE_SMALL, reported_total=7 * 1024**3)  # CloudStack: 7 GiB (RAM less the reservation)
    assert (out.unit, out.unit_ambiguous, out.unit_basis) == ("m", False, "cloudstack")
    assert out.snapshots[0].values["total"] == 7900 * 1024**2
    out = parse_free(BARE_SMALL, reported_total=7 * 1024**4)  # a 7.7 TiB host reported in GiB
    assert out.unit == "g"


def test_cloudstack_total_that_agrees_with_no_unit_leaves_it_ambiguous():
    out = parse_free(BARE_SMALL, reported_total=100 * 1024**3)
    assert out.unit_ambiguous


def test_a_bare_total_plausible_in_one_unit_only_is_read_in_it():
    out = parse_free(BARE_BIG)
    assert (out.unit, out.unit_ambiguous, out.unit_basis) == ("m", False, "range")


def test_a_stated_unit_is_never_second_guessed():
    out = parse_free("$ free -g\n" + BARE_SMALL, reported_total=7 * 1024**3)
    assert (out.unit, out.unit_inferred, out.unit_ambiguous) == ("g", False, False)


def test_helpers():
    assert plausible_units(257676) == ("m",)
    assert unit_agreeing(257676, 250 * 1024**3) == "m"
    assert unit_agreeing(257676, 0) is None


def test_ambiguous_facts_say_so_in_their_source():
    facts = facts_from_text(BARE_SMALL, kind="free", host="kvm01")
    assert facts and "ambiguous" in facts[0].source_cmd
