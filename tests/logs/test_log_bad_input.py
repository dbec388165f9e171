"""Bad input never stops the analysis: one clear line naming the file, the rest goes on, exit status 3."""

from __future__ import annotations

import gzip
import os
from datetime import timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.cli import main
from diagnostics.logs.reader import LogStats, ReadOptions, read_records
from diagnostics.pipeline import collect

GOOD = (
    "2025-03-10 15:11:55,714 DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) "
    "(logid:0f1e2d3c) Host does not have enough RAM available, cannot allocate to this host.\n"
)


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_truncated_gzip_keeps_what_was_read_and_names_the_file(tmp_path):
    body = "".join(GOOD.replace("15:11:55,714", f"15:11:{i % 60:02d},714") for i in range(2000)).encode()
    data = gzip.compress(body)
    bad = tmp_path / "management-server.log.2025-03-09.gz"
    bad.write_bytes(data[: len(data) // 2])
    stats = LogStats(str(bad))
    recs = list(read_records(str(bad), ReadOptions(tz=timezone.utc), stats))
    assert 0 < len(recs) < 2000
    assert stats.read.compressed
    assert len(stats.errors) == 1 and str(bad) in stats.errors[0] and "truncated gzip" in stats.errors[0]


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "management-server.log").write_text(GOOD)
    (tmp_path / "agent.log").write_bytes(os.urandom(4096).replace(b"\n", b"") + b"\x00")
    (tmp_path / "management-server.log.1.gz").write_bytes(gzip.compress(GOOD.encode())[:20])
    result = collect([str(tmp_path)], tz=timezone.utc)
    assert any(i["kind"] == "log" and i["records"] == 1 for i in result.inputs)
    messages = [e["message"] for e in result.errors]
    assert any("agent.log" in m and "binary" in m for m in messages)
    assert any("management-server.log.1.gz" in m for m in messages)


def test_non_utf8_bytes_are_replaced_and_counted(tmp_path):
    p = tmp_path / "management-server.log"
    p.write_bytes(GOOD.encode().replace(b"enough", b"en\xff\xfeough"))
    stats = LogStats(str(p))
    (rec,) = list(read_records(str(p), ReadOptions(tz=timezone.utc), stats))
    assert "\ufffd" in rec.message and stats.read.decode_errors == 1
    assert any("not valid UTF-8" in n for n in stats.notes)


def test_a_10_mb_single_line_is_cut_and_the_next_record_still_parses(tmp_path):
    p = tmp_path / "management-server.log"
    with open(p, "w") as f:
        f.write(GOOD.rstrip("\n") + " " + "x" * (10 * 1024 * 1024) + "\n")
        f.write(GOOD)
    stats = LogStats(str(p))
    recs = list(read_records(str(p), ReadOptions(tz=timezone.utc), stats))
    assert len(recs) == 2 and stats.read.truncated_lines == 1
    assert len(recs[0].message) <= 1 << 20
    assert recs[1].line == 2


def test_empty_unknown_and_missing_inputs_give_one_line_each_and_exit_3(tmp_path, capsys):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some words\nnothing like a log\n")
    code, out, err = run_cli(["timeline", str(empty), str(unknown), str(tmp_path / "missing.log")], capsys)
    assert code == 3
    lines = [line for line in err.splitlines() if line.startswith("csdiag:")]
    assert any("empty.log: empty file" in line for line in lines)
    assert any("notes.txt: unknown format" in line for line in lines)
    assert any("missing.log: no such file" in line for line in lines)
    assert "Traceback" not in err


def test_directory_with_no_logs(tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(512))
    code, _out, err = run_cli(["timeline", str(tmp_path)], capsys)
    assert code == 3 and "no CloudStack logs" in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode; a dangling link covers the unreadable case")
def test_unreadable_file(tmp_path, capsys):
    p = tmp_path / "management-server.log"
    p.write_text(GOOD)
    p.chmod(0)
    code, _out, err = run_cli(["timeline", str(p)], capsys)
    assert code == 3 and "permission denied" in err


def test_dangling_symlink_is_reported(tmp_path, capsys):
    (tmp_path / "management-server.log").symlink_to(tmp_path / "gone.log")
    code, _out, err = run_cli(["timeline", str(tmp_path / "management-server.log")], capsys)
    assert code == 3 and "management-server.log: no such file" in err


def test_usage_error_is_unknown_not_critical(capsys):
    code, _out, err = run_cli(["timeline", "--since", "yesterday-ish", "x.log"], capsys)
    assert code == 3 and "cannot read time" in err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(tmp_path, blob):
    p = tmp_path / "fuzz.log"
    p.write_bytes(blob)
    stats = LogStats(str(p))
    recs = list(read_records(str(p), ReadOptions(tz=timezone.utc), stats))
    assert stats.records + stats.unparsed == len(recs)
    from diagnostics.facts import facts_from_records

    list(facts_from_records(iter(recs)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([GOOD.rstrip("\n"), "\tat a.B.c(B.java:1)", "", "> quoted", "Sep 03 01:12:08 h java[1]: WARN  [a.B] (t:null) x", "\x00\xff"]), max_size=40))
def test_random_mixtures_of_real_lines_never_raise(lines):
    stats = LogStats("mix")
    recs = list(read_records("mix", ReadOptions(tz=timezone.utc), stats, lines=lines))
    assert sum(1 for r in recs if r.fmt not in ("orphan", "unparsed")) == stats.records


def test_host_evidence_folder_is_tied_to_the_named_host(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "output.txt").write_text(
        "               total        used        free      shared  buff/cache   available\n"
        "Mem:          128498      107342        2117       14530       19038        6931\n"
        "Swap:           4095        4095           0\n"
    )
    result = collect([], tz=timezone.utc, host_evidence={"kvm09": str(folder)})
    assert result.errors == []
    (memory,) = [f for f in result.facts if f.kind == "host_memory"]
    assert memory.host_name == "kvm09" and memory.available == 6931 << 20
