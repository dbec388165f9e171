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

import hashlib
import os
import pickle
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from diagnostics.hyperscan_literal import hs_literal

DATA_DIR = Path(__file__).with_name("messages")
EXCEPTIONS_FILE = Path(__file__).with_name("exceptions.toml")
VOCABULARY_FILE = Path(__file__).with_name("vocabulary.toml")

RELEVANCES = ("failure", "benign", "context")
# Placeholder types of a template: `{host}` `{vm}` `{id}` `{size}` `{mhz}` `{duration}` `{list}` `{text}` ...
PLACEHOLDER_RE = re.compile(r"\{(?P<name>[a-z_][a-z0-9_]*)(?::(?P<type>[a-z_]+))?\}")
TYPE_PATTERNS = {
    "host": r".+?",  # Host[-3-Routing], Host {"id":3,...} (4.20 JSON), kvm01(3): renderings differ per release
    "vm": r".+?",
    "id": r"[0-9A-Za-z._:-]+",
    "int": r"-?\d+",
    "num": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "size": r"(?:\(\s*-?[\d.,]+\s*(?:bytes|[KMGTPE]i?B)\)\s*)?-?\d+(?:\.\d+)?",  # `(0 bytes) 0` too
    "mhz": r"-?\d+(?:\.\d+)?",
    "duration": r"-?\d+(?:\.\d+)?\s*(?:ms|s|seconds?|milliseconds?)?",
    "list": r"\[[^\]]*\]|\S+",
    "word": r"\S+",
    "text": r".*?",
}


LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "EXCEPTION", "ANSWER")
_WORD_RE = re.compile(r"\w+")
_ID_LINE_RE = re.compile(r'^id\s*=\s*"([^"]*)"', re.M)


class CatalogueError(ValueError):
    """A malformed catalogue entry; the message names file:line."""


class SourceRef(NamedTuple):  # a tuple: 40,000 of them are loaded, and a frozen dataclass costs several times more
    release: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    cls: str
    level: str  # a log level, EXCEPTION (the text of a thrown exception) or ANSWER (an agent answer's details)
    text: str
    relevance: str  # failure | benign | context
    category: str
    fact_kind: str | None = None
    event: str | None = None
    sources: tuple[SourceRef, ...] = ()
    examples: tuple[str, ...] = ()
    origin: str = ""  # file:line of the entry
    exception: str | None = None  # the exception class a thrown template is the message of
    reviewed: bool = False  # relevance/category checked by hand (the miner's guess otherwise)

    def literals(self) -> list[str]:
        """The literal fragments of the template, longest first (what a prefilter can search for)."""
        parts = [p.strip() for p in PLACEHOLDER_RE.split(_searched(self.text))[::3] if p and p.strip()]
        return sorted(parts, key=len, reverse=True)

    @property
    def releases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.release for s in self.sources))


@dataclass(frozen=True, slots=True)
class Match:
    template: Template
    fields: dict[str, str] = field(default_factory=dict)


def _searched(text: str) -> str:
    """The text a message must contain: without a final full stop, which quoted messages (API error texts, tickets)
    and some releases drop; `search` still finds the message that keeps it. Kept after a placeholder, which would
    otherwise take the stop into its value."""
    return text[:-1] if text.endswith(".") and not text.endswith(("..", "}.")) else text


def _compile(text: str) -> re.Pattern[str]:
    text = _searched(text)
    out: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in PLACEHOLDER_RE.finditer(text):
        literal = text[pos:m.start()]
        name, kind = m.group("name"), m.group("type") or "text"
        pattern = TYPE_PATTERNS.get(kind, TYPE_PATTERNS["text"])
        if m.end() == len(text) and pattern.endswith("*?"):
            pattern = pattern[:-1]  # a trailing free-text placeholder takes the rest of the line
            if literal.endswith(" ") and literal.strip() and seen:
                # an empty value (`"... due to " + ""`, the cause logged as the next line's trace) leaves a trailing
                # space that readers and pastes strip: "Unable to start v-1-VM due to" is still this template.
                # Not for `literal {text}` alone: "Unexpected exception" is then another template's whole text
                out.append(re.escape(literal.rstrip()) + r"(?:\s|$)")
                literal = None
        if literal is not None:
            out.append(re.escape(literal))
        if name in seen:
            out.append(f"(?:{pattern})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>{pattern})")
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("".join(out))


