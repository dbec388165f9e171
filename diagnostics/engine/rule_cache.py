"""Parsed rule conditions kept between runs, so `analyze` does not pay pyparsing for ~90 conditions every time.

Parsing the built-in rules' conditions costs ~0.45 s of CPU per process (pyparsing); everything else of loading the
rules (TOML, checks, examples) ~0.04 s. The parsed trees are kept as JSON in `$XDG_CACHE_HOME/csdiag/` (default
`~/.cache/csdiag/`), one file per grammar: its name carries a hash of csdiag's version and of language.py, so another
grammar never reads it. JSON, never pickle: reading it runs no code. Trust is earned on every read:

- the file and its folder must belong to this user and be writable by nobody else (as ssh insists of ~/.ssh);
- the file's entries carry a SHA-256 digest, so a torn or edited file is ignored as a whole;
- each tree is rebuilt only from the language's own node classes and value types, every kind and field is checked
  against the fact kinds (`condition_from_tree`, as after a real parse), and each node that names something must
  find that name in the condition's text at its offset;
- any doubt, and the condition is parsed as if there were no cache; the file is then rewritten.

`CSDIAG_NO_CACHE=1` turns it off; a folder that cannot be written only costs the time it would have saved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from diagnostics.engine import language
from diagnostics.engine.language import Condition, ConditionError, parse_condition

FORMAT = 1
MAX_ENTRIES = 4096  # past this, a save keeps only the conditions of the rules just loaded
_NODES = {cls.__name__: cls for cls in (language.Literal, language.ListLiteral, language.FieldRef, language.Presence,
                                         language.Quantifier, language.Not, language.And, language.Or,
                                         language.Arithmetic, language.Compare, language.Matches)}
_SCALARS = (str, int, float, bool, type(None))


class _Untrusted(Exception):
    """A cache entry that is not exactly what the parser would have made."""


def cache_dir() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    if os.environ.get("CSDIAG_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "csdiag"


def _grammar_key() -> str:
    from diagnostics import __version__

    digest = hashlib.sha256(__version__.encode())
    with open(language.__file__, "rb") as f:
        digest.update(f.read())
    digest.update(str(FORMAT).encode())
    return digest.hexdigest()[:24]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _digest(entries: dict) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


# ---------------------------------------------------------------- trees <-> JSON


def encode(node: Any) -> Any:
    if isinstance(node, language.Node):
        out: dict[str, Any] = {"t": type(node).__name__}
        for f in dataclasses.fields(node):
            out[f.name] = encode(getattr(node, f.name))
        return out
    if isinstance(node, tuple):
        return [encode(item) for item in node]
    if isinstance(node, re.Pattern):
        return {"re": node.pattern, "flags": node.flags & ~re.UNICODE}
    if isinstance(node, _SCALARS):
        return node
    raise _Untrusted(f"cannot keep a {type(node).__name__}")


def decode(value: Any, text: str) -> Any:
    """A tree from JSON: only the language's nodes and plain values, each naming node anchored in `text`."""
    if isinstance(value, list):
        return tuple(decode(item, text) for item in value)
    if not isinstance(value, dict):
        if not isinstance(value, _SCALARS):
            raise _Untrusted("unexpected value")
        return value
    if "re" in value:
        if set(value) != {"re", "flags"} or not isinstance(value["re"], str) or not isinstance(value["flags"], int):
            raise _Untrusted("bad pattern")
        return re.compile(value["re"], value["flags"])
    cls = _NODES.get(value.get("t"))
    if cls is None:
        raise _Untrusted("unknown node")
    names = [f.name for f in dataclasses.fields(cls)]
    if set(value) != {"t", *names}:
        raise _Untrusted("fields differ")
    node = cls(**{name: decode(value[name], text) for name in names})
    _anchored(node, text)
    return node


