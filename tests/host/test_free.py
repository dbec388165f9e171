"""free: every procps generation and unit flag gives the same byte values, by header words not column positions."""

from __future__ import annotations

import pytest

from diagnostics.host import facts_from_file, facts_from_text
from diagnostics.host.free import free_facts, parse_free, unit_from_command

GiB = 1024**3
MiB = 1024**2


def test_real_recordings_agree_across_units(real):
    # recorded seconds apart on the same machine: totals must agree to the precision of each unit
    by_unit = {u: free_facts(parse_free((real / f"free_-{u}.txt").read_text(), unit=u))[0] for u in "bkmgh"}
    exact = by_unit["b"].total
    assert by_unit["k"].total == exact
    assert abs(by_unit["m"].total - exact) < MiB
    assert abs(by_unit["g"].total - exact) < GiB
    assert abs(by_unit["h"].total - exact) < GiB  # "23Gi"
    assert by_unit["h"].rounded and by_unit["g"].rounded and not by_unit["k"].rounded
    for fact in by_unit.values():
        assert fact.swap_total == 0 and fact.swap_free == 0
        assert fact.available <= fact.total


def test_real_free_b_values(real):
    fact = free_facts(parse_free((real / "free_-b.txt").read_text()))[0]
    line = (real / "free_-b.txt").read_text().splitlines()[1].split()
    assert (fact.total, fact.used, fact.free, fact.shared, fact.buff_cache, fact.available) == tuple(
        int(v) for v in line[1:]
    )
    assert fact.line == 2 and fact.text.startswith("Mem:")


def test_unit_inferred_from_magnitude_when_not_given(real):
    for flag in "bkmg":
        out = parse_free((real / f"free_-{flag}.txt").read_text())
        assert (out.unit, out.unit_inferred) == (flag, True)


def test_unit_from_file_name(real, tmp_path):
    # same text, two names: the flag in the name decides the unit (sosreport sos_commands/memory/free_-m)
    text = (real / "free_-m.txt").read_text()
    (tmp_path / "free_-g").write_text(text)
    (tmp_path / "free").write_text(text)
    as_g = facts_from_file(str(tmp_path / "free_-g"))[0][0]
    as_k = facts_from_file(str(tmp_path / "free"))[0][0]  # sos's plain `free` is KiB
    assert as_g.total == 24105 * GiB and as_g.source_cmd == "free -g"
    assert as_k.total == 24105 * 1024 and as_k.source_cmd == "free -k"


def test_wide_layout_splits_buffers_and_cache(real):
    fact = free_facts(parse_free((real / "free_-w_-m.txt").read_text(), unit="m"))[0]
    assert fact.buffers == 2 * MiB and fact.cached == 128 * MiB
    assert fact.buff_cache == fact.buffers + fact.cached


def test_total_row_does_not_become_a_snapshot(real):
    out = parse_free((real / "free_-m_-t.txt").read_text(), unit="m")
    assert len(out.snapshots) == 1


def test_legacy_layout_uses_buffers_cache_row_as_available(formats):
    fact = free_facts(parse_free((formats / "free_procps-3.2_el6_-m.txt").read_text(), unit="m"))[0]
    assert fact.used == 253365 * MiB  # as printed: includes page cache on procps 3.2
    assert fact.available == 155511 * MiB and fact.available_estimated
    assert fact.buffers == 1200 * MiB and fact.cached == 150000 * MiB
    assert fact.swap_total == 4095 * MiB


def test_pasted_terminal_gives_unit_and_skips_prompt_lines(formats):
    path = formats / "free_procps-ng-3.3.10_el7_paste.txt"
    fact = free_facts(parse_free(path.read_text()))[0]
    assert fact.source_cmd == "free -m"
    assert fact.available == 156900 * MiB and fact.line == 3


@pytest.mark.parametrize("name", ["free_procps-ng-3.3.17_-h.txt", "free_procps-ng-3.3.12_-h_old-suffix.txt"])
def test_human_readable_both_suffix_styles(formats, name):
    fact = free_facts(parse_free((formats / name).read_text()))[0]
    assert fact.total == 251 * GiB
    assert fact.free == round(4.2 * GiB)
    assert fact.shared == round(1.1 * GiB)
    assert fact.available == 153 * GiB
    assert fact.swap_used == 0 and fact.swap_total == 4 * GiB
    assert fact.rounded and fact.source_cmd == "free -h"


def test_human_si_is_decimal_only_when_asked(real):
    text = (real / "free_-h_--si.txt").read_text()  # "25G" with --si
    assert free_facts(parse_free(text, unit="h", decimal=True))[0].total == 25 * 1000**3
    assert free_facts(parse_free(text))[0].total == 25 * GiB


def test_no_swap_line(formats):
    fact = free_facts(parse_free((formats / "free_procps-ng-4.0.2_-b_noswap.txt").read_text(), unit="b"))[0]
    assert fact.available == 164521480192
    assert fact.swap_total is None and fact.swap_free is None


def test_exhausted_host_in_gib(formats):
    fact = free_facts(parse_free((formats / "free_procps-ng-3.3.15_-g_exhausted.txt").read_text(), unit="g"))[0]
    assert fact.available == 2 * GiB < 4 * GiB
    assert fact.swap_used == fact.swap_total == 3 * GiB


def test_repeated_output_gives_one_fact_per_snapshot(real):
    once = (real / "free_-m.txt").read_text()
    facts = free_facts(parse_free(once + "\n" + once, unit="m"))
    assert [f.line for f in facts] == [2, 6]
    assert all(f.swap_total == 0 for f in facts)


def test_facts_from_text_stamps_path_and_host():
    text = "              total        used        free      shared  buff/cache   available\nMem:  8 4 1 0 3 3\n"
    facts = facts_from_text(text, path="kvm07/free_-g.txt")
    assert facts[0].host_name == "kvm07" and facts[0].path == "kvm07/free_-g.txt"
    assert facts[0].total == 8 * GiB and facts[0].line == 2


@pytest.mark.parametrize(
    ("command", "expected"),
    [("free -m", ("m", False)), ("free -w -g", ("g", False)), ("free --mebi", ("m", False)),
     ("free -h --si", ("h", True)), ("free --giga", ("g", True)), ("free", (None, False))],
)
def test_unit_from_command(command, expected):
    assert unit_from_command(command) == expected
