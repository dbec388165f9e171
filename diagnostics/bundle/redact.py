"""Remove secrets from CloudStack text, one line at a time, driven by the table in `redaction.toml`.

Why line by line: management-server.log is often several GB, and reports cite `path:line`, so a redacted file must
keep every line (and line number) of the original. Each hit replaces only the secret value and leaves a visible
marker (`apiKey=***REDACTED***`), so an engineer still sees *that* a secret was there.

Why a table: where CloudStack writes secrets is knowledge, kept as data with examples (like rules); this module is
the mechanism. Per line it
1. runs every form of the table whose guard literal occurs (a regex with a `value` group, and a `key` group that
   must name a secret),
2. looks again through *views* of the line: URL-decoded (`user%3Apw%40host`, `details%5B0%5D.key%3Dsecretkey`),
   JSON-unescaped (`\\"password\\":\\"x\\"`, GSON `\\u003d`) and base64-decoded runs (cloud-init userdata, at any
   alignment), since a secret is a secret in every encoding,
3. removes every value found in a view from the line wherever it occurs in any encoding (raw, URL, JSON), and a
   base64 run that decodes to text holding a secret as a whole.
Multi-line state is kept for PEM private-key blocks and cloud-init `chpasswd:` lists.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MARK = "***REDACTED***"
TABLE = Path(__file__).with_name("redaction.toml")
_VIEW_DEPTH = 3  # URL- or JSON-encoded inside each other at most this deep (double encoding is common, triple rare)
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_SEP = re.compile(r"[-_.]")


class RedactionTableError(Exception):
    """A malformed entry of the redaction table, naming file:line."""


@dataclass(slots=True, frozen=True)
class Form:
    """One way a secret is written: `pattern` finds it, `check` says whether the `key` group must name a secret."""

    name: str
    pattern: re.Pattern[str]
    guard: tuple[str, ...]
    check: str  # none | name | pair | flag
    match: tuple[tuple[str, str], ...]
    no_match: tuple[str, ...]
    where: str  # file:line of the entry
    needs: re.Pattern[str] | None = None  # a cheap search that must hit before the (costlier) pattern runs
    guarded: Callable[[str], bool] = field(default=lambda s: True, compare=False, repr=False)  # compiled `guard`


@dataclass(slots=True, frozen=True)
class Table:
    forms: tuple[Form, ...]
    suffixes: tuple[str, ...]
    whole: frozenset[str]
    settings: frozenset[str]
    pair: frozenset[str]
    prefilter: tuple[str, ...]
    quick: Callable[[str], bool]  # any prefilter literal in the (lower-cased) text
    benign: tuple[re.Pattern[str], ...]  # text holding a prefilter literal that never names a secret
    base64_guard: tuple[str, ...]
    min_value: int
    leave_out: tuple[re.Pattern[str], ...]
    host_words: tuple[str, ...]


def _entry_lines(text: str, header: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == header]


def load_table(path: Path = TABLE) -> Table:
    """Parse and check the table; raises RedactionTableError naming `file:line` of a malformed entry."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RedactionTableError(f"{path}: {exc}") from None
    lines = _entry_lines(text, "[[form]]")
    forms = []
    seen: set[str] = set()
    for index, entry in enumerate(doc.get("form", [])):
        where = f"{path}:{lines[index] if index < len(lines) else '?'}"
        forms.append(_form(entry, where, seen))

    def strings(section: str, key: str) -> tuple[str, ...]:
        value = doc.get(section, {}).get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RedactionTableError(f"{path}: [{section}] {key} must be a list of strings")
        return tuple(value)

    def norm(names: tuple[str, ...]) -> frozenset[str]:
        return frozenset(_SEP.sub("", n.lower()) for n in names)

    benign = []
    for pattern in strings("prefilter", "benign"):  # one regex each: each is searched from its literal prefix, fast
        try:
            benign.append(re.compile(pattern))
        except re.error as exc:
            raise RedactionTableError(f"{path}: [prefilter] benign {pattern!r}: {exc}") from None
    leave_out = []
    for pattern in strings("files", "leave_out"):
        try:
            leave_out.append(re.compile(pattern))
        except re.error as exc:
            raise RedactionTableError(f"{path}: [files] leave_out {pattern!r}: {exc}") from None
    return Table(
        forms=tuple(forms),
        suffixes=tuple(_SEP.sub("", s.lower()) for s in strings("names", "suffixes")),
        whole=norm(strings("names", "whole")),
        settings=frozenset(s.lower() for s in strings("names", "settings")),
        pair=norm(strings("names", "pair")),
        prefilter=strings("prefilter", "literals"),
        quick=_any_of(strings("prefilter", "literals")),
        benign=tuple(benign),
        base64_guard=strings("views", "base64_guard"),
        min_value=int(doc.get("views", {}).get("min_value", 4)),
        leave_out=tuple(leave_out),
        host_words=strings("host_filter", "words"),
    )


