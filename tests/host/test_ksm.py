"""KSM counters from `grep -H . /sys/kernel/mm/ksm/*`."""

from __future__ import annotations

from diagnostics.host.ksm import ksm_facts, parse_ksm


def test_real_idle_ksm(real):
    (ksm,) = ksm_facts(parse_ksm((real / "ksm_grep_-H.txt").read_text()))
    assert ksm.running is False and ksm.pages_sharing == 0 and ksm.saved == 0
    assert ksm.line == 1 and ksm.text.startswith("/sys/kernel/mm/ksm/")
    # a non-numeric file (advisor_mode: "[none] scan-time") is skipped, not an error


def test_merging_host_saves_20_gib(formats):
    (ksm,) = ksm_facts(parse_ksm((formats / "ksm_grep_-H_merging.txt").read_text()), host="kvm02")
    assert ksm.running is True and ksm.merge_across_nodes is True
    assert ksm.pages_sharing == 5242880 and ksm.saved == 20 * 1024**3
    assert (ksm.pages_shared, ksm.pages_unshared, ksm.full_scans, ksm.sleep_ms) == (412310, 1203344, 1843, 20)
    assert ksm.host_name == "kvm02"


def test_other_sysfs_lines_are_not_ksm():
    assert ksm_facts(parse_ksm("/sys/kernel/mm/transparent_hugepage/enabled:[always] madvise never\n")) == []
