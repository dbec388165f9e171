"""facts_from_text / facts_from_file: the entry points, and bad input that must not raise."""

from __future__ import annotations

import pytest

from diagnostics.host import facts_from_file, facts_from_text
from diagnostics.host.evidence import MAX_TABLE_BYTES
from conftest import DATA

FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fact_cites_its_own_line(path):
    facts, errors = facts_from_file(str(path))
    assert errors == []
    lines = path.read_text(encoding="utf-8").splitlines()
    for fact in facts:
        assert fact.path == str(path)
        assert 1 <= fact.line <= len(lines)
        assert lines[fact.line - 1].startswith(fact.text) and fact.text


def test_text_and_file_entry_points_agree(formats):
    path = formats / "dmesg_el8_oom_qemu_then_reboot.txt"
    from_file, _ = facts_from_file(str(path), host="kvm01")
    from_text = facts_from_text(path.read_text(), path=str(path), host="kvm01")
    assert [f.to_dict() for f in from_file] == [f.to_dict() for f in from_text]


def test_explicit_kind_skips_detection():
    assert facts_from_text("350735.47 234388.90", kind="uptime")[0].uptime_s == 350735.47
    assert facts_from_text("whatever", kind="no-such-kind") == []


def test_unknown_text_gives_nothing():
    assert facts_from_text("2025-03-10 17:04:10,123 INFO [c.c.a.AlertManagerImpl] hello") == []


def test_host_comes_from_folder_unless_given(tmp_path, formats):
    target = tmp_path / "kvm09" / "sensors.txt"
    target.parent.mkdir()
    target.write_text((formats / "sensors_k10temp_epyc.txt").read_text())
    assert {f.host_name for f in facts_from_file(str(target))[0]} == {"kvm09"}
    assert {f.host_name for f in facts_from_file(str(target), host="kvm10")[0]} == {"kvm10"}


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50, "binary"),
        (bytes(range(256)) * 20, "binary"),
        (b"just some notes about the ticket\n", "not recognised"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path, data, needle):
    path = write(tmp_path, "evidence.bin", data)
    facts, errors = facts_from_file(path)
    assert facts == []
    assert len(errors) == 1 and path in errors[0] and needle in errors[0] and "\n" not in errors[0]


def test_missing_file_and_directory(tmp_path):
    for path in (str(tmp_path / "nope.txt"), str(tmp_path)):
        facts, errors = facts_from_file(path)
        assert facts == [] and len(errors) == 1 and path in errors[0]


def test_non_utf8_free_still_parses(tmp_path, real):
    data = (real / "free_-m.txt").read_bytes() + b"\xff\xfe caf\xe9\n"
    facts, errors = facts_from_file(write(tmp_path, "free_-m", data))
    assert len(facts) == 1 and facts[0].total == 24105 * 1024**2
    assert len(errors) == 1 and "UTF-8" in errors[0]


def test_truncated_outputs_keep_what_is_there(tmp_path, real, formats):
    free_text = (real / "free_-m.txt").read_text()
    cut = free_text[: free_text.index("0", free_text.index("Swap:")) + 1]  # Swap line cut after its first value
    facts, _ = facts_from_file(write(tmp_path, "free_-m", cut.encode()))
    assert facts[0].available is not None
    assert facts[0].swap_total == 0 and facts[0].swap_free is None
    dmesg = (formats / "dmesg_el8_oom_qemu_then_reboot.txt").read_bytes()
    facts, errors = facts_from_file(write(tmp_path, "dmesg", dmesg[: dmesg.index(b"Out of memory") + 40]))
    assert errors == [] and [f.event for f in facts] == []  # the kill line is cut before its sizes: no guess


def test_huge_table_file_reads_only_a_bounded_prefix(tmp_path, real):
    block = (real / "free_-m.txt").read_bytes()
    path = tmp_path / "free_-m"
    with open(path, "wb") as out:
        out.write(block)
        out.write(b" " * (MAX_TABLE_BYTES + 1024) + b"\n")
    facts, errors = facts_from_file(str(path))
    assert len(facts) == 1
    assert len(errors) == 1 and str(path) in errors[0] and "too large" in errors[0]


def test_dmesg_with_an_endless_line_is_streamed(tmp_path, formats):
    path = tmp_path / "dmesg"
    with open(path, "wb") as out:
        out.write(b"[    1.000000] " + b"x" * (3 * 1024 * 1024) + b"\n")
        out.write((formats / "dmesg_nic_and_hung.txt").read_bytes())
    facts, errors = facts_from_file(str(path))
    assert errors == [] and len(facts) == 14


def test_compressed_file_is_named_as_such(tmp_path, real):
    import gzip

    path = tmp_path / "free_-m.gz"
    path.write_bytes(gzip.compress((real / "free_-m.txt").read_bytes()))
    facts, errors = facts_from_file(str(path))
    assert facts == [] and errors == [f"{path}: gzip-compressed; decompress it first"]


def test_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    facts, errors = facts_from_file(str(fifo))
    assert facts == [] and len(errors) == 1 and "not a regular file" in errors[0]


def test_refused_dmesg_is_reported_not_silently_empty(tmp_path):
    path = write(tmp_path, "dmesg.txt", b"dmesg: read kernel buffer failed: Operation not permitted\n")
    facts, errors = facts_from_file(path)
    assert facts == []
    assert len(errors) == 1 and path in errors[0] and "Operation not permitted" in errors[0]


def test_host_without_numa_gives_no_nodes_and_no_error(tmp_path):
    facts, errors = facts_from_file(write(tmp_path, "numactl-hardware.txt", b"No NUMA available on this system\n"))
    assert facts == [] and errors == []