def _form(entry: Any, where: str, seen: set[str]) -> Form:
    if not isinstance(entry, dict):
        raise RedactionTableError(f"{where}: a [[form]] must be a table")
    missing = [k for k in ("name", "why", "guard", "check", "pattern", "match", "no_match") if k not in entry]
    if missing:
        raise RedactionTableError(f"{where}: form {entry.get('name', '?')!r} lacks {', '.join(missing)}")
    name = entry["name"]
    if name in seen:
        raise RedactionTableError(f"{where}: form {name!r} is defined twice")
    seen.add(name)
    if entry["check"] not in ("none", "name", "pair", "flag"):
        raise RedactionTableError(f"{where}: form {name!r}: check must be none, name, pair or flag")
    try:
        pattern = re.compile(entry["pattern"])
    except re.error as exc:
        raise RedactionTableError(f"{where}: form {name!r}: bad pattern ({exc})") from None
    if "value" not in pattern.groupindex or (entry["check"] != "none" and "key" not in pattern.groupindex):
        raise RedactionTableError(f"{where}: form {name!r}: the pattern needs a (?P<value>) group (and (?P<key>) to check)")
    matches = entry["match"]
    if not matches or not all(isinstance(m, dict) and isinstance(m.get("line"), str) and m.get("secret") for m in matches):
        raise RedactionTableError(f"{where}: form {name!r}: match needs examples {{ line = ..., secret = ... }}")
    if not entry["no_match"] or not all(isinstance(n, str) for n in entry["no_match"]):
        raise RedactionTableError(f"{where}: form {name!r}: no_match needs example lines")
    guard = entry["guard"]
    if not isinstance(guard, list) or not guard or any(g != g.lower() for g in guard):
        raise RedactionTableError(f"{where}: form {name!r}: guard must be a list of lower-case literals")
    needs = None
    if "needs" in entry:
        try:
            needs = re.compile(entry["needs"])
        except (re.error, TypeError) as exc:
            raise RedactionTableError(f"{where}: form {name!r}: bad needs pattern ({exc})") from None
    return Form(name, pattern, tuple(guard), entry["check"], tuple((m["line"], m["secret"]) for m in matches),
                tuple(entry["no_match"]), where, needs, _any_of(tuple(guard)))


@lru_cache(maxsize=1)
def table() -> Table:
    return load_table()


@lru_cache(maxsize=8192)
def is_secret_key(key: str, *, pair: bool = False) -> bool:
    """Does a key name hold a secret? `pair`: also the bare names that are secret as a name/value pair's name."""
    t = table()
    low = key.strip().lower()
    if low in t.settings:
        return True
    k = _SEP.sub("", low.lstrip("-"))
    return k.endswith(t.suffixes) or k in t.whole or (pair and (k in t.pair or low in t.settings))


def _key_ok(form: Form, m: re.Match[str]) -> bool:
    if form.check == "none":
        return True
    key = unquote(m.group("key"))
    if form.check == "flag":
        return is_secret_key(key.lstrip("-"))
    return is_secret_key(key, pair=form.check == "pair")


