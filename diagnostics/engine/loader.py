"""Load rule files (TOML, one rule per file) and refuse broken ones with `file:line:col: message`.

A refused file never stops the others: the operator sees exactly which rule is skipped and why,
at the position of the offending key, condition token or regex.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

import diagnostics
from diagnostics.engine.language import Condition, ConditionError, parse_condition
from diagnostics.engine.rule_cache import ConditionCache
from diagnostics.engine.rule import GROUP_KEYS, JOIN_KEYS, Example, HostEvidence, Rule, RuleSet
from diagnostics.engine.template import template_errors
from diagnostics.engine.units import parse_duration
from diagnostics.model import CATEGORIES, FACT_KINDS, SEVERITIES

RULE_ID = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*\.[a-z0-9-]+$")
ALLOWED_KEYS = {
    "id", "title", "description", "category", "severity", "confidence", "condition", "join", "window", "group_by",
    "message", "remediation", "references", "symptom_of", "benign", "fallback", "example",
}
EXAMPLE_KEYS = {"expect", "log", "api", "host", "fact", "count", "message_contains", "note"}
HOST_KEYS = {"name"}
MAX_RULE_FILE_BYTES = 1024 * 1024
# Heartbeat facts come from pcaps, which a TOML file cannot hold; every other kind has a text parser.
HAND_MADE_FACT_MODULES = ("diagnostics.model.heartbeat_facts",)


class RuleFileError(Exception):
    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def builtin_rules_dir() -> Path:
    """`diagnostics/rules/` in a wheel (copied there by setup.py), else `rules/` beside the package (a checkout)."""
    override = os.environ.get("CSDIAG_RULES_DIR")
    if override:
        return Path(override)
    package = Path(diagnostics.__file__).resolve().parent
    installed = package / "rules"
    return installed if installed.is_dir() else package.parent / "rules"


def load_rules(extra_dirs: list[str] | tuple[str, ...] = ()) -> RuleSet:
    """Every `*.toml` under the built-in rules folder, then under each extra folder (an operator's own rules).
    Parsed conditions come from the user's rule cache when it can be trusted (engine/rule_cache.py)."""
    ruleset = RuleSet()
    seen: dict[str, str] = {}
    conditions = ConditionCache()
    for directory in [builtin_rules_dir(), *(Path(d) for d in extra_dirs)]:
        if not directory.is_dir():
            ruleset.errors.append(f"{directory}:1:1: rules folder not found")
            continue
        files = sorted(directory.rglob("*.toml"))
        if not files:
            ruleset.errors.append(f"{directory}:1:1: rules folder holds no *.toml rule files")
        for path in files:
            try:
                rule = load_rule_file(path, conditions.parse)
            except RuleFileError as exc:
                ruleset.errors.append(f"{path}:{exc.line}:{exc.col}: {exc.message}")
                continue
            if rule.id in seen:
                line, col = _key_position(path.read_text(encoding="utf-8", errors="replace"), "id")
                ruleset.errors.append(f"{path}:{line}:{col}: duplicate rule id {rule.id!r} (first defined in {seen[rule.id]})")
                continue
            seen[rule.id] = str(path)
            ruleset.rules.append(rule)
    conditions.save()
    return ruleset


def load_rule_file(path: Path, parse: Callable[[str], Condition] = parse_condition) -> Rule:
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise RuleFileError(f"cannot read: {exc.strerror or exc}") from None
    if len(raw_bytes) > MAX_RULE_FILE_BYTES:
        raise RuleFileError(f"rule file larger than {MAX_RULE_FILE_BYTES} bytes")
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _offset_position(raw_bytes[: exc.start].decode("utf-8", errors="replace"), exc.start)
        raise RuleFileError("not UTF-8 text", line, col) from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc) from None
    return build_rule(data, raw, str(path), parse)


def _toml_error(exc: tomllib.TOMLDecodeError) -> RuleFileError:
    text = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if match:
        return RuleFileError(f"TOML syntax: {text[: match.start()]}", int(match.group(1)), int(match.group(2)))
    match = re.search(r"\s*\(at end of document\)$", text)
    return RuleFileError(f"TOML syntax: {text[: match.start()] if match else text}")


# ---------------------------------------------------------------- positions in the raw text