def anchor_tokens(text: str) -> list[str]:
    """Whole words of a template's literal text that a matching message must contain as words too.

    A word touching a placeholder is left out (`{n}GB` renders as `4GB`), so is one of under three characters."""
    tokens: list[str] = []
    pieces = PLACEHOLDER_RE.split(text)[::3]
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        for m in _WORD_RE.finditer(piece):
            if (m.start() == 0 and i > 0) or (m.end() == len(piece) and i < last):
                continue
            if len(m.group()) >= 3:
                tokens.append(m.group())
    return tokens


@dataclass(slots=True)
class Catalogue:
    """The templates, compiled once, and the exception taxonomy.

    `match` looks only at templates indexed under a word of the message: each template is filed under its rarest
    literal word, so a message costs one `\\w+` scan, a few dict look-ups, then the anchor and the regex of the
    few candidates, most specific first.
    """

    templates: list[Template]
    exceptions: dict[str, dict] = field(default_factory=dict)
    _compiled: list[tuple[Template, re.Pattern[str] | None, str]] = field(default_factory=list)
    _index: dict[str, list[int]] = field(default_factory=dict)
    _unindexed: list[int] = field(default_factory=list)
    _by_id: dict[str, Template] = field(default_factory=dict)
    _hs: object = None  # the Hyperscan database of the anchors (False where Hyperscan cannot load)
    _hs_blob: bytes | None = None  # that database serialised, as the load cache keeps it

    def __post_init__(self) -> None:
        self._prepare(None)

    def _prepare(self, prepared: tuple | None) -> None:
        """Order the templates (most specific first: longer literal text wins) and index them by their rarest word;
        `prepared` is that work as a cache holds it (ranks by position in `templates`, index, unindexed)."""
        if prepared is None:
            prepared = _prepare(self.templates)
        order, anchors, self._index, self._unindexed = prepared
        self._compiled = [(self.templates[i], None, anchors[i]) for i in order]
        self._by_id = {t.id: t for t in self.templates}

    def _pattern(self, rank: int) -> re.Pattern[str]:
        template, rx, anchor = self._compiled[rank]
        if rx is None:  # compiled on first use: most templates never meet a message of theirs
            rx = _compile(template.text)
            self._compiled[rank] = (template, rx, anchor)
        return rx

    def match(self, message: str) -> Match | None:
        """The most specific template found in `message` (a record's first line or a trace line), or None."""
        for rank in self._candidates(message):
            m = self._pattern(rank).search(message)
            if m:
                return Match(self._compiled[rank][0], {k: v for k, v in m.groupdict().items() if v is not None})
        return None

    def _candidates(self, message: str) -> list[int]:
        """Ranks of the templates whose anchor literal occurs in `message`, most specific first.

        Hyperscan finds every anchor in one pass; where it cannot load, the word index narrows the templates to
        those filed under a word of the message and the anchors are checked one by one."""
        db = self._hyperscan()
        if db is not None:
            hits: list[int] = []
            db.scan(message.encode("utf-8", "surrogatepass"), match_event_handler=lambda i, _s, _e, _f, _c: hits.append(i))
            hits.sort()
            return hits
        index = self._index
        ranks: set[int] = set(self._unindexed)
        for tok in _WORD_RE.findall(message):
            hit = index.get(tok)
            if hit is not None:
                ranks.update(hit)
        compiled = self._compiled
        return [r for r in sorted(ranks) if compiled[r][2] in message]

    def _hyperscan(self):
        if self._hs is None:
            self._hs = _hyperscan_db([anchor for _, _, anchor in self._compiled], self._hs_blob) or False
        return self._hs or None

    def by_fact_kind(self, fact_kind: str) -> list[Template]:
        """The templates an extractor of `fact_kind` consumes (their anchors are its scanner keywords)."""
        return [t for t in self.templates if t.fact_kind == fact_kind]

    def get(self, template_id: str) -> Template | None:
        return self._by_id.get(template_id)

    def literals(self) -> list[str]:
        """One literal anchor per template: the prefilter text derived from the catalogue, never hand-kept."""
        return sorted({(t.literals() or [""])[0] for t in self.templates} - {""})

    def exception_class(self, name: str) -> dict | None:
        """The taxonomy entry of an exception class name (simple or fully qualified), or None."""
        simple = name.rsplit(".", 1)[-1].rstrip(":")
        return self.exceptions.get(name) or self.exceptions.get(simple)

    def classify_chain(self, exception_names) -> str | None:
        """The most specific category over a `Caused by:` chain (names outermost first), or None if none is known.

        The deepest class of the taxonomy wins (AgentUnavailableException says more than the CloudRuntimeException
        that wraps it); between equally deep classes, the root cause (innermost) wins. A generic class
        (CloudRuntimeException, ExecutionException) only counts when nothing else is known."""
        best: tuple[int, int, str] | None = None
        for position, name in enumerate(exception_names):
            entry = self.exception_class(name)
            if entry is None or not entry.get("category"):
                continue
            rank = (0 if entry.get("generic") else 1, int(entry.get("depth", 0)), position)
            if best is None or rank > best[:3]:
                best = (*rank, entry["category"])
        return best[3] if best else None


