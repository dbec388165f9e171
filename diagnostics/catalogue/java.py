"""Just enough Java reading to turn a logger call or an exception constructor into a message template.

Not a Java parser: it strips comments, finds call sites (`logger.warn(`, `throw new X(`, `new XAnswer(`), cuts the
balanced argument list, and renders the message expression: string concatenation, `String.format` (`%s` `%d`
`%.2f`), log4j2 `{}` parameters, and a local `String msg = ...;` used by the call. Every non-literal part becomes a
typed placeholder whose type is guessed from the expression (`toHumanReadableSize(x)` is a size, `host` a host...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOGGER_RE = re.compile(r"\b(?:s_logger|logger|LOGGER|s_log|LOG|log|S_LOGGER)\s*\.\s*(trace|debug|info|warn|error|fatal)\s*\(")
THROW_RE = re.compile(r"\bthrow\s+new\s+([A-Z][\w.]*(?:Exception|Error))\s*\(")
ANSWER_RE = re.compile(r"\bnew\s+([A-Z]\w*Answer)\s*\(")
FORMAT_RE = re.compile(r"%(?:\d+\$)?[-#+ 0,(]*\d*(?:\.\d+)?([sSdfxXbBcneEgG%])")
_IDENT_RE = re.compile(r"^[A-Za-z_]\w*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "'": "'", '"': '"', "\\": "\\", "s": " "}


@dataclass(slots=True)
class Call:
    """One message-producing statement of a Java file."""

    kind: str  # log | throw | answer
    level: str  # DEBUG INFO WARN ERROR FATAL TRACE | EXCEPTION | ANSWER
    exception: str | None
    line: int
    template: str | None  # None when the message has no literal text


def strip_comments(src: str) -> str:
    """The source with comments blanked (newlines kept, so offsets and line numbers stay valid)."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' and src.startswith('"""', i):
            j = src.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append(src[i:j])
            i = j
        elif c in "\"'":
            j = _skip_string(src, i)
            out.append(src[i:j])
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in src[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _skip_string(src: str, i: int) -> int:
    quote = src[i]
    j = i + 1
    n = len(src)
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == quote or c == "\n":
            return j + 1
        j += 1
    return n


def balanced_args(src: str, open_paren: int) -> tuple[list[str], int]:
    """The top-level comma-separated arguments of the call whose `(` is at `open_paren`, and the end offset."""
    depth = 0
    args: list[str] = []
    start = open_paren + 1
    i, n = open_paren, len(src)
    while i < n:
        c = src[i]
        if c in "\"'":
            i = _skip_string(src, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(src[start:i].strip())
                return [a for a in args if a], i + 1
        elif c == "," and depth == 1:
            args.append(src[start:i].strip())
            start = i + 1
        elif c == ";" and depth <= 1:
            break
        i += 1
    return [], i


def split_top(expr: str, sep: str) -> list[str]:
    """`expr` cut at top-level `sep` characters (outside strings, parentheses, generics are rare enough)."""
    parts: list[str] = []
    depth = 0
    start = 0
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'":
            i = _skip_string(expr, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            if sep == "+" and (expr[i + 1:i + 2] in ("+", "=") or expr[i - 1:i] == "+"):
                i += 1
                continue
            parts.append(expr[start:i].strip())
            start = i + 1
        i += 1
    parts.append(expr[start:].strip())
    return parts


def unescape(literal: str) -> str:
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _is_literal(part: str) -> bool:
    return len(part) >= 2 and part[0] == '"' and part[-1] == '"' and _skip_string(part, 0) == len(part)


def _unwrap(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        args, end = balanced_args(expr, 0)
        if end != len(expr) or len(args) != 1:
            break
        expr = args[0].strip()
    return expr


# ---- placeholder names and types -------------------------------------------------------------------------------

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SKIP_WORDS = {"get", "to", "string", "this", "value", "of", "is", "human", "readable", "e", "ex", "t", "th", "s",
               "logger", "name", "a", "the"}


def _words(expr: str) -> list[str]:
    words: list[str] = []
    for ident in re.findall(r"[A-Za-z_]\w*", re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)):
        if ident in ("String", "Arrays", "StringUtils", "ReflectionToStringBuilderUtils", "NumbersUtil", "Long",
                     "Integer", "Double", "Float", "format", "valueOf", "toString", "join", "this", "new"):
            continue
        for w in _CAMEL_RE.split(ident.lstrip("_")):
            w = w.lower()
            if w and w not in ("get", "s"):
                words.append(w)
    return words


def placeholder_name(expr: str) -> str:
    words = [w for w in _words(expr) if w not in _SKIP_WORDS] or ["value"]
    if "message" in words or "msg" in words or words[-1] in ("details", "detail", "cause", "reason", "result"):
        return {"msg": "message"}.get(words[-1], words[-1]) if words[-1] not in ("e", "ex") else "error"
    name = "_".join(words[-2:]) if len(words) >= 2 and words[-1] in ("id", "uuid", "ip", "type", "state", "count") else words[-1]
    name = re.sub(r"[^a-z0-9_]", "", name) or "value"
    return name if name[0].isalpha() else "v_" + name


_SIZE_WORDS = {"mem", "memory", "ram", "bytes", "size", "capacity", "disk"}
_HOST_WORDS = {"host", "dest", "destination", "hostvo", "srchost", "desthost", "lasthost", "hostname"}
_VM_WORDS = {"vm", "instance", "vmprofile", "profile", "uservm", "vminstance", "vmvo", "vmname", "router", "definition"}


def placeholder_type(expr: str, conversion: str | None = None) -> str:
    """The placeholder type guessed from a Java expression (and its `String.format` conversion, if any).

    Only the last word of the expression decides (`host.getId()` is an id, `hostTags` free text): a wrong numeric
    type would make a real line fail to match, so anything unsure is `text`.
    """
    low = expr.lower().replace(" ", "")
    words = _words(expr)
    last = words[-1] if words else ""
    if "humanreadable" in low:
        return "size"
    if low.endswith((".size()", ".length", ".length()")):
        return "int"
    if conversion in ("f", "e", "g"):
        return "num"
    if conversion == "d":
        return "size" if last in _SIZE_WORDS else "int"
    if re.search(r"(getmessage|getlocalizedmessage|getdetails|getresult|reason|details?$|error|cause)", low):
        return "text"
    if last in ("id", "uuid"):
        return "id"
    if last in ("ip", "address", "addr"):
        return "word"
    if last in ("timeout", "wait", "interval", "duration", "millis", "seconds", "elapsed", "delay", "ms"):
        return "duration"
    if last in ("cpu", "cpus", "speed", "mhz", "cores", "core", "vcpus", "count", "number", "num", "retry",
                "retries", "attempts", "port", "seq", "sequence"):
        return "num"
    if last in ("mem", "memory", "ram", "bytes"):
        return "size"
    if last in ("list", "ids", "hosts", "pools", "vms", "volumes", "nics") or low.startswith("arrays.tostring"):
        return "list"
    if last in ("state", "status", "type", "event", "level", "action", "op"):
        return "word"
    if last in _HOST_WORDS or low.endswith("gethost()"):
        return "host"
    if last in _VM_WORDS:
        return "vm"
    return "text"


# ---- rendering ------------------------------------------------------------------------------------------------

class _Renderer:
    """Accumulates template text and gives each placeholder a unique name."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.names: dict[str, int] = {}
        self.literal_chars = 0

    def literal(self, text: str) -> None:
        self.out.append(text)
        self.literal_chars += len(text.strip())

    def hole(self, expr: str, conversion: str | None = None) -> None:
        name = placeholder_name(expr)
        kind = placeholder_type(expr, conversion)
        n = self.names.get(name, 0) + 1
        self.names[name] = n
        if n > 1:
            name = f"{name}_{n}"
        self.out.append("{" + name + ":" + kind + "}")

    def text(self) -> str:
        return "".join(self.out)


# a local or constant inside a concatenation is followed to its literal only when its name says it is message text
# (`"Maximum" + messageSuffix`, `logger.debug(CHECKING_IF, ...)`), never for values (`host = "unknown"` defaults)
_FRAGMENT_NAME_RE = re.compile(r"(?i)msg|message|suffix|prefix|reason|text|format|template|^[A-Z][A-Z0-9_]{3,}$")


def _render_expr(expr: str, r: _Renderer, resolve, depth: int = 0) -> None:
    expr = _unwrap(expr)
    parts = split_top(expr, "+")
    if len(parts) > 1:
        for p in parts:
            _render_expr(p, r, resolve, depth + 1)
        return
    if _is_literal(expr):
        r.literal(unescape(expr))
        return
    m = re.match(r"^(?:String\s*\.\s*)?format(?:ted)?\s*\(", expr)
    if m:
        args, end = balanced_args(expr, m.end() - 1)
        if args and end == len(expr):
            _render_format(args[0], args[1:], r, resolve)
            return
    if resolve is not None and _IDENT_RE.match(expr) and depth < 6 and (depth == 0 or _FRAGMENT_NAME_RE.search(expr)):
        rhs = resolve(expr)
        if rhs is not None:
            _render_expr(rhs, r, resolve, depth + 1)
            return
    r.hole(expr)


def _render_format(fmt_expr: str, args: list[str], r: _Renderer, resolve) -> None:
    sub = _Renderer()
    _render_expr(fmt_expr, sub, resolve, 1)
    fmt = sub.text()
    if sub.literal_chars == 0:
        r.hole(fmt_expr)
        return
    pos = 0
    i = 0
    for m in FORMAT_RE.finditer(fmt):
        r.literal(fmt[pos:m.start()])
        conv = m.group(1)
        if conv == "%":
            r.literal("%")
        elif conv == "n":
            r.literal("\n")
        else:
            r.hole(args[i] if i < len(args) else "value", conv.lower())
            i += 1
        pos = m.end()
    r.literal(fmt[pos:])


def _render_log4j(message: str, extra: list[str], r: _Renderer, resolve) -> None:
    sub = _Renderer()
    _render_expr(message, sub, resolve)
    text = sub.text()
    pieces = text.split("{}")
    holes = len(pieces) - 1
    if holes == 0 or not extra:
        r.out.extend(sub.out)
        r.literal_chars += sub.literal_chars
        r.names.update(sub.names)
        return
    for i, piece in enumerate(pieces):
        # the sub-render may already hold placeholders from concatenation: keep them as they are
        r.out.append(piece)
        r.literal_chars += len(re.sub(r"\{[a-z_0-9]+:[a-z]+\}", "", piece).strip())
        if i < holes:
            if i < len(extra):
                _render_expr(extra[i], r, resolve, 1)  # a literal or a message-text local is substituted as text
            else:
                r.hole("value")


def render_message(args: list[str], kind: str, resolve, log4j2: bool) -> str | None:
    """The template of a call's message, or None when it has no literal text to recognise it by."""
    if not args:
        return None
    r = _Renderer()
    message = args[0]
    if kind == "answer":
        message = next((a for a in args if '"' in a), None)
        if message is None:
            return None
        _render_expr(message, r, resolve)
    elif kind == "log" and log4j2 and len(args) > 1:
        _render_log4j(message, args[1:], r, resolve)
    else:
        _render_expr(message, r, resolve)
    if r.literal_chars == 0:
        return None
    return re.sub(r"\s+$", "", r.text()).lstrip()


def _resolver(src: str, before: int):
    """Finds `name = <expr>;` (the last assignment of a local before the call) for a bare identifier argument."""

    def resolve(name: str) -> str | None:
        window = src[max(0, before - 4000):before]
        found = None
        for m in re.finditer(r"(?:\bString\s+)?\b" + re.escape(name) + r"\s*=(?!=)", window):
            found = m
        if found is None and name.isupper():  # a constant of the class: `static final String CHECKING_IF = "...";`
            window = src
            found = re.search(r"\bstatic\s+final\s+String\s+" + re.escape(name) + r"\s*=(?!=)", window)
        if found is None:
            return None
        start = found.end()
        depth = 0
        i = start
        while i < len(window):
            c = window[i]
            if c in "\"'":
                i = _skip_string(window, i)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == ";" and depth == 0:
                rhs = window[start:i].strip()
                return rhs if '"' in rhs else None
            i += 1
        return None

    return resolve


def calls(source: str) -> list[Call]:
    """Every message-producing call of a Java file, with its template (None when it has no literal)."""
    src = strip_comments(source)
    line_starts = [0]
    for m in re.finditer("\n", src):
        line_starts.append(m.end())

    def line_of(offset: int) -> int:
        lo, hi = 0, len(line_starts)
        while lo < hi - 1:
            mid = (lo + hi) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1

    log4j2 = "LogManager.getLogger" in src or "org.apache.logging.log4j" in src or not re.search(r"\bs_logger\b", src)
    found: list[Call] = []
    for rx, kind in ((LOGGER_RE, "log"), (THROW_RE, "throw"), (ANSWER_RE, "answer")):
        for m in rx.finditer(src):
            args, _ = balanced_args(src, m.end() - 1)
            receiver = src[m.start():m.start() + 12]
            if kind == "log":
                level = m.group(1).upper()
                exception = None
                uses_log4j2 = log4j2 and not receiver.startswith("s_logger")
            elif kind == "throw":
                level, exception, uses_log4j2 = "EXCEPTION", m.group(1).rsplit(".", 1)[-1], False
            else:
                level, exception, uses_log4j2 = "ANSWER", None, False
            template = render_message(args, kind, _resolver(src, m.start()), uses_log4j2)
            found.append(Call(kind, level, exception, line_of(m.start()), template))
    found.sort(key=lambda c: c.line)
    return found