def _offset_position(raw: str, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def _key_match(raw: str, key: str, start: int = 0) -> re.Match[str] | None:
    return re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=[ \t]*", re.MULTILINE).search(raw, start)


def _key_position(raw: str, key: str, start: int = 0) -> tuple[int, int]:
    match = _key_match(raw, key, start)
    if not match:
        return 1, 1
    return _offset_position(raw, match.start() + len(match.group(0)) - len(match.group(0).lstrip()))


def _value_offset(raw: str, key: str) -> int | None:
    """Offset of the first character of the string value of `key` (inside its quotes)."""
    match = _key_match(raw, key)
    if not match:
        return None
    offset = match.end()
    for quote in ('"""', "'''", '"', "'"):
        if raw.startswith(quote, offset):
            offset += len(quote)
            if len(quote) == 3 and raw.startswith("\n", offset):
                offset += 1
            elif len(quote) == 3 and raw.startswith("\r\n", offset):
                offset += 2
            return offset
    return offset


def _example_lines(raw: str) -> list[int]:
    return [raw.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^[ \t]*\[\[example\]\]", raw, re.MULTILINE)]


# ---------------------------------------------------------------- validation


def _require(data: dict[str, Any], raw: str, key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise RuleFileError(f"missing required key {key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RuleFileError(f"{key!r} must be a {names}", *_key_position(raw, key))
    return value


def _string_list(data: dict[str, Any], raw: str, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleFileError(f"{key!r} must be a list of strings", *_key_position(raw, key))
    return tuple(value)


def build_rule(data: dict[str, Any], raw: str, path: str, parse: Callable[[str], Condition] = parse_condition) -> Rule:
    unknown = sorted(set(data) - ALLOWED_KEYS)
    if unknown:
        raise RuleFileError(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(ALLOWED_KEYS))})", *_key_position(raw, unknown[0]))
    rule_id = _require(data, raw, "id", str)
    if not RULE_ID.match(rule_id):
        raise RuleFileError(f"rule id {rule_id!r} must look like area.name (lower case, digits, '-', '.')", *_key_position(raw, "id"))
    title = _require(data, raw, "title", str)
    category = _require(data, raw, "category", str)
    if category not in CATEGORIES and "{" not in category:
        raise RuleFileError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)}, or a field such as "
                            "\"{log_record.category}\")", *_key_position(raw, "category"))
    severity = _require(data, raw, "severity", str)
    if severity not in SEVERITIES:
        raise RuleFileError(f"unknown severity {severity!r} (known: {', '.join(SEVERITIES)})", *_key_position(raw, "severity"))
    confidence = _require(data, raw, "confidence", (int, float))
    if not 0 <= confidence <= 1:
        raise RuleFileError("confidence must be between 0 and 1", *_key_position(raw, "confidence"))
    condition_text = _require(data, raw, "condition", str)
    try:
        condition = parse(condition_text)
    except ConditionError as exc:
        start = _value_offset(raw, "condition")
        line, col = _offset_position(raw, start + exc.loc) if start is not None else (1, 1)
        raise RuleFileError(f"condition: {exc.message}", line, col) from None

    join = _string_list(data, raw, "join") or JOIN_KEYS
    bad = [key for key in join if key not in JOIN_KEYS]
    if bad:
        raise RuleFileError(f"unknown join key {bad[0]!r} (known: {', '.join(JOIN_KEYS)})", *_key_position(raw, "join"))
    group_by = _string_list(data, raw, "group_by") or ("host", "vm")
    bad = [key for key in group_by if key not in GROUP_KEYS and not _bound_field(key, condition.bound_kinds)]
    if bad:
        raise RuleFileError(f"unknown group_by key {bad[0]!r} (known: {', '.join(GROUP_KEYS)}, or kind.field of a kind "
                            "the condition binds)", *_key_position(raw, "group_by"))
    window: float | None = None
    if "window" in data:
        try:
            window = parse_duration(str(data["window"]))
        except ValueError as exc:
            raise RuleFileError(str(exc), *_key_position(raw, "window")) from None
    elif len(condition.kinds) > 1:
        raise RuleFileError(
            f"the condition joins fact kinds {', '.join(condition.kinds)}: name a time window, e.g. window = \"10m\"",
            *_key_position(raw, "condition"),
        )

    message = _require(data, raw, "message", str)
    remediation = _string_list(data, raw, "remediation")
    templated_category = [category] if "{" in category else []
    for key, templates in (("category", templated_category), ("message", [message]), ("remediation", list(remediation))):
        for template in templates:
            problems = template_errors(template, condition.bound_kinds)
            if problems:
                _, problem = problems[0]
                raise RuleFileError(f"{key}: {problem}", *_key_position(raw, key))

    symptom_of = _string_list(data, raw, "symptom_of")
    for other in symptom_of:
        if not RULE_ID.match(other):
            raise RuleFileError(f"symptom_of: {other!r} is not a rule id", *_key_position(raw, "symptom_of"))
    benign = data.get("benign", False)
    if not isinstance(benign, bool):
        raise RuleFileError("'benign' must be true or false", *_key_position(raw, "benign"))
    fallback = data.get("fallback", False)
    if not isinstance(fallback, bool):
        raise RuleFileError("'fallback' must be true or false", *_key_position(raw, "fallback"))

    examples = _build_examples(data.get("example", []), raw)
    return Rule(
        id=rule_id, title=title, category=category, severity=severity, confidence=float(confidence),
        condition=condition, message=message, path=path, join=join, window=window, group_by=group_by,
        remediation=remediation, references=_string_list(data, raw, "references"), symptom_of=symptom_of,
        benign=benign, examples=examples, description=str(data.get("description", "")), fallback=fallback,
    )


