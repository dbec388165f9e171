"""Read a runbook TOML file into typed checks; refuse unknown keys and bad conditions by name.

The runbook ships inside the package (stdlib tomllib, importlib.resources), so `csdiag runbook` works from a wheel
as well as from a checkout. A typo in a key would silently drop evidence, so unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from diagnostics.engine import ConditionError, parse_condition
from diagnostics.runbook.model import COMMAND_PLACES, SECTIONS, Check, Command, Question, Runbook

WORKFLOW_STEPS = ("api_call", "stop", "change_offering", "start", "live_scale", "verify")
_TOP_KEYS = {"id", "title", "source", "summary", "check", "question"}
_CHECK_KEYS = {"id", "section", "title", "why", "commands", "verify", "applies", "where", "fail_rules",
               "fail_categories", "ignore_rules", "pass_when", "incident_step"}
_QUESTION_KEYS = {"id", "question", "answer", "related_rules", "related_checks"}


class RunbookError(ValueError):
    """A runbook file that cannot be used, with the file and the check it is about."""


def available() -> list[str]:
    """Names of the runbooks shipped with csdiag (`change-offering`, ...)."""
    return sorted(p.name[:-5] for p in resources.files(__package__).iterdir() if p.name.endswith(".toml"))


def load_runbook(name: str) -> Runbook:
    if name not in available():
        raise RunbookError(f"no runbook named {name!r} (available: {', '.join(available())})")
    resource = resources.files(__package__) / f"{name}.toml"
    return parse_runbook(resource.read_text(encoding="utf-8"), path=str(resource))


def parse_runbook(text: str, path: str = "<runbook>") -> Runbook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunbookError(f"{path}: {exc}") from None
    _no_unknown(data, _TOP_KEYS, path)
    checks = tuple(_check(raw, f"{path}: check {raw.get('id', i + 1)!r}") for i, raw in enumerate(data.get("check", [])))
    ids = [c.id for c in checks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RunbookError(f"{path}: duplicate check ids {', '.join(duplicates)}")
    questions = tuple(_question(raw, f"{path}: question {raw.get('id', i + 1)!r}", set(ids))
                      for i, raw in enumerate(data.get("question", [])))
    return Runbook(id=_text(data, "id", path), title=_text(data, "title", path), source=data.get("source", ""),
                   summary=data.get("summary", "").strip(), checks=checks, questions=questions, path=path)


def _no_unknown(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise RunbookError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RunbookError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RunbookError(f"{where}: {key} must be a list of strings")
    return tuple(v.strip() for v in value)


def _check(raw: dict[str, Any], where: str) -> Check:
    _no_unknown(raw, _CHECK_KEYS, where)
    section = _text(raw, "section", where)
    if section not in SECTIONS:
        raise RunbookError(f"{where}: section must be one of {', '.join(SECTIONS)}")
    commands = []
    for cmd in raw.get("commands", []):
        if not isinstance(cmd, dict) or set(cmd) != {"on", "run"} or cmd["on"] not in COMMAND_PLACES:
            raise RunbookError(f"{where}: each command is {{ on = {'|'.join(COMMAND_PLACES)}, run = \"...\" }}")
        commands.append(Command(on=cmd["on"], run=cmd["run"]))
    conditions = []
    for text in _strings(raw, "pass_when", where):
        try:
            conditions.append(parse_condition(text))
        except ConditionError as exc:
            raise RunbookError(f"{where}: pass_when {text!r}: {exc.message}") from None
    step = raw.get("incident_step")
    if step is not None and step not in WORKFLOW_STEPS:
        raise RunbookError(f"{where}: incident_step must be one of {', '.join(WORKFLOW_STEPS)}")
    return Check(
        id=_text(raw, "id", where), section=section, title=_text(raw, "title", where), why=_text(raw, "why", where),
        commands=tuple(commands), verify=_strings(raw, "verify", where), applies=raw.get("applies", ""),
        where=raw.get("where", ""), fail_rules=_strings(raw, "fail_rules", where),
        fail_categories=_strings(raw, "fail_categories", where), ignore_rules=_strings(raw, "ignore_rules", where),
        pass_when=tuple(conditions), incident_step=step,
    )


def _question(raw: dict[str, Any], where: str, check_ids: set[str]) -> Question:
    _no_unknown(raw, _QUESTION_KEYS, where)
    related_checks = _strings(raw, "related_checks", where)
    missing = sorted(set(related_checks) - check_ids)
    if missing:
        raise RunbookError(f"{where}: related_checks names unknown checks {', '.join(missing)}")
    return Question(id=_text(raw, "id", where), question=_text(raw, "question", where),
                    answer=_text(raw, "answer", where), related_rules=_strings(raw, "related_rules", where),
                    related_checks=related_checks)
