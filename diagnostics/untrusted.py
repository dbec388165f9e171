"""Untrusted text (log lines, archive member names, manifest fields, server answers) made safe for each output.

Nothing read from an input reaches a terminal, a Markdown ticket or an HTML page raw: C0/C1 control characters and
escape sequences are shown visibly (`\\x1b`), newlines inside a one-line value are escaped so a crafted name cannot
forge report lines, and bidirectional-override characters are made visible too.

>>> for_terminal("ok\\x1b]8;;http://x\\x07click\\x1b]8;;\\x07")
'ok\\\\x1b]8;;http://x\\\\x07click\\\\x1b]8;;\\\\x07'
>>> for_terminal("a\\nb")
'a\\\\nb'
>>> for_terminal("a\\nb", multiline=True)
'a\\nb'
>>> for_markdown("[CRITICAL] *x* `y`")
'\\\\[CRITICAL\\\\] \\\\*x\\\\* \\\\`y\\\\`'
>>> for_html("<b>&\\x1b")
'&lt;b&gt;&amp;\\\\x1b'
"""

from __future__ import annotations

import html
import re

# C0 controls but tab/newline/CR, DEL, C1 controls, and the bidi/zero-width controls that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object, *, multiline: bool = False) -> str:
    """`text` with every control character shown visibly; newlines escaped unless `multiline`."""
    s = str(text)
    if multiline:
        s = s.replace("\r\n", "\n")
        return _UNSAFE.sub(_visible, s).replace("\r", "\\r")
    return _UNSAFE_ONE_LINE.sub(_visible, s)


def for_markdown(text: object, *, multiline: bool = False) -> str:
    """Safe for Markdown prose: controls visible, Markdown syntax escaped (inside code blocks use `for_terminal`)."""
    return _MD_SPECIAL.sub(r"\\\1", for_terminal(text, multiline=multiline))


def for_html(text: object, *, multiline: bool = True) -> str:
    """Safe for HTML text and attribute values."""
    return html.escape(for_terminal(text, multiline=multiline), quote=True)
