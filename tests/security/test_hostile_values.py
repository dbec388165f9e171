"""One hostile value costs one clear line, never a whole file or run: bounded integers, JSON depth, `--since`
ranges, timestamps of any year, in the bundle and source code as in the log, API and probe parsers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnostics.bounded import (
    BoundedValueError,
    bounded_seconds,
    int_or_none,
    json_depth,
    loads_json,
    parse_int,
    shift,
    to_utc,
)
from diagnostics.bundle.manifest import ManifestError, parse
from diagnostics.bundle.window import parse_since
from diagnostics.sources.timezones import TimeSpecError, parse_duration, parse_when

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "scale-dynamic-disabled" / "management-server.log"
HUGE = "9" * 5000
LONG_SINCE = "9" * 400


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], cwd=ROOT, capture_output=True, timeout=timeout, check=False)


def one_clean_line(done: subprocess.CompletedProcess) -> str:
    err = done.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    return err


# -- the helpers ------------------------------------------------------------------------------------------------

def test_a_5000_digit_integer_is_one_bounded_error() -> None:
    with pytest.raises(BoundedValueError, match=r"job id '9{20}\.\.\.' \(5000 digits\) is longer than 20 digits"):
        parse_int(HUGE, what="job id")
    assert int_or_none(HUGE) is None and int_or_none("1311") == 1311 and parse_int(b"-42") == -42


def test_json_depth_ignores_brackets_inside_strings_and_bounds_nesting() -> None:
    assert json_depth('{"a": "[[[[[[", "b": [[1]]}') == 3
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(BoundedValueError, match="nested deeper than 64 levels"):
        loads_json(deep, source="answer.json")
    assert loads_json('{"list": [1, 2]}', source="x") == {"list": [1, 2]}


def test_durations_are_finite_and_at_most_a_century() -> None:
    assert bounded_seconds(7200, what="--since") == 7200
    for bad in (float("inf"), -1, 101 * 366 * 86400):
        with pytest.raises(BoundedValueError):
            bounded_seconds(bad, what="--since")


def test_timestamps_of_any_year_convert_without_overflow() -> None:
    edge = datetime(9999, 12, 31, 23, 59, 59)
    assert to_utc(edge, timezone(timedelta(hours=-12))) == datetime.max.replace(tzinfo=timezone.utc)
    assert to_utc(datetime(1, 1, 1), timezone(timedelta(hours=2))) == datetime.min.replace(tzinfo=timezone.utc)
    assert shift(edge, timedelta(days=1)) == datetime.max
    assert to_utc(datetime(2025, 3, 10, 15), timezone(timedelta(hours=1))) == datetime(2025, 3, 10, 14, tzinfo=timezone.utc)


# -- applied in bundle/ and sources/ ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [LONG_SINCE + "h", LONG_SINCE, "1e999h", "9" * 13 + "d"])
def test_a_400_digit_since_is_one_line_in_bundles_and_timelines(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_since(text, datetime(2025, 3, 10))
    assert "\n" not in str(err.value) and len(str(err.value)) < 200
    with pytest.raises(TimeSpecError) as err2:
        parse_when(text, timezone.utc)
    assert len(str(err2.value)) < 200


def test_a_sane_since_still_works() -> None:
    assert parse_since("2h", datetime(2025, 3, 10, 12)) == datetime(2025, 3, 10, 10)
    assert parse_duration("90s") == 90
    assert parse_since("36500d", datetime(2025, 3, 10)) == datetime(2025, 3, 10) - timedelta(days=36500)


def test_cli_since_with_400_digits_ends_with_one_line(tmp_path: Path) -> None:
    done = run("timeline", "--since", LONG_SINCE + "h", str(SAMPLE))
    err = one_clean_line(done)
    assert done.returncode != 0 and "digits" in err
    done = run("bundle", "create", "-o", str(tmp_path / "b.tar.gz"), "--since", LONG_SINCE + "h", str(SAMPLE))
    err = one_clean_line(done)
    assert done.returncode == 3 and err.count("\n") == 1 and "digits" in err


def test_a_deeply_nested_manifest_is_one_line(tmp_path: Path) -> None:
    doc = '{"format": "csdiag-bundle", "files": [], "x": ' + "[" * 50_000 + "]" * 50_000 + "}"
    with pytest.raises(ManifestError, match="nested deeper than 64 levels"):
        parse(doc.encode(), "case.tar.gz")
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "manifest.json").write_text(doc)
    for command in ("inspect", "verify"):
        done = run("bundle", command, str(folder))
        err = one_clean_line(done)
        assert done.returncode == 3 and "nested deeper than 64 levels" in err and err.count("\n") == 1


# -- call sites outside the bundle and source code: bounded parsing applied there too ----------------------------------

def _hostile_log(tmp_path: Path) -> Path:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    hostile = (
        f"2025-03-10 14:02:11,203 INFO  [o.a.c.f.j.i.AsyncJobMonitor] (API-Job-Executor-5:[ctx-8dfa539f, job-{HUGE}]) "
        f"(logid:8dfa539f) Add job-{HUGE} into job monitoring\n"
        f"2025-03-10 14:02:11,205 DEBUG [o.a.c.f.j.i.AsyncJobManagerImpl] (API-Job-Executor-5:[ctx-8dfa539f]) "
        f"(logid:8dfa539f) Complete async job-{HUGE}, jobStatus: FAILED, resultCode: 530, result: x\n"
    )
    path = tmp_path / "management-server.log"
    path.write_text("".join(lines[:600]) + hostile + "".join(lines[600:]))
    return path


def test_a_5000_digit_job_id_costs_one_record_not_the_file(tmp_path: Path) -> None:
    done = run("analyze", "--tz", "UTC", "-f", "json", str(_hostile_log(tmp_path)))
    one_clean_line(done)
    doc = json.loads(done.stdout)
    assert doc["inputs"][0]["records"] > 1000
    assert not [e for e in doc["errors"] if "could not be analysed" in str(e)]
    assert any(f["rule"] == "scaling.dynamic-scaling-disabled" for f in doc["findings"])


def test_a_5000_digit_job_id_does_not_break_the_timeline(tmp_path: Path) -> None:
    done = run("timeline", "--tz", "UTC", str(_hostile_log(tmp_path)))
    one_clean_line(done)
    assert done.returncode == 0 and done.stdout.count(b"\n") > 1000


def test_a_deeply_nested_api_answer_is_one_warning(tmp_path: Path) -> None:
    from diagnostics.api.read_snapshot import facts_from_snapshot
    from diagnostics.api.snapshot import MANIFEST

    (tmp_path / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    facts, warnings = facts_from_snapshot(tmp_path)
    assert facts == [] and len(warnings) == 1 and "nested" in warnings[0]


def test_probe_since_with_400_digits_is_one_line() -> None:
    from diagnostics.probe.options import parse_since as probe_since

    with pytest.raises(ValueError) as err:
        probe_since(LONG_SINCE + "h")
    assert len(str(err.value)) < 200


def test_records_dated_year_9999_count_in_analyze_as_in_timeline(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines(keepends=True)[:200]
    path = tmp_path / "management-server.log"
    path.write_text("".join(line.replace("2025-03-10", "9999-12-31", 1) for line in lines))
    timeline = run("timeline", "--tz", "UTC", str(path))
    shown = sum(1 for line in timeline.stdout.decode().splitlines() if line.startswith("9999-12-31"))
    done = run("analyze", "--tz", "UTC", "-f", "json", str(path))
    doc = json.loads(done.stdout)
    assert shown > 100
    assert doc["inputs"][0]["records"] == shown