def _hyperscan_db(anchors: list[str], blob: bytes | None = None):
    """A Hyperscan block-mode database reporting the rank of every anchor found, or None where it cannot load."""
    try:
        import hyperscan

        if blob is not None:
            db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)
            return db
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        exprs = [hs_literal(a.encode("utf-8", "surrogatepass")) for a in anchors]
        db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                   flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(exprs))
        return db
    except Exception:  # not installed, a CPU it does not support, a stale blob: the word index does the job
        return None


def _prepare(templates: list[Template]) -> tuple:
    order = sorted(range(len(templates)), key=lambda i: (-sum(len(p) for p in templates[i].literals()), templates[i].id))
    anchors = [(t.literals() or [""])[0] for t in templates]
    frequency: dict[str, int] = {}
    token_sets = [set(anchor_tokens(templates[i].text)) for i in order]
    for tokens in token_sets:
        for tok in tokens:
            frequency[tok] = frequency.get(tok, 0) + 1
    index: dict[str, list[int]] = {}
    unindexed: list[int] = []
    for rank, tokens in enumerate(token_sets):
        if tokens:
            best = min(tokens, key=lambda tok: (frequency[tok], -len(tok), tok))
            index.setdefault(best, []).append(rank)
        else:
            unindexed.append(rank)
    return order, anchors, index, unindexed


def parse_sources(value) -> tuple[SourceRef, ...]:
    """`source` as written by the miner (`path rel:line rel:line; path2 rel:line`) or as a list of tables."""
    if isinstance(value, str):
        refs = []
        for group in value.split(";"):
            words = group.split()
            if not words:
                continue
            path = words[0]
            for ref in words[1:]:
                release, _, line = ref.partition(":")
                refs.append(SourceRef(release, path, int(line)))
        return tuple(refs)
    return tuple(SourceRef(str(s.get("release", "")), str(s.get("path", "")), int(s.get("line", 0))) for s in value)


