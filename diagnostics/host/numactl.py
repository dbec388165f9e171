"""`numactl --hardware` -> NumaNode facts (cpus, size, free per node, distance row).

    >>> out = parse_numactl('''available: 2 nodes (0-1)
    ... node 0 cpus: 0 1 2 3
    ... node 0 size: 128825 MB
    ... node 0 free: 1024 MB
    ... node 1 cpus: 4 5 6 7
    ... node 1 size: 129019 MB
    ... node 1 free: 90112 MB
    ... node distances:
    ... node   0   1
    ...   0:  10  21
    ...   1:  21  10''')
    >>> [(n.node, n.free // 1024**2) for n in out.nodes]
    [(0, 1024), (1, 90112)]

numactl prints sizes in "MB" that are MiB (it divides by 1024*1024). A memory-only node has an empty cpu list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyparsing as pp

from diagnostics.host.sizes import to_bytes
from diagnostics.model.host_facts import NumaNode

_INT = pp.Word(pp.nums).set_parse_action(lambda t: int(t[0]))
_AVAILABLE = pp.Suppress("available:") + _INT("count") + pp.Suppress(pp.one_of("nodes node")) + pp.Regex(r".*")
_NODE_CPUS = pp.Suppress("node") + _INT("node") + pp.Suppress("cpus:") + pp.Group(pp.ZeroOrMore(_INT))("cpus") + pp.StringEnd()
_NODE_MEM = (
    pp.Suppress("node") + _INT("node") + pp.one_of("size: free:")("what")
    + pp.Regex(r"\d+")("num") + pp.Regex(r"[KMGT]?B|kB")("unit") + pp.StringEnd()
)
_DIST_HEADER = pp.Suppress("node") + pp.Group(pp.OneOrMore(_INT))("nodes") + pp.StringEnd()
_DIST_ROW = _INT("node") + pp.Suppress(":") + pp.Group(pp.OneOrMore(_INT))("distances") + pp.StringEnd()


@dataclass(slots=True)
class Node:
    node: int
    cpus: tuple[int, ...] = ()
    size: int | None = None
    free: int | None = None
    distances: tuple[int, ...] = ()
    line: int = 0
    text: str = ""


@dataclass(slots=True)
class NumactlHardware:
    available: int | None = None
    nodes: list[Node] = field(default_factory=list)


def parse_numactl(text: str) -> NumactlHardware:
    out = NumactlHardware()
    by_id: dict[int, Node] = {}
    in_distances = False

    def node(number: int, lineno: int, line: str) -> Node:
        if number not in by_id:
            by_id[number] = Node(node=number, line=lineno, text=line)
            out.nodes.append(by_id[number])
        return by_id[number]

    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("available:"):
            try:
                out.available = _AVAILABLE.parse_string(stripped)["count"]
            except pp.ParseException:
                pass
            continue
        if stripped == "node distances:":
            in_distances = True
            continue
        for grammar in (_NODE_CPUS, _NODE_MEM) if not in_distances else (_DIST_HEADER, _DIST_ROW):
            try:
                parsed = grammar.parse_string(stripped, parse_all=True)
            except pp.ParseException:
                continue
            if grammar is _NODE_CPUS:
                node(parsed["node"], lineno, line).cpus = tuple(parsed["cpus"])
            elif grammar is _NODE_MEM:
                size = to_bytes(parsed["num"], parsed["unit"])
                target = node(parsed["node"], lineno, line)
                if parsed["what"] == "size:":
                    target.size = size
                else:
                    target.free = size
            elif grammar is _DIST_ROW and parsed["node"] in by_id:
                by_id[parsed["node"]].distances = tuple(parsed["distances"])
            break
    return out


def numactl_facts(out: NumactlHardware, *, path: str = "<text>", host: str | None = None) -> list[NumaNode]:
    return [
        NumaNode(path=path, line=n.line, text=n.text, host_name=host, node=n.node, cpus=n.cpus, size=n.size,
                 free=n.free, distances=n.distances)
        for n in out.nodes
    ]
