"""CloudStack's own messages as data: the templates its source writes, and what each one signals.

The catalogue is the vocabulary the reading side recognises. Each entry of `messages/*.toml` is one logger call or
`throw new ...Exception("...")` of CloudStack's source, with its class, level, the releases and source lines it
exists at, the template with typed placeholders, and what it signals (fact kind/event, relevance, category).
`exceptions.toml` is the exception taxonomy. Python here is only the mechanism: load, validate, compile, match.

>>> cat = load_catalogue()
>>> m = cat.match("Unable to start VM instance i-2-57-VM due to some reason")
>>> m is None or isinstance(m.template.id, str)
True
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("messages")
EXCEPTIONS_FILE = Path(__file__).with_name("exceptions.toml")

RELEVANCES = ("failure", "benign", "context")
# Placeholder types of a template: `{host}` `{vm}` `{id}` `{size}` `{mhz}` `{duration}` `{list}` `{text}` ...
PLACEHOLDER_RE = re.compile(r"\{(?P<name>[a-z_][a-z0-9_]*)(?::(?P<type>[a-z_]+))?\}")
TYPE_PATTERNS = {
    "host": r".+?",  # Host[-3-Routing], Host {"id":3,...} (4.20 JSON), kvm01(3): renderings differ per release
    "vm": r".+?",
    "id": r"[0-9A-Za-z._:-]+",
    "int": r"-?\d+",
    "num": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "size": r"(?:\(\s*-?[\d.]+\s*[KMGTP]?i?B\)\s*)?-?\d+(?:\.\d+)?",
    "mhz": r"-?\d+(?:\.\d+)?",
    "duration": r"-?\d+(?:\.\d+)?\s*(?:ms|s|seconds?|milliseconds?)?",
    "list": r"\[[^\]]*\]|\S+",
    "word": r"\S+",
    "text": r".*?",
}


class CatalogueError(ValueError):
    """A malformed catalogue entry; the message names file:line."""


@dataclass(frozen=True, slots=True)
class SourceRef:
    release: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    cls: str
    level: str
    text: str
    relevance: str  # failure | benign | context
    category: str
    fact_kind: str | None = None
    event: str | None = None
    sources: tuple[SourceRef, ...] = ()
    examples: tuple[str, ...] = ()
    origin: str = ""  # file:line of the entry

    def literals(self) -> list[str]:
        """The literal fragments of the template, longest first (what a prefilter can search for)."""
        parts = [p.strip() for p in PLACEHOLDER_RE.split(self.text)[::3] if p and p.strip()]
        return sorted(parts, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Match:
    template: Template
    fields: dict[str, str] = field(default_factory=dict)


def _compile(text: str) -> re.Pattern[str]:
    out: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in PLACEHOLDER_RE.finditer(text):
        out.append(re.escape(text[pos:m.start()]))
        name, kind = m.group("name"), m.group("type") or "text"
        pattern = TYPE_PATTERNS.get(kind, TYPE_PATTERNS["text"])
        if m.end() == len(text) and pattern.endswith("*?"):
            pattern = pattern[:-1]  # a trailing free-text placeholder takes the rest of the line
        if name in seen:
            out.append(f"(?:{pattern})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>{pattern})")
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("".join(out))


@dataclass(slots=True)
class Catalogue:
    templates: list[Template]
    exceptions: dict[str, dict] = field(default_factory=dict)
    _compiled: list[tuple[Template, re.Pattern[str], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # most specific first: longer literal text wins over a shorter, more generic template
        ordered = sorted(self.templates, key=lambda t: -sum(len(p) for p in t.literals()))
        self._compiled = [(t, _compile(t.text), (t.literals() or [""])[0]) for t in ordered]

    def match(self, message: str) -> Match | None:
        """The most specific template found in `message` (a record's first line or a trace line), or None."""
        for template, rx, anchor in self._compiled:
            if anchor and anchor not in message:
                continue
            m = rx.search(message)
            if m:
                return Match(template, {k: v for k, v in m.groupdict().items() if v is not None})
        return None

    def get(self, template_id: str) -> Template | None:
        return next((t for t in self.templates if t.id == template_id), None)

    def literals(self) -> list[str]:
        """One literal anchor per template: the prefilter text derived from the catalogue, never hand-kept."""
        return sorted({(t.literals() or [""])[0] for t in self.templates} - {""})

    def exception_class(self, name: str) -> dict | None:
        """The taxonomy entry of an exception class name (simple or fully qualified), or None."""
        simple = name.rsplit(".", 1)[-1]
        return self.exceptions.get(name) or self.exceptions.get(simple)


def _line_of(raw: str, needle: str) -> int:
    i = raw.find(needle)
    return raw.count("\n", 0, i) + 1 if i >= 0 else 1


def _entry(raw: str, path: Path, item: dict, index: int) -> Template:
    anchor = f'id = "{item.get("id", "")}"'
    where = f"{path}:{_line_of(raw, anchor) if item.get('id') else 1}"
    for key in ("id", "class", "level", "template", "relevance", "category"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise CatalogueError(f"{where}: message #{index + 1}: missing or empty '{key}'")
    if item["relevance"] not in RELEVANCES:
        raise CatalogueError(f"{where}: {item['id']}: relevance must be one of {', '.join(RELEVANCES)}")
    try:
        _compile(item["template"])
    except re.error as exc:
        raise CatalogueError(f"{where}: {item['id']}: template does not compile: {exc}") from None
    sources = tuple(SourceRef(str(s.get("release", "")), str(s.get("path", "")), int(s.get("line", 0)))
                    for s in item.get("source", []))
    return Template(
        id=item["id"], cls=item["class"], level=item["level"], text=item["template"],
        relevance=item["relevance"], category=item["category"], fact_kind=item.get("fact_kind"),
        event=item.get("event"), sources=sources, examples=tuple(item.get("examples", ())), origin=where,
    )


def load_file(path: Path) -> list[Template]:
    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    return [_entry(raw, path, item, i) for i, item in enumerate(data.get("message", []))]


def load_catalogue(extra_dirs: tuple[str, ...] = ()) -> Catalogue:
    return _load(tuple(str(d) for d in extra_dirs))


@lru_cache(maxsize=8)
def _load(extra_dirs: tuple[str, ...]) -> Catalogue:
    templates: list[Template] = []
    seen: dict[str, str] = {}
    for directory in (DATA_DIR, *map(Path, extra_dirs)):
        for path in sorted(directory.glob("*.toml")):
            for t in load_file(path):
                if t.id in seen:
                    raise CatalogueError(f"{t.origin}: duplicate id {t.id} (first at {seen[t.id]})")
                seen[t.id] = t.origin
                templates.append(t)
    exceptions: dict[str, dict] = {}
    if EXCEPTIONS_FILE.exists():
        exceptions = {e["class"]: e for e in tomllib.loads(EXCEPTIONS_FILE.read_text(encoding="utf-8")).get("exception", [])}
    return Catalogue(templates, exceptions)