@lru_cache(maxsize=512)  # one per guard list of the table: it must never evict
def _any_of(literals: tuple[str, ...]) -> Callable[[str], bool]:
    """`lambda s: 'a' in s or 'b' in s ...` for these literals: several times faster than any() over a generator,
    and this runs on every line of a multi-GB log."""
    if not literals:
        return lambda s: False
    return eval("lambda s: " + " or ".join(f"{lit!r} in s" for lit in literals))  # noqa: S307 - repr'd literals only


def _may_hold_secret(low: str, literals: tuple[str, ...]) -> bool:
    """Cheap literal pre-check (most log lines fail it and no form runs); names may be URL-encoded twice."""
    test = _any_of(literals)
    if test(low):
        return True
    if "%" in low:
        decoded = unquote(unquote(low))
        return decoded != low and test(decoded)
    return False


def _guard_text(low: str, t: Table) -> str | None:
    """The lower-cased line the forms' guards are tested on: without its benign text ([prefilter] benign), or None
    when no prefilter literal is left (the line holds no secret; most lines of a log end here)."""
    if not _may_hold_secret(low, t.prefilter):
        return None
    stripped = _strip_benign(low, t)
    return stripped if stripped is low or _may_hold_secret(stripped, t.prefilter) else None


def _strip_benign(low: str, t: Table) -> str:
    """`low` without the text of [prefilter] benign (`low` itself when there is none)."""
    for pattern in t.benign:
        low = pattern.sub(" ", low)
    return low


def _spans(text: str, low: str, forms: tuple[Form, ...]) -> list[tuple[int, int]]:
    """Value spans of every form hit in `text` (not merged)."""
    spans = []
    for form in forms:
        if not form.guarded(low) or (form.needs is not None and not form.needs.search(low)):
            continue
        for m in form.pattern.finditer(text):
            start, end = m.span("value")
            if start < 0 or end <= start or text[start:end] == MARK or not _key_ok(form, m):
                continue
            spans.append((start, end))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# A decoded view can only reveal a secret the forms did not see when decoding changes the line's structure: an
# encoded delimiter (`%26` &, `%3D` =, `%3A` :, `%2F` /, `%40` @, `%5B` [, quotes, `%25` for double encoding) or a
# JSON escape (a backslash before a quote or a backslash, or a \u00XX escape: JSON inside a JSON string).
# `%20` or `%2B` alone change nothing, so most API lines need no view.
_STRUCTURAL = re.compile(r'%(?:2[25678cCfF]|3[aAdD]|40|5[bBdD]|7[bBdD])|\\[\\"]|\\u00')
_JSON_ESCAPES = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])")
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        return _SIMPLE.get(m.group(2), m.group(2))

    return _JSON_ESCAPES.sub(one, text)


def _views(text: str) -> list[str]:
    """Decoded variants of `text` (URL, JSON escapes, nested up to _VIEW_DEPTH), without `text` itself."""
    out: list[str] = []
    frontier = [text]
    seen = {text}
    for _ in range(_VIEW_DEPTH):
        nxt = []
        for view in frontier:
            candidates = []
            if "%" in view:
                candidates.append(unquote(view))
                if "+" in view:
                    candidates.append(unquote_plus(view))
            if "\\" in view:
                candidates.append(_json_unescape(view))
            for c in candidates:
                if c not in seen:
                    seen.add(c)
                    nxt.append(c)
                    out.append(c)
        frontier = nxt
        if not frontier:
            break
    return out


def _b64_decode(run: str) -> str | None:
    """Text a base64 run decodes to (any of the 4 alignments of a cut run), or None when it is not text."""
    core = run.rstrip("=")
    for offset in range(4):
        chunk = core[offset:]
        chunk = chunk[: len(chunk) - len(chunk) % 4] if len(chunk) % 4 == 1 else chunk
        padded = chunk + "=" * (-len(chunk) % 4)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decoder(padded)
            except (binascii.Error, ValueError):
                continue
            try:
                decoded = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            printable = sum(1 for ch in decoded if ch.isprintable() or ch in "\n\r\t")
            if decoded and printable >= 0.95 * len(decoded):
                return decoded
    return None