def _bound_field(key: str, bound_kinds: tuple[str, ...]) -> bool:
    """`kind.field` of a kind the condition binds (group_by may name one, e.g. log_record.template)."""
    kind, dot, name = key.partition(".")
    return bool(dot) and kind in bound_kinds and name in FACT_KINDS[kind].field_names()


def _build_examples(items: Any, raw: str) -> tuple[Example, ...]:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RuleFileError("'example' must be [[example]] tables", *_key_position(raw, "example"))
    lines = _example_lines(raw)
    examples: list[Example] = []
    for index, item in enumerate(items, start=1):
        line = lines[index - 1] if index - 1 < len(lines) else 1
        examples.append(_build_example(index, line, item))
    expects = {example.expect for example in examples}
    missing = [label for label, expect in (('a positive example (expect = "match")', "match"),
                                           ('a negative example (expect = "no-match")', "no-match"))
               if expect not in expects]
    if missing:
        raise RuleFileError(f"refused: every rule needs a positive and a negative example; {' and '.join(missing)} is missing")
    return tuple(examples)


def _build_example(index: int, line: int, item: dict[str, Any]) -> Example:
    where = f"example {index}"
    unknown = sorted(set(item) - EXAMPLE_KEYS)
    if unknown:
        raise RuleFileError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(EXAMPLE_KEYS))})", line, 1)
    expect = item.get("expect")
    if expect not in ("match", "no-match"):
        raise RuleFileError(f"{where}: expect must be \"match\" or \"no-match\"", line, 1)
    log = item.get("log", "")
    if not isinstance(log, str):
        raise RuleFileError(f"{where}: log must be a string", line, 1)
    api = item.get("api", "")
    if not isinstance(api, str):
        raise RuleFileError(f"{where}: api must be a string of API answers", line, 1)
    hosts_value = item.get("host", [])
    hosts_list = [hosts_value] if isinstance(hosts_value, dict) else hosts_value
    if not isinstance(hosts_list, list) or not all(isinstance(h, dict) for h in hosts_list):
        raise RuleFileError(f"{where}: host must be a table or an array of tables", line, 1)
    hosts = []
    for host in hosts_list:
        name = host.get("name")
        outputs = {key: value for key, value in host.items() if key not in HOST_KEYS}
        if not isinstance(name, str) or not name:
            raise RuleFileError(f"{where}: host evidence needs name = \"<host name>\"", line, 1)
        if not all(isinstance(value, str) for value in outputs.values()):
            raise RuleFileError(f"{where}: host evidence values must be command output strings", line, 1)
        hosts.append(HostEvidence(name, tuple(outputs.items())))
    facts = item.get("fact", [])
    if not isinstance(facts, list) or not all(isinstance(f, dict) for f in facts):
        raise RuleFileError(f"{where}: fact must be [[example.fact]] tables", line, 1)
    for fact in facts:
        kind = fact.get("kind")
        cls = FACT_KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise RuleFileError(f"{where}: hand-made fact has unknown kind {kind!r}", line, 1)
        if cls.__module__ not in HAND_MADE_FACT_MODULES:
            raise RuleFileError(f"{where}: {kind} facts must come from real input (log or host evidence), not a hand-made fact", line, 1)
        unknown_fields = sorted(set(fact) - {"kind"} - set(cls.field_names()))
        if unknown_fields:
            raise RuleFileError(f"{where}: unknown field {unknown_fields[0]!r} of fact kind {kind!r}", line, 1)
    if not log.strip() and not api.strip() and not hosts and not facts:
        raise RuleFileError(f"{where}: give its input as log, api, host evidence or facts", line, 1)
    count = item.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise RuleFileError(f"{where}: count must be a positive integer", line, 1)
    if count is not None and expect != "match":
        raise RuleFileError(f"{where}: count only makes sense for expect = \"match\"", line, 1)
    fragments = item.get("message_contains", [])
    if isinstance(fragments, str):
        fragments = [fragments]
    if not isinstance(fragments, list) or not all(isinstance(f, str) for f in fragments):
        raise RuleFileError(f"{where}: message_contains must be a list of strings", line, 1)
    note = item.get("note", "")
    return Example(index=index, line=line, expect=expect, log=log, api=api, hosts=tuple(hosts), facts=tuple(facts),
                   count=count, message_contains=tuple(fragments), note=str(note))