def _entry(item: dict, where: str, index: int, categories: tuple[str, ...]) -> Template:
    for key in ("id", "class", "level", "template", "relevance", "category"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise CatalogueError(f"{where}: message #{index + 1}: missing or empty '{key}'")
    tid = item["id"]
    if item["relevance"] not in RELEVANCES:
        raise CatalogueError(f"{where}: {tid}: relevance must be one of {', '.join(RELEVANCES)}")
    if item["level"] not in LEVELS:
        raise CatalogueError(f"{where}: {tid}: level must be one of {', '.join(LEVELS)}")
    if item["category"] not in categories:
        raise CatalogueError(f"{where}: {tid}: unknown category {item['category']!r} (see diagnostics.model.CATEGORIES)")
    for m in PLACEHOLDER_RE.finditer(item["template"]):
        if m.group("type") is not None and m.group("type") not in TYPE_PATTERNS:
            raise CatalogueError(f"{where}: {tid}: unknown placeholder type {m.group('type')!r}")
    if not anchor_tokens(item["template"]):
        raise CatalogueError(f"{where}: {tid}: the template has no literal word to recognise it by")
    try:
        _compile(item["template"])
    except re.error as exc:
        raise CatalogueError(f"{where}: {tid}: template does not compile: {exc}") from None
    examples = item.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(x, str) for x in examples):
        raise CatalogueError(f"{where}: {tid}: examples must be a list of strings")
    try:
        sources = parse_sources(item.get("source", []))
    except (ValueError, AttributeError, TypeError) as exc:
        raise CatalogueError(f"{where}: {tid}: malformed source: {exc}") from None
    return Template(
        id=tid, cls=item["class"], level=item["level"], text=item["template"],
        relevance=item["relevance"], category=item["category"], fact_kind=item.get("fact_kind"),
        event=item.get("event"), sources=sources, examples=tuple(examples), origin=where,
        exception=item.get("exception"), reviewed=bool(item.get("reviewed", False)),
    )


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    m = re.search(r"\(at line (\d+)", str(exc))
    return f"{path}:{m.group(1)}: {exc}" if m else f"{path}: {exc}"


