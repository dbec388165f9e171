"""Bad input never escapes as a traceback: any text is either a rule or a `file:line:col` error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from diagnostics.engine.language import ConditionError, parse_condition
from diagnostics.engine.loader import RuleFileError, load_rule_file
from tests.engine.conftest import rule_text

GOOD = rule_text("test.fuzz")
TOKENS = st.sampled_from(["capacity_check.free_ram", "libvirt_error", "and", "or", "not", "(", ")", "<", "==", "4GiB",
                          "95%", "10m", '"x"', "/a+/i", "[1, 2]", "in", "contains", "matches", "no(", "count(", "where",
                          "+", "-", "*", "/", "null", "true", ".", "planner.avoid_hosts", "1e5", "'", "\\"])


@given(st.lists(TOKENS, max_size=12).map(" ".join))
@settings(max_examples=300, deadline=None)
def test_any_token_soup_parses_or_raises_a_positioned_condition_error(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError as exc:
        assert 0 <= exc.loc <= len(text)
        assert exc.message
    else:
        assert condition.anchor


@given(st.binary(max_size=600))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_bytes_are_a_rule_file_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_rule_file(path)
    except RuleFileError as exc:
        assert exc.line >= 1 and exc.col >= 1 and exc.message


@given(st.integers(0, len(GOOD) - 1), st.integers(1, 40))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_truncated_or_damaged_rule_files_are_rule_file_errors(tmp_path: Path, cut: int, width: int) -> None:
    path = tmp_path / "damaged.toml"
    for text in (GOOD[:cut], GOOD[:cut] + "\x00" * width + GOOD[cut + width:]):
        path.write_text(text, encoding="utf-8")
        try:
            load_rule_file(path)
        except RuleFileError as exc:
            assert exc.line >= 1 and exc.col >= 1
