"""Which records a `log_record` fact is worth building for, beyond WARN/ERROR/FATAL and exceptions: derived text.

The literals come from the catalogue (the anchor literal of every failure and benign template) and from the rules
that look at `log_record` (the literal parts of their `matches /regex/`, their `contains "..."` and `== "..."` texts,
the templates they name). Nothing here is typed by hand, so a new template or an operator's rule teaches both the
exact reader and the fast filter (logs/blocks.py), which search for exactly these literals.

A rule whose condition gives no literal and does not restrict itself to loud levels, exceptions or catalogue
templates makes every record interesting (`everything`): correct, but slower; `rules/README.md` says how to avoid it.

Build only what someone reads: when the rules are known (`analyze`), quiet records of *benign* templates get a fact
only if a rule asks for them (by relevance, category or template id). Nothing else reads them: the unexplained-error
rule and the correlator leave benign records out, and loud ones are built anyway. On a busy management server these
are most records (`Ping from Routing host`, `Found the following agents behind on ping: []`): keeping them cost
~10x the CPU and memory of everything else for byte-identical findings and incidents. Without rules (the timeline,
a rule-less read) every catalogue template stays in, as the reader of that output is a person.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the regex AST: the only way to read which literals a pattern requires
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from diagnostics.catalogue import Catalogue, load_catalogue
from diagnostics.hyperscan_literal import cached_database, hs_literal

KIND = "log_record"
LOUD = frozenset(("WARN", "ERROR", "FATAL"))
TEXT_FIELDS = frozenset(("message", "text", "logger", "thread", "origin"))
MIN_LITERAL = 3  # shorter literals would wake the filter on nearly every line
_FREE: tuple = ()  # a cover that costs nothing: loud levels, exceptions and failure templates are always built


@dataclass(slots=True)
class Interest:
    """Literal texts (each with its case sensitivity) that make a record worth a log_record fact."""

    literals: tuple[tuple[str, bool], ...] = ()  # (text, caseless)
    catalogue: Catalogue | None = None
    everything: bool = False
    sources: tuple[str, ...] = ()  # rule ids that made `everything` true (for the note in the output)
    _hit: Any = field(default=None, repr=False)

    def hit(self, text: str) -> bool:
        """Does `text` contain one of the literals?"""
        if self.everything:
            return True
        if not self.literals or not text:
            return False
        if self._hit is None:
            self._hit = _matcher(self.literals)
        return self._hit(text)

    def key(self) -> tuple:
        return (self.literals, self.everything)

    def __reduce__(self):
        """Pickled for worker processes without the catalogue and the compiled matcher: both are rebuilt there."""
        return (_rebuilt, (self.literals, self.everything, self.sources))


def _rebuilt(literals: tuple, everything: bool, sources: tuple) -> Interest:
    return Interest(literals, load_catalogue(), everything, sources)


def _matcher(literals: tuple[tuple[str, bool], ...]):
    """A test for "contains one of `literals`": Hyperscan where it loads (a Python alternation of the ~2,400 catalogue
    literals costs milliseconds per record, more than everything else the exact reader and the timeline do with it),
    else one regular expression."""
    return _hyperscan_matcher(literals) or _re_matcher(literals)


def _hyperscan_matcher(literals: tuple[tuple[str, bool], ...]):
    if any(caseless and not text.isascii() for text, caseless in literals):
        return None  # Hyperscan folds ASCII case only: leave Unicode case folding to re
    try:
        import hyperscan

        db = cached_database([hs_literal(text.encode()) for text, _caseless in literals], list(range(len(literals))),
                             [hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if caseless else 0)
                              for _text, caseless in literals])
        terminated = hyperscan.ScanTerminated
    except Exception:  # noqa: BLE001  (no Hyperscan, or it cannot load on this CPU: the regular expression does it)
        return None

    def stop(*_args) -> bool:
        return True  # the first match answers the question

    def hit(text: str) -> bool:
        try:
            db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=stop)
        except terminated:
            return True
        return False

    return hit


def _re_matcher(literals: tuple[tuple[str, bool], ...]):
    exact = [re.escape(t) for t, caseless in literals if not caseless]
    folded = [re.escape(t) for t, caseless in literals if caseless]
    parts = []
    if exact:
        parts.append("|".join(sorted(exact, key=len, reverse=True)))
    if folded:
        parts.append("(?i:" + "|".join(sorted(folded, key=len, reverse=True)) + ")")
    search = re.compile("|".join(parts)).search
    return lambda text: search(text) is not None


def regex_literals(pattern: re.Pattern[str]) -> list[tuple[str, bool]] | None:
    """Literals of which every match of `pattern` contains one (one per top-level alternative), or None."""
    caseless = bool(pattern.flags & re.IGNORECASE)
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001  (already compiled by re; a parser quirk only costs the literal)
        return None
    items = list(parsed)
    if len(items) == 1 and items[0][0] is sre_parse.BRANCH:
        out: list[tuple[str, bool]] = []
        for branch in items[0][1][1]:
            lit = _longest_run(list(branch))
            if lit is None:
                return None
            out.append((lit, caseless))
        return out
    lit = _longest_run(items)
    return None if lit is None else [(lit, caseless)]


def _longest_run(items: list) -> str | None:
    best, run = "", []
    for op, arg in items + [(None, None)]:
        if op is sre_parse.LITERAL:
            run.append(chr(arg))
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    return best if len(best) >= MIN_LITERAL else None


def _cover(node, catalogue: Catalogue) -> list[tuple[str, bool]] | None:
    """Literals one of which any log_record satisfying `node` contains; _FREE when loud/exception/catalogue records
    suffice; None when unknown."""
    from diagnostics.engine import language as lang

    if isinstance(node, lang.And):
        covers = [c for c in (_cover(item, catalogue) for item in node.items) if c is not None]
        if not covers:
            return None
        return min(covers, key=len)  # _FREE (empty) wins
    if isinstance(node, lang.Or):
        out: list[tuple[str, bool]] = []
        for item in node.items:
            c = _cover(item, catalogue)
            if c is None:
                return None
            out.extend(c)
        return out
    if isinstance(node, lang.Matches) and _is_field(node.left) and node.left.name in TEXT_FIELDS:
        return regex_literals(node.pattern)
    if isinstance(node, lang.Matches) and _is_field(node.left) and node.left.name == "exceptions":
        return list(_FREE)
    if isinstance(node, lang.Compare):
        left, right, op = node.left, node.right, node.op
        if op == "in" and _is_field(right) and right.name == "exceptions":
            return list(_FREE)
        if op == "in" and _is_field(right) and right.name in TEXT_FIELDS and isinstance(left, lang.Literal) \
                and isinstance(left.value, str) and len(left.value) >= MIN_LITERAL:
            return [(left.value, True)]
        if not _is_field(left) or not isinstance(right, (lang.Literal, lang.ListLiteral)):
            return None
        values = [right.value] if isinstance(right, lang.Literal) else [
            i.value for i in right.items if isinstance(i, lang.Literal)]
        name = left.name
        if name == "exceptions" and op in ("contains", "==", "!="):
            return list(_FREE)
        if name == "level" and op in ("==", "in") and values and all(v in LOUD for v in values):
            return list(_FREE)
        if name == "loud" and op == "==" and values == [True]:
            return list(_FREE)  # loud records (level or exception) are always built
        if name in TEXT_FIELDS and op in ("contains", "==") and all(isinstance(v, str) and len(v) >= MIN_LITERAL for v in values):
            return [(v, op == "contains") for v in values]
        if name == "template" and op in ("==", "in"):
            out = []
            for v in values:
                template = catalogue.get(v) if isinstance(v, str) else None
                if template is not None and template.relevance != "failure":  # failure templates: always built
                    lits = template.literals()
                    if lits:
                        out.append((lits[0], False))
            return out
        if name == "relevance" and op in ("==", "in"):
            if all(v == "failure" for v in values):
                return list(_FREE)
            return _catalogue_literals(catalogue, lambda t: t.relevance in values and t.relevance != "failure")
        if name == "category" and op in ("==", "in"):
            return _catalogue_literals(catalogue, lambda t: t.category in values)  # exceptions give the rest
        if name == "template" and op == "!=" and values == [None]:
            return _catalogue_literals(catalogue, lambda t: True)
    return None


def _is_field(node) -> bool:
    from diagnostics.engine.language import FieldRef

    return isinstance(node, FieldRef) and node.kind == KIND


def _catalogue_literals(catalogue: Catalogue, keep) -> list[tuple[str, bool]]:
    return [(t.literals()[0], False) for t in catalogue.templates if keep(t) and t.literals()]


def _log_record_conditions(condition) -> list:
    """The parts of a condition that decide whether a log_record fact can take part in a match."""
    from diagnostics.engine.language import Quantifier, walk

    parts = []
    if KIND in condition.bound_kinds:
        parts.append(condition.root)
    for node in walk(condition.root):
        if isinstance(node, Quantifier) and node.kind == KIND:
            parts.append(node.where)
    return parts


def interest_for(rules: Iterable[Any] = (), catalogue: Catalogue | None = None, *, prune: bool = True) -> Interest:
    """The interest of the catalogue plus `rules` (engine Rule objects). With rules, they are all the readers:
    benign templates come in only through a rule that asks for them (see the module's docstring); `prune=False`
    keeps them all (the tests compare both)."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    rules = list(rules)
    kept = ("failure",) if rules and prune else ("failure", "benign")
    literals: dict[tuple[str, bool], None] = {}
    for t in catalogue.templates:
        if t.relevance in kept and t.literals():
            literals.setdefault((t.literals()[0], False), None)
    everything, sources = False, []
    for rule in rules:
        for part in _log_record_conditions(rule.condition):
            cover = None if part is None else _cover(part, catalogue)
            if cover is None:
                everything = True
                sources.append(rule.id)
                continue
            for lit in cover:
                literals.setdefault(lit, None)
    return Interest(tuple(literals), catalogue, everything, tuple(sources))


@lru_cache(maxsize=1)
def default_interest() -> Interest:
    """The catalogue's interest alone (inputs read without rules: timeline, tests)."""
    return interest_for(())
