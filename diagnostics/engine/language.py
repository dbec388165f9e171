"""The condition language: a small pyparsing grammar over facts, by kind and field.

    capacity_check.outcome == "insufficient_ram" and capacity_check.free_ram < capacity_check.requested_ram
    libvirt_error.message matches /exceed domain's maxMemory/i and not no(vm_state where vm_state.to_state == "Running")
    count(agent_event where agent_event.event == "disconnecting") >= 3

A condition is parsed once (`parse_condition` is cached) into a tree of small nodes; evaluation walks the
tree against a binding of kind -> fact. Positions (`loc`, 0-based offsets into the condition text) survive
into errors so a broken rule is reported at its line and column.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol

import pyparsing as pp

from diagnostics.engine.units import UNITS, scale
from diagnostics.model import FACT_KINDS

pp.ParserElement.enable_packrat()


class ConditionError(ValueError):
    """A condition that cannot be parsed or names something that does not exist; `loc` is 0-based."""

    def __init__(self, message: str, loc: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


class Env(Protocol):
    """What a node needs while it is evaluated: the bound facts and a way to look up joined candidates."""

    binding: dict[str, Any]

    def candidates(self, kind: str) -> list[Any]: ...


# ---------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class Node:
    loc: int

    def eval(self, env: Env) -> Any:  # pragma: no cover  (abstract)
        raise NotImplementedError

    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any

    def eval(self, env: Env) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]

    def eval(self, env: Env) -> Any:
        return [item.eval(env) for item in self.items]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class FieldRef(Node):
    """`kind.field`: the field of the fact bound to `kind`, or None when no such fact is bound."""

    kind: str
    name: str

    def eval(self, env: Env) -> Any:
        fact = env.binding.get(self.kind)
        return None if fact is None else getattr(fact, self.name, None)


@dataclass(frozen=True, slots=True)
class Presence(Node):
    """A bare kind name: true when a fact of that kind is bound."""

    kind: str

    def eval(self, env: Env) -> Any:
        return env.binding.get(self.kind) is not None


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`some(k where c)`, `no(k where c)`, `count(k where c)` over the facts of kind k joined to the anchor."""

    mode: str  # some | no | count
    kind: str
    where: Node | None
    kind_loc: int = 0

    def eval(self, env: Env) -> Any:
        saved = env.binding.get(self.kind, _UNBOUND)
        matched = 0
        try:
            for fact in env.candidates(self.kind):
                env.binding[self.kind] = fact
                if self.where is None or truthy(self.where.eval(env)):
                    matched += 1
                    if self.mode != "count":
                        break
        finally:
            if saved is _UNBOUND:
                env.binding.pop(self.kind, None)
            else:
                env.binding[self.kind] = saved
        if self.mode == "count":
            return matched
        return matched > 0 if self.mode == "some" else matched == 0

    def children(self) -> tuple[Node, ...]:
        return (self.where,) if self.where is not None else ()


