"""Is a header-less line of a paste or of prose a message csdiag knows? Then it is a record of its own.

Operators quote CloudStack's messages without their log header: an API error text after `Error:`, a sentence in a
ticket ("Exception is thrown due to "..."), the hypervisor's refusal in bold. Such a line is log input when the
knowledge csdiag already holds as data recognises it, wherever it sits in the line:

- a catalogue template of relevance failure or benign (CloudStack's own vocabulary, mined from its source);
- the text pattern of a built-in rule that reads log records (`log_record.text/message matches /.../`): the rules
  know messages the catalogue does not mine (other classes, libvirt, qemu, systemd, hypervisor texts). Only a
  match of at least `MIN_SPAN` characters and `MIN_WORDS` words counts, so a short alternative of a rule (`timed
  out`) never turns a sentence into a record; the rule still decides on its own whether it fires.

Nothing here is a list of strings: a new template or a new rule teaches this recogniser too.
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_SPAN = 20
MIN_WORDS = 3
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
_TEXT_FIELDS = ("text", "message")


@lru_cache(maxsize=1)
def rule_patterns() -> tuple[re.Pattern[str], ...]:
    """The `matches /.../` patterns the built-in rules apply to a log record's text or message."""
    from diagnostics.engine import language as lang
    from diagnostics.engine.loader import load_rules
    from diagnostics.logs.interest import KIND, _log_record_conditions

    patterns: dict[str, re.Pattern[str]] = {}
    for rule in load_rules().rules:
        for part in _log_record_conditions(rule.condition):
            for node in lang.walk(part):
                if isinstance(node, lang.Matches) and isinstance(node.left, lang.FieldRef) \
                        and node.left.kind == KIND and node.left.name in _TEXT_FIELDS:
                    patterns.setdefault(node.pattern.pattern + str(node.pattern.flags), node.pattern)
    return tuple(patterns.values())


def rule_knows(line: str) -> bool:
    """Does a rule's log-record pattern find a message of at least MIN_SPAN characters and MIN_WORDS words in `line`?"""
    for rx in rule_patterns():
        for m in rx.finditer(line):
            span = m.group(0)
            if len(span) >= MIN_SPAN and len(_WORD_RE.findall(span)) >= MIN_WORDS:
                return True
    return False


def known_message(line: str, catalogue) -> bool:
    """A header-less `line` that quotes a CloudStack failure or benign message, or a message a rule reads."""
    if len(line) < 12:
        return False
    if catalogue is not None:
        match = catalogue.match(line)
        if match is not None and match.template.relevance in ("failure", "benign"):
            return True
    return rule_knows(line)
