"""Message and remediation templates: `{kind.field|formatter}` and `{vm}`/`{host}`/`{job}`/`{logid}`.

A missing value reads `not logged` (never "unknown" inside a sentence), or the text after `else:` when given: `{vm|else:the VM}`, `{host|else:this host}`.

Checked at load time against the rule's condition, so a typo is a load error rather than a blank in a report.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

from diagnostics.engine.units import human_bytes, human_duration
from diagnostics.model import FACT_KINDS

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
ENTITY_NAMES = ("vm", "host", "job", "logid")
NOT_LOGGED = "not logged"  # what a sentence says for a value no line gave


def _mhz(value: Any) -> str:
    return f"{value} MHz" if value is not None else NOT_LOGGED


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.1f}%" if value is not None else NOT_LOGGED


def _list(value: Any) -> str:
    if value is None:
        return NOT_LOGGED
    if isinstance(value, (tuple, list, set, frozenset)):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


def _timestamp(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else _plain(value)


def _plain(value: Any) -> str:
    if value is None:
        return NOT_LOGGED
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _short(value: Any) -> str:
    text = _plain(value)
    return text if len(text) <= 160 else text[:157] + "..."


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "bytes": human_bytes,
    "mhz": _mhz,
    "percent": _percent,
    "duration": human_duration,
    "list": _list,
    "ts": _timestamp,
    "short": _short,
}


def _split(body: str) -> tuple[str, str, str | None]:
    """`name|formatter|else:default` -> (name, formatter, default); the formatter and default are optional."""
    name, *options = body.split("|")
    formatter, default = "", None
    for option in options:
        option = option.strip()
        if option.startswith("else:"):
            default = option[len("else:"):]
        else:
            formatter = option
    return name.strip(), formatter, default


def template_errors(template: str, bound_kinds: tuple[str, ...]) -> list[tuple[int, str]]:
    """(offset in template, message) for each placeholder that cannot be filled."""
    errors: list[tuple[int, str]] = []
    for match in PLACEHOLDER.finditer(template):
        body = match.group(1)
        if body is None:
            continue
        name, formatter, _ = _split(body)
        if formatter and formatter not in FORMATTERS:
            errors.append((match.start(), f"unknown formatter {formatter!r} (known: {', '.join(FORMATTERS)}, else:TEXT)"))
        if name in ENTITY_NAMES:
            continue
        kind, dot, field_name = name.partition(".")
        if not dot:
            errors.append((match.start(), f"unknown placeholder {{{name}}} (use kind.field or one of {', '.join(ENTITY_NAMES)})"))
        elif kind not in bound_kinds:
            errors.append((match.start(), f"placeholder {{{name}}} names kind {kind!r}, which the condition does not bind"))
        elif field_name not in FACT_KINDS[kind].field_names():
            errors.append((match.start(), f"unknown field {field_name!r} of fact kind {kind!r}"))
    return errors


def render(template: str, binding: dict[str, Any], entities: dict[str, Any]) -> str:
    """Fill a validated template; missing values read `not logged`."""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name, formatter, default = _split(match.group(1))
        if name in ENTITY_NAMES:
            value = entities.get(name)
        else:
            kind, _, field_name = name.partition(".")
            fact = binding.get(kind)
            value = getattr(fact, field_name, None) if fact is not None else None
        if value is None and default is not None:
            return default
        return FORMATTERS.get(formatter, _plain)(value)

    return PLACEHOLDER.sub(substitute, template)
