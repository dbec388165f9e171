"""Repair log excerpts pasted into tickets, chats, mailing lists and blogs before they are parsed.

Operators paste log lines wrapped in whatever the medium adds; this pre-stage finds the records wherever they
are in the text and hands the builder clean lines (each record line starting with its timestamp), counting every
repair so the output can state what was assumed (`PasteRepairs.describe`):

- line decorations: markdown `> ` quotes, leading line numbers (paste sites, `grep -n`), list bullets, table cells
  (`| 2024-... |`), box-drawing borders of terminal viewers, `<pre>`/`{code}` tags, inline backticks, **bold**;
- prefixes before the timestamp: a host or server name (`mgmt01 2024-...`, `kvm03: 2024-...`, `[mgmt01] ...`),
  a `grep` file name, indentation, or prose in any language (`the log says: 2024-...`);
- blocks: code fences, blank lines, shell prompts (`[root@kvm01 ~]# grep ...`) and a change of quote level
  separate blocks. A block with a log record, a journald line or a Java stack trace is log material; other blocks
  (commentary, other command output) are set aside, and prose just before the first record of a block is dropped;
  a line quoting a message csdiag knows (`known`, logs/quoted.py) counts as log material too;
- hard wraps at a fixed width W: a line of W characters (W-1 or W-2 when the wrap fell on spaces the paste then
  trimmed) is joined with the next line unless that line starts a record or a stack frame, never across blocks;
- records without a time (the CONSOLE layout, a header elided as `... DEBUG c.c.x.Y ...`, the setup scripts'
  `DEBUG:root:...`) are log material like timestamped ones;
- header-less excerpts (an exception with its `at` frames, `Caused by:`, `... N more`) are kept intact and
  contiguous; one that starts a new block is listed in `PasteRepairs.breaks` so the builder does not glue it to
  an unrelated record before it.
When nothing in the text is log material, every line is passed on unchanged (and the output says so).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from diagnostics.logs.header import BARE_HEADER_RE, ELIDED_HEADER_RE, HEADER_RE, PYTHON_LOGGING_RE
from diagnostics.logs.syslog import SYSLOG_RE

QUOTE_RE = re.compile(r"^\s{0,3}(?:>\s?)+")
MD_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((?:https?://|www\.)[^)\s]*\)")
ANGLE_LINK_RE = re.compile(r"\s*<(?:https?://|www\.)[^>\s]*>")
# Java stack trace lines: frames, causes, elisions, and an exception line (`pkg.FooException: msg`)
_TRACE_RE = re.compile(
    r"^\s*(?:at [\w$.<>/-]+\(|Caused by: |\.\.\. \d+ (?:more|common frames omitted)|Suppressed: "
    r"|(?:[a-z][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable)(?::|\s*$))"
)
_FRAME_RE = re.compile(r"^\s*(?:at [\w$.<>/-]+\(|Caused by: |\.\.\. \d+ |Suppressed: )")
_BARE_RE = re.compile(r"(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\[[\w.$]+\] \([^()]*:[^()]*\) ")
_MD_HEADING_RE = re.compile(r"^#{2,6} \S|^# [A-Z][a-z]")
_SHORT_PREFIX_RE = re.compile(r"^\s*\S{1,64}?[:|\]>]?\s+")
_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_FENCE_RE = re.compile(
    r"^\s*(?:(?:```|~~~)[\w+.#-]*|\{(?:code|noformat|quote|panel)(?::[^}]*)?\}|\[/?code\]|</?(?:pre|code)>|bq\.)\s*$"
)
_TAG_HEAD_RE = re.compile(r"^\s*(?:<pre>|<code>|\{code(?::[^}]*)?\}|\{noformat\})")
_TAG_TAIL_RE = re.compile(r"(?:</pre>|</code>|\{code\}|\{noformat\})\s*$")
_PROMPT_RE = re.compile(
    r"^\s*(?:\[(?P<u1>[\w.-]+)@(?P<h1>[\w.-]+)[^\]]*\]\s?[#$]"  # [root@kvm01 ~]#
    r"|(?P<u2>[\w.-]+)@(?P<h2>[\w.-]+):[^\s#$]*\s?[#$]"  # root@kvm01:~#
    r"|[#$]"  # $ tail -f ...
    r"|\((?P<env>[\w.-]+)\)[^>\n]{0,8}>"  # (localcloud) 🐱 > list ...   (cmk)
    r")\s+[\w./~-]"
)
_NUMBERED_BLANK_RE = re.compile(r"^\s*(\d{1,6})\s*[:|│.)]?\s*$")
_LINENO_RE = re.compile(r"^\s*(\d{1,6})(?:\s*[:|│] ?|[.)] | +|\t)(?=.)")
_BULLET_RE = re.compile(r"^\s*(?:[-*+•·▪►‣]|\d{1,3}[.)])\s+")
_BOX_RE = re.compile(r"^(?P<c>[x│┃║])(?P<body>\s.*?)\s+(?P=c)\s*$")
_TABLE_SEP_RE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?$")
_BOLD_RE = re.compile(r"(?<![*\w])\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*(?![*\w])")
_ORIGIN_RE = re.compile(r"^[\[(]?(?P<name>[\w/][\w.@/-]{0,200}?)[\])]?\s*[:|>-]?$")
_OPENERS = {"`": "`", '"': '"', "“": "”", "'": "'", "「": "」", "«": "»", "„": "“", "(": ")"}
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
_MAX_BUFFER = 2000  # lines of a block held while waiting for its first record; beyond this it is passed on


@dataclass(slots=True)
class PasteRepairs:
    """What the paste repair assumed; rendered as notes in every output.

    `breaks`: output line numbers (1-based) where a block starts without a timestamped header (a stack trace
    without its record, a record pasted without its time), so it must not continue the record before it. `origins`: output line number of a record -> the host, server or
    file name written before its timestamp (or named by the shell prompt above it).
    """

    quotes: int = 0
    blanks: int = 0
    links: int = 0
    joined: int = 0
    joined_at_space: int = 0
    width: int | None = None
    fences: int = 0
    markup: int = 0
    numbers: int = 0
    bullets: int = 0
    cells: int = 0
    borders: int = 0
    prefixed: int = 0
    in_prose: int = 0
    prompts: int = 0
    set_aside: int = 0
    passed_unchanged: bool = False
    breaks: list[int] = field(default_factory=list)
    origins: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        out = []
        if self.quotes:
            out.append(f"paste mode: stripped markdown '> ' quotes from {self.quotes} lines")
        if self.fences:
            out.append(f"paste mode: removed {self.fences} code-fence or markup-block lines (``` ~~~ {{code}} <pre>)")
        if self.blanks:
            out.append(f"paste mode: dropped {self.blanks} blank lines between entries")
        if self.links:
            out.append(f"paste mode: removed {self.links} web links around stack frames")
        if self.numbers:
            out.append(f"paste mode: removed leading line numbers from {self.numbers} lines")
        if self.bullets:
            out.append(f"paste mode: removed list bullets from {self.bullets} lines")
        if self.cells:
            out.append(f"paste mode: took {self.cells} lines out of table cells")
        if self.borders:
            out.append(f"paste mode: removed box-drawing borders from {self.borders} lines")
        if self.markup:
            out.append(f"paste mode: removed inline markup (backticks, bold, HTML/Jira tags) on {self.markup} lines")
        if self.prefixed:
            names = sorted(set(self.origins.values()))
            shown = f" (kept as their origin: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else ""
            out.append(f"paste mode: {self.prefixed} records had a host, server or file name or indentation before "
                       f"the timestamp{shown}")
        if self.in_prose:
            out.append(f"paste mode: found {self.in_prose} records quoted inside prose")
        if self.prompts:
            out.append(f"paste mode: set aside {self.prompts} shell prompt lines")
        if self.set_aside:
            out.append(f"paste mode: set aside {self.set_aside} lines that are no log records (commentary, other output)")
        if self.joined:
            spaced = f" ({self.joined_at_space} where the wrap fell on a space)" if self.joined_at_space else ""
            out.append(f"paste mode: joined {self.joined} lines hard-wrapped at {self.width} characters{spaced}")
        if self.breaks:
            out.append(f"paste mode: {len(self.breaks)} fragments without a timestamped header (stack traces, "
                       "records pasted without their time) kept apart from the record before them")
        if self.passed_unchanged:
            out.append("paste mode: no log record, journald line or stack trace found; lines passed on unchanged")
        return out


@dataclass(slots=True)
class _Line:
    """One line after decoration stripping (a physical line, or a logical one after wrap joins)."""

    text: str
    kind: str  # record | syslog | bare | trace | other
    lengths: tuple[int, ...]  # unquoted, without line decorations (the width a wrap shows), bare text
    origin: str | None = None
    wrap_evidence: bool = True  # False for lines whose length says nothing about a wrap (table rows, boxes)
    effects: tuple[str, ...] = ()  # the PasteRepairs counters the logical step would raise
    cached: "_Line | None" = None  # the logical step's result for a physical line, reused when nothing is joined


class _Decoder:
    """Decoration stripping in two steps, because wraps fall between them.

    `physical`: what is added to each displayed line (line numbers, box borders, table cells) -- applied after any
    wrap, so removed before wrapped lines are joined. `logical`: what is part of the text itself (tags, backticks,
    bold, bullets, a prefix before the timestamp) -- applied to the joined line.
    """

    def __init__(self, repairs: PasteRepairs) -> None:
        self.r = repairs
        self.next_number: int | None = None

    def physical(self, line: str) -> tuple[str, bool]:
        """(text without per-line decorations, whether its length can be evidence of a wrap)."""
        r = self.r
        text = line
        evidence = True
        m = _BOX_RE.match(text)
        if m and self.logical(m.group("body").strip(), count=False).kind != "other":
            text = m.group("body").rstrip()
            r.borders += 1
            evidence = False
        if text.lstrip().startswith("|") and text.count("|") >= 2:
            cell = self._record_cell(text)
            if cell is not None:
                text = cell
                r.cells += 1
                evidence = False
        m = _NUMBERED_BLANK_RE.match(text)
        if m and int(m.group(1)) == self.next_number:
            self.next_number += 1
            r.numbers += 1
            return "", False
        m = _LINENO_RE.match(text)
        if m:
            number, rest = int(m.group(1)), text[m.end():]
            # a number that continues the count, a count that starts at 1, or one in front of a record
            if number == self.next_number or (self.next_number is None and number == 1) \
                    or self.logical(rest, count=False).kind != "other":
                text = rest
                self.next_number = number + 1
                r.numbers += 1
        return text, evidence

    def logical(self, text: str, count: bool = True) -> _Line:
        """Strip inline markup and whatever stands before the record; classify what is left."""
        effects: list[str] = []
        original = text
        if "<" in text or "{" in text:
            text = _TAG_HEAD_RE.sub("", text, count=1)
            text = _TAG_TAIL_RE.sub("", text, count=1)
        if "`" in text:
            ticks = text.count("`")
            if ticks == 2 and text.startswith("`") and text.endswith("`") and len(text) > 2:
                text = text[1:-1]
            elif ticks % 2 == 1 and text.startswith("`"):
                text = text[1:]
            elif ticks % 2 == 1 and text.endswith("`"):
                text = text[:-1]
        if "**" in text:
            text = _BOLD_RE.sub(r"\1", text)
        if text != original:
            effects.append("markup")
        kind = _kind(text)
        origin = None
        if kind == "other":
            m = _BULLET_RE.match(text)
            if m and _kind(text[m.end():]) != "other":
                text = text[m.end():]
                kind = _kind(text)
                effects.append("bullets")
        if kind == "other":
            pos, found = _find_start(text)
            if pos > 0:
                prefix, rest = text[:pos], text[pos:]
                closer = _OPENERS.get(prefix.rstrip()[-1:]) if prefix.strip() else None
                if closer is not None:
                    cut = rest.rfind(closer)
                    if cut > 0:
                        rest = rest[:cut].rstrip()
                origin = _origin(prefix)
                if origin is not None or not prefix.strip():
                    effects.append("prefixed")
                elif prefix.strip().isdigit():
                    effects.append("numbers")
                else:
                    effects.append("in_prose")
                text, kind = rest, found
        line = _Line(text, kind, (), origin, effects=tuple(effects))
        if count:
            self.apply(line)
        return line

    def apply(self, line: _Line) -> None:
        """Count what the logical step did to `line`."""
        for name in line.effects:
            setattr(self.r, name, getattr(self.r, name) + 1)

    def decode(self, line: str) -> _Line:
        """Both steps on one physical line, with the lengths a wrap could have produced."""
        mid, evidence = self.physical(line)
        logical = self.logical(mid, count=False)
        # the text stays `mid`: the logical step applies to the line once wrapped pieces are joined
        return _Line(mid, logical.kind, (len(line), len(mid), len(logical.text)), logical.origin, evidence,
                     cached=logical)

    def _record_cell(self, row: str) -> str | None:
        """The cell of a markdown/ASCII table row holding log material (`\\|` unescaped); None if none does."""
        cells = re.split(r"(?<!\\)\|", row.strip().strip("|"))
        for cell in cells:
            # one space of padding on each side; a tab or indentation inside the cell is the line's own
            content = cell.rstrip().replace("\\|", "|")
            content = content[1:] if content.startswith(" ") else content
            for candidate in (content, content.strip()):
                if self.logical(candidate, count=False).kind != "other":
                    return candidate
        return None


def _kind(text: str) -> str:
    if text[:1].isdigit() and _TS_RE.match(text) and HEADER_RE.match(text):
        return "record"
    if text[:1].isalnum() and SYSLOG_RE.match(text):
        return "syslog"
    if text[:1].isupper() and (_BARE_RE.match(text) or PYTHON_LOGGING_RE.match(text)):
        return "bare"
    if text[:1] in ".\u2026[" and ELIDED_HEADER_RE.match(text):
        return "bare"
    if _TRACE_RE.match(text):
        return "trace"
    return "other"


def _find_start(text: str) -> tuple[int, str]:
    """(position, kind) of the first log record or journald line inside `text`; (-1, "other") if none."""
    for m in _TS_RE.finditer(text):
        if HEADER_RE.match(text, m.start()):
            return m.start(), "record"
    # a journald line after a short prefix (`kvm03: Sep 03 01:12:08 kvm03 java[1]: ...`)
    head = _SHORT_PREFIX_RE.match(text)
    if head and head.end() < len(text) and SYSLOG_RE.match(text, head.end()):
        return head.end(), "syslog"
    return -1, "other"


def _origin(prefix: str) -> str | None:
    """The host/server/file token of a prefix such as `mgmt01 `, `kvm03: `, `[mgmt01] `, `agent.log:`; None otherwise."""
    token = prefix.strip()
    if not token or token.isdigit():
        return None
    m = _ORIGIN_RE.match(token)
    if m is None or not any(c.isalpha() for c in m.group("name")):
        return None
    return m.group("name").rstrip(":.")


def _looks_prose(text: str) -> bool:
    """Sentence-like text (mostly words, any script) as opposed to log material (paths, XML, key=value, numbers)."""
    t = text.strip()
    if not t or t[:1] in "<{[\t" or text[:1] in " \t":
        return False
    words = _WORD_RE.findall(t)
    letters = sum(len(w) for w in words)
    dense = sum(1 for c in t if not c.isspace())
    # scripts without spaces between words (Chinese, Japanese) make one long "word"
    sentence = len(words) >= 2 or t.endswith((":", "：")) or any(len(w) >= 4 and w[0] >= "\u2e80" for w in words)
    return sentence and letters >= 0.6 * dense


def _unquote(line: str, repairs: PasteRepairs) -> str:
    stripped = QUOTE_RE.sub("", line, count=1)
    if stripped != line:
        repairs.quotes += 1
    return stripped


def _delink(line: str, repairs: PasteRepairs) -> str:
    """Links are removed from the re-joined line: wrapping may have cut a link in two."""
    if "http" in line or "www." in line:
        line, n1 = MD_LINK_RE.subn(r"\1", line)
        line, n2 = ANGLE_LINK_RE.subn("", line)
        repairs.links += n1 + n2
    return line


def _linked(line: str) -> bool:
    return MD_LINK_RE.search(line) is not None or ANGLE_LINK_RE.search(line) is not None


def detect_paste(sample_lines: list[str]) -> tuple[bool, int | None]:
    """Does this look like a ticket paste, and at which width was it hard-wrapped (if at all)?

    A plain log (every record at the start of its line, nothing around it) is no paste: it keeps the fast path.
    """
    nonblank = [line.rstrip("\r\n") for line in sample_lines if line.strip()]
    if not nonblank:
        return False, None
    decoder = _Decoder(PasteRepairs())
    quoted = sum(1 for line in nonblank if QUOTE_RE.match(line) and line.lstrip().startswith(">"))
    linked = sum(1 for line in nonblank if _linked(line))
    fences = sum(1 for line in nonblank if _FENCE_RE.match(line))
    prompts = sum(1 for line in nonblank if _PROMPT_RE.match(line))
    pairs = [(u, decoder.decode(u)) for u in (QUOTE_RE.sub("", line, count=1) for line in nonblank)]
    pairs = [(u, d) for u, d in pairs if d.text.strip()]  # numbered blank lines are blank lines
    unquoted = [u for u, _ in pairs]
    decoded = [d for _, d in pairs]
    if not decoded:
        return False, None
    width = _wrap_width(decoded)
    blank_between = sum(1 for line in sample_lines if not line.strip())
    starts = [i for i, d in enumerate(decoded) if d.kind in ("record", "syslog")]
    # a record or trace line that only shows once something around it is removed
    decorated = sum(
        1 for line, d in zip(unquoted, decoded)
        if d.kind != "other" and decoder.logical(d.text, count=False).text != line
    )
    # markdown around the text: a heading, or a line opening with inline code or a markup tag
    markdown = sum(1 for line in unquoted if _MD_HEADING_RE.match(line) or _TAG_HEAD_RE.match(line)
                   or (line.startswith("`") and not line.startswith("``")) or line.startswith("**"))
    prose_first = bool(starts) and starts[0] > 0 and _looks_prose(decoded[0].text) and (
        blank_between > 0 or decoded[starts[0] - 1].text.rstrip().endswith(":")
    )
    is_paste = (
        quoted * 5 >= len(nonblank)
        or linked > 0
        or width is not None
        or (len(starts) >= 3 and blank_between * 2 >= len(starts))
        or fences > 0
        or decorated > 0
        or ((prompts > 0 or markdown > 0) and bool(starts))
        or prose_first
    )
    return is_paste, width


def _wrap_width(lines: list[_Line]) -> int | None:
    """The width W such that several W-long lines are followed by a line that cannot start anything.

    Measured without the per-line decorations (quotes, line numbers: added after the wrap) but with what is part of
    the text (a host prefix, bullets, markup: there before the wrap).
    """
    best: tuple[int, int] | None = None
    for i in (1,):
        texts: dict[int, set[str]] = {}
        for cur, nxt in zip(lines, lines[1:]):
            n = cur.lengths[i]
            if n >= 40 and cur.wrap_evidence and nxt.kind == "other" and nxt.text and not _linked(cur.text):
                texts.setdefault(n, set()).add(cur.text)  # a repeated line (a boot loop) is one piece of evidence
        lengths = Counter({n: len(seen) for n, seen in texts.items()})
        if not lengths:
            continue
        # a piece that ended on spaces was trimmed to W-1 or W-2: evidence for W as well
        width, count = max(((w, lengths[w] + lengths[w - 1] + lengths[w - 2]) for w in lengths), key=lambda wc: (wc[1], wc[0]))
        # links added by the page after wrapping make those lines longer: they do not disprove a width
        longer = sum(1 for d in lines if d.lengths[i] > width and d.wrap_evidence and not _linked(d.text))
        if count >= 2 and longer == 0 and (best is None or count > best[1]):
            best = (width, count)
    return best[0] if best else None


class _Repairer:
    """Blocks, wrap joins and emission; see the module docstring."""

    def __init__(self, width: int | None, repairs: PasteRepairs, known=None) -> None:
        self.width = width
        self.known = known  # text -> bool: a line quoting a message csdiag knows is log material (logs/quoted.py)
        self.r = repairs
        self.decoder = _Decoder(repairs)
        self.pending: _Line | None = None  # the logical line being assembled from wrapped physical lines
        self.block: list[_Line] = []  # lines of a block that has shown no log material yet
        self.block_is_log = False
        self.out = 0  # output lines so far
        self.in_record = False  # the last emitted line belongs to a record or a trace
        self.prompt_host: str | None = None
        self.quote_depth = 0
        self.raw_head: list[str] = []  # input until the first output line: passed on if nothing is log material
        self.head_overflow = False

    # -- physical lines ---------------------------------------------------------------------------------------
    def feed(self, raw: str) -> Iterator[str]:
        r = self.r
        line = raw.rstrip("\r\n")
        if self.out == 0 and not self.head_overflow:
            self.raw_head.append(line)
            self.head_overflow = len(self.raw_head) > _MAX_BUFFER
        quote = QUOTE_RE.match(line)
        depth = quote.group(0).count(">") if quote else 0
        line = _unquote(line, r)
        if depth != self.quote_depth and line.strip():  # another quote level: another author's text
            self.quote_depth = depth
            yield from self.boundary()
        cur = self.decoder.decode(line) if line.strip() else None
        if cur is None or not cur.text.strip():  # blank, or a numbered blank line
            r.blanks += 1
            yield from self.boundary()
            return
        bare = cur.text.strip()
        if _FENCE_RE.match(cur.text):
            r.fences += 1
            yield from self.boundary()
            return
        if bare == "`":
            r.markup += 1
            yield from self.boundary()
            return
        prompt = _PROMPT_RE.match(cur.text)
        if prompt is not None and cur.kind == "other" and _find_start(cur.text)[0] < 0:
            r.prompts += 1
            self.prompt_host = prompt.group("h1") or prompt.group("h2") or self.prompt_host
            yield from self.boundary()
            return
        if _TABLE_SEP_RE.match(cur.text):
            r.cells += 1
            return
        p = self.pending
        if p is not None and cur.kind == "other" and cur.text:
            spaces = self._wrap_gap(p, cur)
            if spaces is not None:
                p.text += " " * spaces + cur.text
                p.lengths, p.wrap_evidence, p.cached = cur.lengths, cur.wrap_evidence, None
                r.joined += 1
                r.joined_at_space += spaces > 0
                return
        yield from self._commit()
        self.pending = cur

    def _wrap_gap(self, prev: _Line, cur: _Line) -> int | None:
        """Spaces to put back between a wrapped line and its tail; None when `prev` was not cut by a wrap."""
        w = self.width
        if w is None or not prev.wrap_evidence:
            return None
        n = prev.lengths[1]
        if w - 2 <= n <= w:  # shorter: the wrap fell on one or two spaces, which the paste trimmed
            return w - n
        return None

    # -- logical lines and blocks -----------------------------------------------------------------------------
    def _commit(self) -> Iterator[str]:
        line, self.pending = self.pending, None
        if line is None:
            return
        delinked = _delink(line.text, self.r)
        if line.cached is not None and delinked == line.text:  # one physical line: its logical step is known
            self.decoder.apply(line.cached)
            line = line.cached
        else:
            line = self.decoder.logical(delinked)
        if self.block_is_log:
            yield from self._emit(line)
        elif line.kind == "other" and not (self.known is not None and self.known(line.text)):
            self.block.append(line)
            if len(self.block) > _MAX_BUFFER:  # a huge block without records: pass it on rather than hold it
                self.block_is_log = True
                yield from self._flush_block(keep_all=True)
        else:
            self.block_is_log = True
            yield from self._flush_block(keep_all=False)
            yield from self._emit(line, first=True)

    def _flush_block(self, keep_all: bool) -> Iterator[str]:
        """Lines held before the first log material of a block: prose is set aside, anything else kept."""
        held, self.block = self.block, []
        first = True
        for line in held:
            if not keep_all and _looks_prose(line.text):
                self.r.set_aside += 1
                continue
            yield from self._emit(line, first=first)
            first = False

    def _emit(self, line: _Line, first: bool = False) -> Iterator[str]:
        r = self.r
        starts_record = line.kind in ("record", "syslog")
        if not starts_record and self.out > 0:
            # a block that starts without a header continues nothing, unless it is the frames of a trace in progress
            if line.kind == "bare" or (first and not (self.in_record and _FRAME_RE.match(line.text))):
                r.breaks.append(self.out + 1)
        self.out += 1
        if starts_record:
            origin = line.origin or self.prompt_host
            if origin:
                r.origins[self.out] = origin
        self.in_record = True
        yield line.text

    def boundary(self) -> Iterator[str]:
        yield from self._commit()
        if not self.block_is_log:
            self.r.set_aside += len(self.block)
        self.block = []
        self.block_is_log = False

    def finish(self) -> Iterator[str]:
        yield from self.boundary()
        if self.out == 0 and self.raw_head and not self.head_overflow:
            self.r.passed_unchanged = True
            self.r.set_aside = 0
            yield from self.raw_head


def repair_paste(lines: Iterable[str], width: int | None, repairs: PasteRepairs, known=None) -> Iterator[str]:
    """Yield repaired lines (without trailing newlines). `known(text)`: does a line quote a message csdiag knows?
    Such a line makes its block log material, as a record would (a ticket's prose around an API error text)."""
    repairs.width = width
    rep = _Repairer(width, repairs, known)
    for raw in lines:
        yield from rep.feed(raw)
    yield from rep.finish()


@dataclass(slots=True)
class Material:
    """What log material a text holds, found through the same decoration stripping as the repair."""

    records: int = 0  # timestamped log4j header lines (anywhere in a line)
    syslog_records: int = 0  # journald/syslog lines wrapping a CloudStack header
    syslog_lines: int = 0  # any journald/syslog line
    bare_records: int = 0  # CloudStack header lines without their timestamp (`DEBUG [c.c.a.ApiServlet] (...) ...`)
    traces: int = 0  # Java stack trace lines (exception lines, frames, causes)

    @property
    def any(self) -> bool:
        return bool(self.records or self.syslog_lines or self.bare_records or self.traces)


def scan_material(lines: Iterable[str]) -> Material:
    """Count records, journald lines and stack-trace lines in `lines`, wherever they sit in the text."""
    found = Material()
    decoder = _Decoder(PasteRepairs())
    frames = 0
    exception_lines = 0
    for raw in lines:
        line = QUOTE_RE.sub("", raw.rstrip("\r\n"), count=1)
        if not line.strip():
            continue
        d = decoder.logical(decoder.physical(line)[0], count=False)
        if d.kind == "record":
            found.records += 1
        elif d.kind == "bare":
            found.bare_records += 1
        elif d.kind == "syslog":
            found.syslog_lines += 1
            rest = SYSLOG_RE.match(d.text).group("rest")
            if HEADER_RE.match(rest) or BARE_HEADER_RE.match(rest):
                found.syslog_records += 1
            elif _TRACE_RE.match(rest):
                frames += 1
        elif d.kind == "trace":
            if _FRAME_RE.match(d.text):
                frames += 1
            else:
                exception_lines += 1
    # one exception line alone may be prose naming a class; with a frame, a cause or another one it is a trace
    if frames or exception_lines >= 2:
        found.traces = frames + exception_lines
    return found
