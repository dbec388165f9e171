"""The rule cache keeps parsed conditions between runs and is never trusted more than the parser itself."""

from __future__ import annotations

import json
import os

import pytest

from diagnostics.engine import load_rules, parse_condition
from diagnostics.engine import rule_cache
from diagnostics.engine.rule_cache import ConditionCache


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CSDIAG_NO_CACHE", raising=False)
    return tmp_path / "csdiag"


def _conditions(ruleset):
    return {rule.id: (rule.condition.text, rule.condition.root, rule.condition.bound_kinds) for rule in ruleset.rules}


def _cache_file(folder):
    (path,) = folder.glob("conditions-*.json")
    return path


def _rewrite(path, entries):
    """What someone who edits the file and fixes up its digest would leave."""
    path.write_text(json.dumps({"format": rule_cache.FORMAT, "digest": rule_cache._digest(entries), "entries": entries}))


def test_a_second_load_takes_every_condition_from_the_cache_and_gets_the_same_rules(cache_home):
    first = load_rules([])
    path = _cache_file(cache_home)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(cache_home.stat().st_mode & 0o777) == "0o700"
    cache = ConditionCache()
    for rule in first.rules:
        cache.parse(rule.condition.text)
    assert cache.hits == len(first.rules) and not cache.dirty
    assert _conditions(load_rules([])) == _conditions(first)


def test_a_cached_condition_evaluates_like_the_parsed_one(cache_home):
    text = 'log_record.level == "ERROR" and log_record.message matches /Unable to scale\\/resize/i and host.memory_mb > 2GB'
    with pytest.raises(Exception):
        parse_condition(text)  # host.memory_mb is not a field: such a condition is refused, and never cached
    text = 'log_record.level == "ERROR" and log_record.message matches /Unable to scale\\/resize/i'
    cache = ConditionCache()
    parsed = cache.parse(text)
    cache.save()
    again = ConditionCache()
    cached = again.parse(text)
    assert again.hits == 1 and cached.root == parsed.root and cached.bound_kinds == parsed.bound_kinds
    assert cached.root.items[1].pattern.pattern == parsed.root.items[1].pattern.pattern == "Unable to scale/resize"
    assert cached.root.items[1].pattern.flags == parsed.root.items[1].pattern.flags



def _saved_entry(cache_home, text):
    """Parse TEXT, save the cache: (its file, all its entries, TEXT's entry) to tamper with."""
    cache = ConditionCache()
    cache.parse(text)
    cache.save()
    path = _cache_file(cache_home)
    entries = json.loads(path.read_text())["entries"]
    return path, entries, entries[rule_cache._text_key(text)]


def test_an_entry_edited_with_a_fixed_digest_is_parsed_again(cache_home):
    text = 'capacity_check.requested_cpu > 4000 and capacity_check.outcome == "insufficient_cpu"'
    path, entries, entry = _saved_entry(cache_home, text)
    entry["items"][0]["right"]["value"] = 1  # the threshold, quietly lowered
    _rewrite(path, entries)
    again = ConditionCache()
    condition = again.parse(text)
    assert again.hits == 0 and condition.root == parse_condition(text).root
    assert condition.root.items[0].right.value == 4000


@pytest.mark.parametrize("field, value", [("kind", "host_memory"), ("t", "Or"), ("op", "<")])
def test_entries_naming_what_the_text_does_not_say_are_refused(cache_home, field, value):
    text = 'capacity_check.requested_cpu > 4000 and capacity_check.outcome == "insufficient_cpu"'
    path, entries, entry = _saved_entry(cache_home, text)
    target = entry if field == "t" else entry["items"][0] if field == "op" else entry["items"][0]["left"]
    target[field] = value
    _rewrite(path, entries)
    again = ConditionCache()
    assert again.parse(text).root == parse_condition(text).root and again.hits == 0


def test_a_torn_or_edited_file_is_ignored_as_a_whole(cache_home):
    load_rules([])
    path = _cache_file(cache_home)
    data = path.read_text()
    path.write_text(data.replace('"value": 4000', '"value": 1', 1) if '"value": 4000' in data else data[:-10])
    assert ConditionCache().entries == {}
    path.write_text(data[: len(data) // 2])
    assert ConditionCache().entries == {}
    ruleset = load_rules([])  # and loading the rules rewrites it
    assert not ruleset.errors and len(ConditionCache().entries) == len(ruleset.rules)


def test_a_file_others_may_write_is_not_read(cache_home):
    load_rules([])
    path = _cache_file(cache_home)
    os.chmod(path, 0o620)
    assert ConditionCache().entries == {}
    os.chmod(path, 0o600)
    os.chmod(cache_home, 0o777)
    assert ConditionCache().entries == {}


def test_no_cache_when_turned_off_and_no_failure_when_the_folder_cannot_be_written(cache_home, monkeypatch, tmp_path):
    monkeypatch.setenv("CSDIAG_NO_CACHE", "1")
    assert load_rules([]).rules and not cache_home.exists()
    monkeypatch.delenv("CSDIAG_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    ruleset = load_rules([])
    assert ruleset.rules and not ruleset.errors


def test_broken_conditions_keep_their_exact_error_and_are_not_cached(cache_home, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bad.toml").write_text('id = "my.bad"\ntitle = "t"\ncategory = "other"\nseverity = "info"\nconfidence = 0.5\n'
                                     'condition = "log_record.nosuchfield == 1"\nmessage = "m"\n')
    first = load_rules([str(folder)])
    second = load_rules([str(folder)])
    assert [e for e in first.errors if "bad.toml" in e] == [e for e in second.errors if "bad.toml" in e]
    assert any("unknown field 'nosuchfield'" in e for e in second.errors)


def test_the_file_stays_bounded_keeping_the_rules_just_loaded(cache_home, monkeypatch):
    monkeypatch.setattr(rule_cache, "MAX_ENTRIES", 5)
    cache = ConditionCache()
    for threshold in range(8):
        cache.parse(f"capacity_check.requested_cpu > {threshold}")
    cache.save()
    again = ConditionCache()
    assert len(again.entries) == 8  # this load's own conditions are all kept
    again.parse("capacity_check.requested_cpu > 100")
    again.parse("capacity_check.requested_cpu > 1")
    again.save()
    kept = ConditionCache()
    assert len(kept.entries) == 2 and kept.parse("capacity_check.requested_cpu > 1") and kept.hits == 1