_UNBOUND = object()


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def eval(self, env: Env) -> Any:
        return not truthy(self.operand.eval(env))

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class And(Node):
    items: tuple[Node, ...]

    def eval(self, env: Env) -> Any:
        return all(truthy(item.eval(env)) for item in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Or(Node):
    items: tuple[Node, ...]

    def eval(self, env: Env) -> Any:
        return any(truthy(item.eval(env)) for item in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    op: str
    left: Node
    right: Node

    def eval(self, env: Env) -> Any:
        return arithmetic(self.op, self.left.eval(env), self.right.eval(env))

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # == != < <= > >= in "not in" contains
    left: Node
    right: Node

    def eval(self, env: Env) -> Any:
        return compare(self.op, self.left.eval(env), self.right.eval(env))

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Matches(Node):
    left: Node
    pattern: re.Pattern[str] = field(compare=False)

    def eval(self, env: Env) -> Any:
        value = self.left.eval(env)
        if value is None:
            return False
        if isinstance(value, (tuple, list, set, frozenset)):
            return any(self.pattern.search(str(item)) for item in value)
        return self.pattern.search(str(value)) is not None

    def children(self) -> tuple[Node, ...]:
        return (self.left,)


# ---------------------------------------------------------------- semantics


def truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, bool) else value


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """Null-propagating arithmetic; datetime minus datetime is seconds, so `a.ts - b.ts > 10m` works."""
    if left is None or right is None:
        return None
    if isinstance(left, datetime) and isinstance(right, datetime) and op == "-":
        try:
            return (left - right).total_seconds()
        except TypeError:  # naive vs aware
            return None
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return None if right == 0 else left / right
    except TypeError:
        return None
    raise ValueError(op)  # pragma: no cover  (the grammar only produces these four)


def _contains(container: Any, item: Any) -> bool:
    if container is None or item is None:
        return False
    if isinstance(container, str):
        return str(item).lower() in container.lower()
    if isinstance(container, (tuple, list, set, frozenset)):
        if isinstance(item, str):
            return any(item.lower() in str(element).lower() for element in container)
        return item in container
    return False


def compare(op: str, left: Any, right: Any) -> bool:
    """Comparisons never raise: a missing value or a type mismatch is simply false (except `!= null`)."""
    if op == "==":
        return left == right
    if op == "!=":
        return left != right if (left is not None or right is not None) else False
    if op == "contains":
        return _contains(left, right)
    if op == "in":
        return _contains(right, left) if not isinstance(right, list) else left is not None and left in right
    if op == "not in":
        if left is None:
            return False
        return not (_contains(right, left) if not isinstance(right, list) else left in right)
    if left is None or right is None:
        return False
    try:
        left, right = _number(left), _number(right)
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
    except TypeError:
        return False
    raise ValueError(op)  # pragma: no cover


# ---------------------------------------------------------------- grammar


def _at(s: str, loc: int) -> int:
    """The offset of the token itself: combined pyparsing elements report the offset before whitespace."""
    while loc < len(s) and s[loc].isspace():
        loc += 1
    return loc


def _grammar() -> pp.ParserElement:
    keywords = {name: pp.Keyword(name) for name in
                ("and", "or", "not", "in", "contains", "matches", "true", "false", "null", "some", "no", "count", "where")}
    reserved = pp.MatchFirst(list(keywords.values()))

    unit_alternatives = "|".join(re.escape(u) for u in UNITS)
    number = pp.Regex(rf"-?\d+(?:\.\d+)?(?:{unit_alternatives})?(?![A-Za-z0-9_.])").set_name("number")

    def _number_action(s: str, loc: int, toks: pp.ParseResults) -> Node:
        match = re.fullmatch(rf"(-?\d+(?:\.\d+)?)({unit_alternatives})?", toks[0])
        assert match is not None
        return Literal(loc, scale(match.group(1), match.group(2)))

    number.set_parse_action(_number_action)

    string = (pp.QuotedString('"', esc_char="\\") | pp.QuotedString("'", esc_char="\\")).set_name("string")
    string.set_parse_action(lambda s, loc, toks: Literal(loc, toks[0]))
    boolean = (keywords["true"] | keywords["false"]).set_parse_action(lambda s, loc, toks: Literal(loc, toks[0] == "true"))
    null = keywords["null"].copy().set_parse_action(lambda s, loc, toks: Literal(loc, None))

    field_ref = pp.Regex(r"[A-Za-z_]\w*\.[A-Za-z_]\w*").set_name("kind.field")
    field_ref.set_parse_action(lambda s, loc, toks: FieldRef(loc, *toks[0].split(".", 1)))
    kind_name = (~reserved + pp.Regex(r"[A-Za-z_]\w*")).set_name("fact kind")
    presence = kind_name.copy().set_parse_action(lambda s, loc, toks: Presence(_at(s, loc), toks[0]))
    quantified_kind = kind_name.copy().set_parse_action(lambda s, loc, toks: [(_at(s, loc), toks[0])])

    regex = pp.Regex(r"/((?:[^/\\\n]|\\.)*)/([imsx]*)").set_name("/regex/")

    def _regex_action(s: str, loc: int, toks: pp.ParseResults) -> Any:
        body = toks[0]
        end = body.rindex("/")
        source, flags_text = body[1:end], body[end + 1:]
        flags = 0
        for letter in flags_text:
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[letter]
        try:
            return [(loc, re.compile(source.replace("\\/", "/"), flags))]
        except re.error as exc:
            raise pp.ParseFatalException(s, loc + 1 + (exc.pos or 0), f"bad regex: {exc.msg}") from None

    regex.set_parse_action(_regex_action)

    expression = pp.Forward()
    literal = number | string | boolean | null
    list_literal = (pp.Suppress("[") + pp.Optional(pp.DelimitedList(literal)) + pp.Suppress("]")).set_name("[list]")
    list_literal.set_parse_action(lambda s, loc, toks: ListLiteral(loc, tuple(toks)))

    quantifier = (
        (keywords["some"] | keywords["no"] | keywords["count"])
        + pp.Suppress("(") + quantified_kind + pp.Optional(pp.Suppress(keywords["where"]) + expression) + pp.Suppress(")")
    ).set_name("some()/no()/count()")
    quantifier.set_parse_action(
        lambda s, loc, toks: Quantifier(_at(s, loc), toks[0], toks[1][1], toks[2] if len(toks) > 2 else None, toks[1][0])
    )

    operand = (quantifier | literal | list_literal | field_ref | presence).set_name("operand")

    def _binary(cls: Callable[..., Node]) -> Callable[[str, int, pp.ParseResults], Node]:
        def action(s: str, loc: int, toks: pp.ParseResults) -> Node:
            items = list(toks[0])
            node = items[0]
            for index in range(1, len(items), 2):
                node = cls(loc, items[index], node, items[index + 1])
            return node
        return action

    arith = pp.infix_notation(
        operand,
        [
            (pp.one_of("* /"), 2, pp.OpAssoc.LEFT, _binary(Arithmetic)),
            (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT, _binary(Arithmetic)),
        ],
    )
    compare_op = (
        pp.one_of("== != <= >= < >")
        | pp.Combine(keywords["not"] + pp.White() + keywords["in"], adjacent=False).set_parse_action(lambda: "not in")
        | keywords["in"]
        | keywords["contains"]
    )
    comparison = (arith + compare_op + arith).set_parse_action(lambda s, loc, toks: Compare(loc, toks[1], toks[0], toks[2]))
    match = (arith + pp.Suppress(keywords["matches"]) + regex).set_parse_action(
        lambda s, loc, toks: Matches(loc, toks[0], toks[1][1])
    )
    atom = comparison | match | arith

    def _flat(cls: type) -> Callable[[str, int, pp.ParseResults], Node]:
        def action(s: str, loc: int, toks: pp.ParseResults) -> Node:
            return cls(loc, tuple(toks[0][0::2]))
        return action

    expression <<= pp.infix_notation(
        atom,
        [
            (keywords["not"], 1, pp.OpAssoc.RIGHT, lambda s, loc, toks: Not(loc, toks[0][1])),
            (keywords["and"], 2, pp.OpAssoc.LEFT, _flat(And)),
            (keywords["or"], 2, pp.OpAssoc.LEFT, _flat(Or)),
        ],
    )
    return expression + pp.StringEnd()


_GRAMMAR = _grammar()


# ---------------------------------------------------------------- compilation

Compiled = Callable[[Env], Any]

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def compile_node(node: Node) -> Compiled:
    """Turn a node into a closure: the same semantics as `node.eval`, without per-node method dispatch.

    Evaluation runs once per fact per rule, so this is the engine's hot path.
    """
    if isinstance(node, Literal):
        value = node.value
        return lambda env: value
    if isinstance(node, FieldRef):
        kind, name = node.kind, node.name

        def field_ref(env: Env) -> Any:
            fact = env.binding.get(kind)
            return None if fact is None else getattr(fact, name, None)
        return field_ref
    if isinstance(node, Presence):
        kind = node.kind
        return lambda env: env.binding.get(kind) is not None
    if isinstance(node, Not):
        operand = compile_node(node.operand)
        return lambda env: not truthy(operand(env))
    if isinstance(node, And):
        items = tuple(compile_node(item) for item in node.items)

        def all_of(env: Env) -> bool:
            for item in items:
                value = item(env)
                if value is None or not value:
                    return False
            return True
        return all_of
    if isinstance(node, Or):
        items = tuple(compile_node(item) for item in node.items)

        def any_of(env: Env) -> bool:
            for item in items:
                value = item(env)
                if value is not None and value:
                    return True
            return False
        return any_of
    if isinstance(node, Compare) and node.op in _ORDERING:
        left, right, order = compile_node(node.left), compile_node(node.right), _ORDERING[node.op]

        def ordered(env: Env) -> bool:
            a, b = left(env), right(env)
            if a is None or b is None:
                return False
            try:
                return order(_number(a), _number(b))
            except TypeError:
                return False
        return ordered
    if isinstance(node, Compare):
        left, right, op = compile_node(node.left), compile_node(node.right), node.op
        return lambda env: compare(op, left(env), right(env))
    if isinstance(node, Arithmetic):
        left, right, op = compile_node(node.left), compile_node(node.right), node.op
        return lambda env: arithmetic(op, left(env), right(env))
    if isinstance(node, ListLiteral):
        items = tuple(compile_node(item) for item in node.items)
        return lambda env: [item(env) for item in items]
    if isinstance(node, Matches):
        left, search = compile_node(node.left), node.pattern.search

        def matches(env: Env) -> bool:
            value = left(env)
            if value is None:
                return False
            if isinstance(value, (tuple, list, set, frozenset)):
                return any(search(str(item)) for item in value)
            return search(value if isinstance(value, str) else str(value)) is not None
        return matches
    return node.eval  # Quantifier: rare, keeps its own scoping logic


# ---------------------------------------------------------------- parsed condition


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed, validated condition and what the engine needs to know about it to plan evaluation."""

    text: str
    root: Node
    bound_kinds: tuple[str, ...]  # kinds bound to one fact each, in order of first mention; [0] is the anchor
    quantified_kinds: tuple[str, ...]
    compiled: Compiled = field(compare=False, repr=False, default=None)  # type: ignore[assignment]

    @property
    def anchor(self) -> str:
        return self.bound_kinds[0]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.bound_kinds, *self.quantified_kinds]))

    def eval(self, env: Env) -> bool:
        return truthy(self.compiled(env))


def walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children():
        out.extend(walk(child))
    return out


def kind_references(node: Node, quantified: frozenset[str] = frozenset()) -> list[tuple[int, str, bool]]:
    """(loc, kind, is_quantified) for every kind mention, respecting the scope of some()/no()/count()."""
    out: list[tuple[int, str, bool]] = []
    if isinstance(node, (FieldRef, Presence)):
        out.append((node.loc, node.kind, node.kind in quantified))
    if isinstance(node, Quantifier):
        out.append((node.loc, node.kind, True))
        if node.where is not None:
            out.extend(kind_references(node.where, quantified | {node.kind}))
        return out
    for child in node.children():
        out.extend(kind_references(child, quantified))
    return out


def _validate(root: Node) -> None:
    for node in walk(root):
        kind = getattr(node, "kind", None)
        if kind is None:
            continue
        if kind not in FACT_KINDS:
            known = ", ".join(sorted(k for k in FACT_KINDS if k != "fact"))
            raise ConditionError(f"unknown fact kind {kind!r} (known: {known})", getattr(node, "kind_loc", node.loc))
        if isinstance(node, FieldRef) and node.name not in FACT_KINDS[kind].field_names():
            fields = ", ".join(FACT_KINDS[kind].field_names())
            raise ConditionError(f"unknown field {node.name!r} of fact kind {kind!r} (fields: {fields})", node.loc)


@functools.lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """Parse and validate once; the same text always yields the same (shared, immutable) Condition."""
    try:
        root = _GRAMMAR.parse_string(text, parse_all=True)[0]
    except pp.ParseFatalException as exc:
        raise ConditionError(exc.msg, exc.loc) from None
    except pp.ParseException as exc:
        found = text[exc.loc:exc.loc + 20].split("\n")[0]
        where = f"near {found!r}" if found else "at the end of the condition"
        raise ConditionError(f"syntax error {where}: {exc.msg}", exc.loc) from None
    return condition_from_tree(text, root)


def condition_from_tree(text: str, root: Node) -> Condition:
    """The Condition of a parsed tree: validated against the fact kinds, kinds planned, compiled. `parse_condition`
    ends here, and so does a tree read back from the rule cache (engine/rule_cache.py), which is never trusted more
    than the parser's own output."""
    _validate(root)
    references = sorted(kind_references(root))
    bound = tuple(dict.fromkeys(kind for _, kind, quantified in references if not quantified))
    quantified = tuple(dict.fromkeys(kind for _, kind, q in references if q))
    if not bound:
        raise ConditionError("the condition must name at least one fact kind outside some()/no()/count()", 0)
    return Condition(text, root, bound, quantified, compile_node(root))
