"""`virsh list --all` -> DomainListing facts, one per row.

    >>> rows = parse_virsh_list(''' Id   Name        State
    ... ----------------------------
    ...  5    i-2-42-VM   running
    ...  -    i-2-43-VM   shut off''')
    >>> [(r.domain_id, r.name, r.state) for r in rows]
    [(5, 'i-2-42-VM', 'running'), (None, 'i-2-43-VM', 'shut off')]

States can be two words ("shut off", "in shutdown"); domain names cannot contain spaces in CloudStack.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyparsing as pp

from diagnostics.model.host_facts import DomainListing

STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended", "blocked", "no state", "dying")
_HEADER = pp.CaselessKeyword("Id") + pp.CaselessKeyword("Name") + pp.CaselessKeyword("State") + pp.Regex(r".*")
_ROW = (
    pp.Regex(r"\d+|-")("id")
    + pp.Regex(r"\S+")("name")
    + pp.one_of(STATES)("state")
    + pp.StringEnd()
)


@dataclass(slots=True)
class ListedDomain:
    domain_id: int | None
    name: str
    state: str
    line: int
    text: str


def parse_virsh_list(text: str) -> list[ListedDomain]:
    """Rows after the ` Id Name State` header and its dashes; anything else is skipped."""
    rows: list[ListedDomain] = []
    seen_header = False
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or set(stripped) == {"-"}:
            continue
        if not seen_header:
            try:
                _HEADER.parse_string(stripped)
                seen_header = True
            except pp.ParseException:
                pass
            continue
        try:
            parsed = _ROW.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            continue
        rows.append(ListedDomain(None if parsed["id"] == "-" else int(parsed["id"]), parsed["name"], parsed["state"],
                                 lineno, line))
    return rows


def virsh_list_facts(rows: list[ListedDomain], *, path: str = "<text>", host: str | None = None) -> list[DomainListing]:
    return [
        DomainListing(path=path, line=r.line, text=r.text, host_name=host, vm=r.name, domain_id=r.domain_id,
                      name=r.name, state=r.state)
        for r in rows
    ]