def load_file(path: Path) -> list[Template]:
    from diagnostics.model import CATEGORIES

    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(_toml_error(path, exc)) from None
    id_lines: dict[str, int] = {}
    for m in _ID_LINE_RE.finditer(raw):
        id_lines.setdefault(m.group(1), raw.count("\n", 0, m.start()) + 1)
    entry_lines = [raw.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\[\[message\]\]", raw, re.M)]
    out = []
    for i, item in enumerate(data.get("message", [])):
        line = id_lines.get(item.get("id")) if isinstance(item.get("id"), str) else None
        if line is None:
            line = entry_lines[i] if i < len(entry_lines) else 1
        out.append(_entry(item, f"{path}:{line}", i, CATEGORIES))
    return out


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> dict[str, dict]:
    from diagnostics.model import CATEGORIES

    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(_toml_error(path, exc)) from None
    out: dict[str, dict] = {}
    lines = [raw.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\[\[exception\]\]", raw, re.M)]
    for i, item in enumerate(data.get("exception", [])):
        where = f"{path}:{lines[i] if i < len(lines) else 1}"
        if not isinstance(item.get("class"), str) or not item["class"]:
            raise CatalogueError(f"{where}: exception #{i + 1}: missing or empty 'class'")
        if item.get("category") and item["category"] not in CATEGORIES:
            raise CatalogueError(f"{where}: {item['class']}: unknown category {item['category']!r}")
        out[item["class"]] = item
    return out


def load_catalogue(extra_dirs: tuple[str, ...] = ()) -> Catalogue:
    return _load(tuple(str(d) for d in extra_dirs))


def _files(extra_dirs: tuple[str, ...]) -> list[Path]:
    return [p for d in (DATA_DIR, *map(Path, extra_dirs)) for p in sorted(Path(d).glob("*.toml"))]


def hyperscan_dump(db) -> bytes | None:
    try:
        import hyperscan

        return hyperscan.dumpb(db)
    except Exception:
        return None


def _cache_path(files: list[Path]) -> Path:
    """A pickle of the parsed catalogue, keyed by every data file's path, size and mtime (TOML of 4,000 entries
    takes about a second to parse; the pickle a few tens of milliseconds)."""
    h = hashlib.sha256()
    for p in [*files, EXCEPTIONS_FILE, Path(__file__)]:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "csdiag"
    return base / f"catalogue-{h.hexdigest()[:20]}.pickle"


@lru_cache(maxsize=8)
def _load(extra_dirs: tuple[str, ...]) -> Catalogue:
    files = _files(extra_dirs)
    cache = None
    try:
        cache = _cache_path(files)
        with cache.open("rb") as fh:
            templates, exceptions, prepared, blob = pickle.load(fh)
        catalogue = Catalogue.__new__(Catalogue)
        catalogue.templates, catalogue.exceptions = templates, exceptions
        catalogue._hs, catalogue._hs_blob = None, blob
        catalogue._prepare(prepared)
        return catalogue
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError):
        pass  # no cache yet (or an unreadable one): parse the TOML
    templates: list[Template] = []
    seen: dict[str, str] = {}
    for path in files:
        for t in load_file(path):
            if t.id in seen:
                raise CatalogueError(f"{t.origin}: duplicate id {t.id} (first at {seen[t.id]})")
            seen[t.id] = t.origin
            templates.append(t)
    exceptions = load_exceptions() if EXCEPTIONS_FILE.exists() else {}
    catalogue = Catalogue(templates, exceptions)
    if cache is not None:
        try:  # best effort: a read-only home only costs the parse next time
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                db = catalogue._hyperscan()
                blob = hyperscan_dump(db) if db is not None else None
                pickle.dump((templates, exceptions, _prepare(templates), blob), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except OSError:
            pass
    return catalogue


@dataclass(frozen=True, slots=True)
class Phrase:
    """One row of an extractor's phrase table (vocabulary.toml): a literal `text` or a regex `pattern`, and the
    event it means; `template` is the catalogue id of the CloudStack message it is part of."""

    kind: str
    text: str | None
    pattern: str | None
    flags: str
    event: str | None
    template: str | None
    origin: str | None
    where: str

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern or re.escape(self.text or ""), re.I if "i" in self.flags else 0)


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[Phrase, ...]:
    raw = VOCABULARY_FILE.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(_toml_error(VOCABULARY_FILE, exc)) from None
    starts = {name: [raw.count("\n", 0, m.start()) + 1 for m in re.finditer(rf"^\[\[{name}\]\]", raw, re.M)]
              for name in ("phrase", "signature")}
    out = []
    for table in ("phrase", "signature"):
        for i, item in enumerate(data.get(table, [])):
            where = f"{VOCABULARY_FILE}:{starts[table][i]}"
            text, pattern = item.get("text"), item.get("pattern")
            if not isinstance(item.get("kind"), str) or (text is None) == (pattern is None):
                raise CatalogueError(f"{where}: a {table} needs a kind and exactly one of text/pattern")
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise CatalogueError(f"{where}: pattern does not compile: {exc}") from None
            if not item.get("template") and not item.get("origin"):
                raise CatalogueError(f"{where}: say where the text comes from: a catalogue `template` id or an `origin`")
            out.append(Phrase(item["kind"], text, pattern, item.get("flags", ""), item.get("event"), item.get("template"),
                              item.get("origin"), where))
    return tuple(out)


def vocabulary(kind: str) -> list[Phrase]:
    """The rows of one phrase table, in file order (order matters where the first match wins)."""
    rows = [p for p in _vocabulary() if p.kind == kind]
    if not rows:
        raise CatalogueError(f"{VOCABULARY_FILE}: no phrases of kind {kind!r}")
    return rows