def _anchored(node: Any, text: str) -> None:
    """A node that names a kind, a field or an operator must find it in the text where the parser saw it."""
    if not isinstance(node.loc, int) or not 0 <= node.loc <= len(text):
        raise _Untrusted("offset outside the text")
    if isinstance(node, language.FieldRef):
        ok = text.startswith(f"{node.kind}.{node.name}", node.loc)
    elif isinstance(node, language.Presence):
        ok = text.startswith(node.kind, node.loc)
    elif isinstance(node, language.Quantifier):
        ok = text.startswith(node.mode, node.loc) and text.startswith(node.kind, node.kind_loc)
    elif isinstance(node, (language.Compare, language.Arithmetic)):
        ok = _between(text, node.left, node.right, node.op)
    elif isinstance(node, (language.And, language.Or)):
        word = "and" if isinstance(node, language.And) else "or"
        ok = len(node.items) > 1 and all(_between(text, a, b, word) for a, b in zip(node.items, node.items[1:]))
    elif isinstance(node, language.Not):
        ok = text.startswith("not", language._at(text, node.loc))
    elif isinstance(node, language.Literal):
        ok = _literal_at(node.value, text, language._at(text, node.loc))  # a token's offset may be before its blanks
    elif isinstance(node, language.Matches):
        ok = node.pattern.pattern.replace("/", "\\/") in text or node.pattern.pattern in text
    else:
        ok = True
    if not ok:
        raise _Untrusted("a name not in the condition's text")


def _between(text: str, left: Any, right: Any, op: str) -> bool:
    """The operator (a word as a word) lies between the offsets of its two operands."""
    if not isinstance(left, language.Node) or not isinstance(right, language.Node):
        return False
    gap = text[left.loc:language._at(text, right.loc)]
    if op == "not in":
        return re.search(r"\bnot\s+in\b", gap) is not None
    if op.isalpha():
        return re.search(rf"\b{op}\b", gap) is not None
    return op in gap


_UNIT = "|".join(re.escape(u) for u in language.UNITS)
_NUMBER = re.compile(rf"(-?\d+(?:\.\d+)?)({_UNIT})?(?![A-Za-z0-9_.])")  # the grammar's number token


def _literal_at(value: Any, text: str, loc: int) -> bool:
    """The literal's own token at its offset gives exactly its value (a string with escapes is not vouched for)."""
    if value is None:
        return text.startswith("null", loc)
    if isinstance(value, bool):
        return text.startswith("true" if value else "false", loc)
    if isinstance(value, str):
        quote = text[loc:loc + 1]
        end = text.find(quote, loc + 1) if quote in ("'", '"') else -1
        return end != -1 and "\\" not in text[loc:end] and text[loc + 1:end] == value
    m = _NUMBER.match(text, loc)
    if m is None:
        return False
    number = language.scale(m.group(1), m.group(2))
    return number == value and type(number) is type(value)


# ---------------------------------------------------------------- the cache


class ConditionCache:
    """`parse(text)` as `parse_condition`, answered from the cache file when it can be trusted; `save()` writes
    what was parsed anew (once, at the end of loading the rules)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = cache_dir() if folder is None else folder
        self.entries: dict[str, Any] = {}
        self.dirty = False
        self.hits = 0
        self.used: set[str] = set()
        self.path: Path | None = None
        if self.folder is not None:
            self.path = self.folder / f"conditions-{_grammar_key()}.json"
            self.entries = self._read(self.path)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            if not _private(os.stat(path.parent)):
                return {}
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return {}
        try:
            with os.fdopen(fd, "rb") as f:
                if not _private(os.fstat(f.fileno())):
                    return {}
                data = json.loads(f.read())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
            return {}
        if data.get("digest") != _digest(data["entries"]):
            return {}
        return data["entries"]

    def parse(self, text: str) -> Condition:
        key = _text_key(text)
        self.used.add(key)
        entry = self.entries.get(key)
        if entry is not None:
            try:
                condition = language.condition_from_tree(text, decode(entry, text))
                if encode(condition.root) == entry:
                    self.hits += 1
                    return condition
            except (_Untrusted, ConditionError, re.error, TypeError, ValueError, RecursionError):
                pass
        condition = parse_condition(text)  # raises ConditionError: broken conditions are never kept
        try:
            self.entries[key] = encode(condition.root)
            self.dirty = True
        except _Untrusted:
            self.entries.pop(key, None)
        return condition

    def save(self) -> None:
        """Write the entries if anything was parsed anew; a folder that cannot be written is left alone."""
        if not self.dirty or self.path is None:
            return
        if len(self.entries) > MAX_ENTRIES:
            self.entries = {key: value for key, value in self.entries.items() if key in self.used}
        try:
            os.makedirs(self.path.parent, mode=0o700, exist_ok=True)
            if not _private(os.stat(self.path.parent)):
                return
            fd, tmp = tempfile.mkstemp(prefix=".conditions-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"format": FORMAT, "digest": _digest(self.entries), "entries": self.entries}, f)
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError:
            return
        self.dirty = False