def _encodings(value: str) -> set[str]:
    """A value as it may appear on the original line: raw, URL-encoded (once or twice), JSON-escaped (GSON too)."""
    esc = "surrogateescape"  # bundle lines are decoded with it: undecodable bytes must not stop redaction
    once = quote(value, safe="", errors=esc)
    forms = {value, once, quote(value, errors=esc), quote_plus(value, errors=esc), quote(once, safe="")}
    js = json.dumps(value)[1:-1]
    gson = js.replace("=", "\\u003d").replace("'", "\\u0027").replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    forms |= {js, gson, json.dumps(js)[1:-1], json.dumps(gson)[1:-1]}
    return forms


@dataclass(slots=True)
class _Block:
    """cloud-init `chpasswd:` block: its indentation; lines indented deeper are `user:password` items."""

    indent: int


_CHPASSWD = re.compile(r"^(\s*)(?:-\s*)?['\"]?chpasswd['\"]?\s*:")
_CHPASSWD_ITEM = re.compile(r"^\s*(?:-\s*)?(?:list:\s*[|>]?\s*)?['\"]?[\w.\-]+:(?P<value>[^\s'\",\]]+)")


@dataclass(slots=True)
class Redactor:
    """Streaming redaction with the state a line-based filter needs: inside a PEM block, inside a chpasswd list.

    Use one Redactor per file: `for line in f: out.write(r.line(line))`; `r.count` says how many values went.
    """

    count: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    _in_pem: bool = False
    _chpasswd: _Block | None = None
    _depth: int = 0  # nesting of base64 re-checks (a blob inside a blob)

    def line(self, text: str) -> str:
        """Redact one line; its line ending (if any) is kept as is."""
        if not self._in_pem and self._chpasswd is None:
            # The fast exit most lines of a log take: no prefilter literal (PEM and chpasswd starts are literals
            # too) and no %-escape that could hide one. One lower() and a chain of `in` tests, no further calls.
            low = text.lower()
            if "%" not in low:
                t = table()
                if not t.quick(low) or not t.quick(_strip_benign(low, t)):
                    return text
        body = text.rstrip("\r\n")
        ending = text[len(body):]
        return self._body(body) + ending

    def _note(self, rule: str, n: int) -> None:
        if n:
            self.count += n
            self.by_rule[rule] = self.by_rule.get(rule, 0) + n

    def _body(self, body: str) -> str:
        t = table()
        if self._in_pem:
            end = _PEM_END.search(body)
            if end:
                self._in_pem = False
                self._note("pem-block", 1)
                return MARK + body[end.start():] if end.start() else body
            if _RECORD_START.match(body):
                self._in_pem = False  # the END line was lost; this is a new log record, redact it normally
            else:
                return MARK if body else body
        spans: list[tuple[int, int]] = []
        if self._chpasswd is not None or "chpasswd" in body:
            spans.extend(self._chpasswd_spans(body))
        low = body.lower()
        guard = _guard_text(low, t)
        if spans or guard is not None:
            found, rules = self._find(body, low if guard is None else guard)
            spans.extend(found)
            for rule in rules:
                self.by_rule[rule] = self.by_rule.get(rule, 0) + 1
        if spans:
            merged = _merge(spans)
            out, last = [], 0
            for start, end in merged:
                out.append(body[last:start])
                out.append(MARK)
                last = end
            out.append(body[last:])
            new = "".join(out)
            self.count += sum(1 for s, e in merged if body[s:e] != MARK)
            body = new
        begin = _PEM_BEGIN.search(body)
        if begin and not _PEM_END.search(body, begin.end()):
            # Block starts here and continues on the next lines: keep the marker, drop what follows it.
            self._in_pem = True
            tail = body[begin.end():]
            return body[: begin.end()] + (MARK if tail.strip() else tail)
        return body

    def _chpasswd_spans(self, body: str) -> list[tuple[int, int]]:
        head = _CHPASSWD.match(body)
        if head:
            self._chpasswd = _Block(len(head.group(1)))
            rest = body[head.end():]
            m = _CHPASSWD_ITEM.match(rest)
            return [(head.end() + m.start("value"), head.end() + m.end("value"))] if m and "list" in rest else []
        block = self._chpasswd
        if block is None or not body.strip():
            return []
        indent = len(body) - len(body.lstrip())
        if indent <= block.indent:
            self._chpasswd = None
            return []
        m = _CHPASSWD_ITEM.match(body)
        if m and not body.strip().startswith(("expire:", "type:", "name:")):
            return [m.span("value")]
        return []

    def _find(self, body: str, low: str) -> tuple[list[tuple[int, int]], list[str]]:
        """Spans to replace in `body`, and the names of the forms that hit (for `by_rule`)."""
        t = table()
        spans = []
        rules = []
        for form in t.forms:
            if form.guarded(low):
                hits = _spans(body, low, (form,))
                if hits:
                    spans.extend(hits)
                    rules.append(form.name)
        direct = {body[s:e] for s, e in spans}
        values: set[str] = set()
        views = _views(body) if _STRUCTURAL.search(body) else []
        for view in views:
            for s, e in _spans(view, view.lower(), t.forms):
                values.add(view[s:e])
            values |= self._sub_text_values(view)
        blobs = self._secret_blobs(body, low, [body, *views])
        if blobs:
            rules.append("base64")
        values |= blobs
        for value in direct | values:
            if len(value) < t.min_value or MARK in value:
                continue
            # A value found on the line itself is removed wherever it recurs there; one found only in a decoded
            # view is removed in every encoding it may have on the line.
            for enc in (_encodings(value) if value in values else (value,)):
                if len(enc) < t.min_value:
                    continue
                start = body.find(enc)
                while start >= 0:
                    spans.append((start, start + len(enc)))
                    start = body.find(enc, start + 1)
        return spans, rules

    def _sub_text_values(self, view: str) -> set[str]:
        """Values in a view that spans several lines (a JSON string holding a cloud-init document)."""
        if "\n" not in view:
            return set()
        sub = Redactor(_depth=self._depth + 1)
        values: set[str] = set()
        for line in view.split("\n"):
            low = line.lower()
            found = sub._chpasswd_spans(line) if (sub._chpasswd is not None or "chpasswd" in line) else []
            guard = _guard_text(low, table())
            if found or guard is not None:
                spans, _rules = sub._find(line, low if guard is None else guard) if sub._depth <= 2 else ([], [])
                found += spans
            values |= {line[s:e] for s, e in found}
        return values

    def _secret_blobs(self, body: str, low: str, texts: list[str]) -> set[str]:
        """Base64 runs (userdata) whose decoded text holds a secret: the run is removed as a whole."""
        t = table()
        if self._depth > 2 or not any(g in low for g in t.base64_guard):
            return set()
        blobs = set()
        for text in texts:
            for m in _B64_RUN.finditer(text):
                decoded = _b64_decode(m.group(0))
                if decoded is None:
                    continue
                sub = Redactor(_depth=self._depth + 1)
                if MARK in "".join(sub.line(line) for line in decoded.splitlines(keepends=True)) and MARK not in decoded:
                    blobs.add(m.group(0))
        return blobs


_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
# A new log4j record ends a PEM block that lost its END line (a cut line must not swallow the rest of a log).
_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")


def redact_text(text: str) -> str:
    """Redact a whole (small) text; for files use `Redactor.line` to stay streaming."""
    r = Redactor()
    return "".join(r.line(line) for line in text.splitlines(keepends=True))


def is_secret_file(relpath: str) -> bool:
    """`etc/cloudstack/management/key`, `cloud.jks`, `id_rsa`...: left out whole while redacting (see [files])."""
    rel = relpath.replace("\\", "/")
    return any(p.search(rel) for p in table().leave_out)


def host_filter_words() -> tuple[str, ...]:
    """Words that mark a key of agent.properties as secret for the probe's on-host filter ([host_filter])."""
    words = table().host_words
    if not words or not all(w.isalnum() and w == w.lower() for w in words):
        raise RedactionTableError(f"{TABLE}: [host_filter] words must be lower-case letters and digits (they go into sed)")
    return words
