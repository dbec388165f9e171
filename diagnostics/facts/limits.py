"""ResourceLimitManagerImpl -> resource_limit facts (§5).

`Maximum amount of resources of Type = 'memory', tag = 'null' for Account Name = alice in Domain Id = 1 is exceeded: Account Resource Limit = 40960, Current Account Resource Amount = 36864, Current Account Resource Reservation = 0, Requested Resource Amount = 8192.`
The DEBUG line before it starts with `Checking if  amount ...` (two spaces) and carries the same numbers.
"""

from __future__ import annotations

import re

from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import ResourceLimit

_NUM = r"(-?\d+|\([^)]*\) -?\d+|null)"
_ACCOUNT_RE = re.compile(
    r"(Maximum|Checking if)\s+amount of resources of Type = '(?P<type>[^']+)'(?:, tag = '(?P<tag>[^']*)')? for "
    r"(?P<okind>Account|Project) Name = (?P<owner>.+?) in Domain Id = (?P<dom>\S+) is exceeded: Account Resource Limit = " + _NUM
    + r", Current Account Resource Amount = " + _NUM + r"(?:, Current Account Resource Reservation = " + _NUM + r")?, Requested Resource Amount = " + _NUM
)
_DOMAIN_RE = re.compile(
    r"(Maximum|Checking if)\s+domain resource limits of Type '(?P<type>[^']+)' for Domain Id = (?P<dom>\S+) is exceeded: Domain Resource Limit = "
    + _NUM + r", Current Domain Resource Amount = " + _NUM + r"(?:, Current Resource Reservation = " + _NUM + r")?, Requested Resource Amount = " + _NUM
)
_OLD_RE = re.compile(r"Maximum number of resources of type '(?P<type>[^']+)' for (?P<okind>account|domain) (?:name=|id=)(?P<owner>\S+?)(?: in domain id=(?P<dom>\d+))? has been exceeded")


def _n(text: str | None) -> int | None:
    if text is None or text == "null":
        return None
    return int(text.rsplit(" ", 1)[-1])


@extractor("amount of resources of Type", "domain resource limits of Type", "Maximum number of resources of type", in_trace=True)
def resource_limit(rec: Record, ctx: ExtractContext):
    for text in (rec.message, *rec.extra[:3]):
        m = _ACCOUNT_RE.search(text)
        if m:
            limit, current, reservation, requested = (_n(m.group(i)) for i in (7, 8, 9, 10))
            okind, owner, dom = m.group("okind").lower(), m.group("owner"), m.group("dom")
            break
        m = _DOMAIN_RE.search(text)
        if m:
            limit, current, reservation, requested = (_n(m.group(i)) for i in (4, 5, 6, 7))
            okind, owner, dom = "domain", m.group("dom"), m.group("dom")
            break
        m = _OLD_RE.search(text)
        if m:
            limit = current = reservation = requested = None
            okind, owner, dom = m.group("okind"), m.group("owner"), m.group("dom")
            break
    else:
        return None
    if m.re is _OLD_RE or m.group(1) == "Maximum":
        exceeded = True
    else:  # the "Checking if" line: would the request exceed a set limit?
        exceeded = limit is not None and limit >= 0 and (current or 0) + (reservation or 0) + (requested or 0) > limit
    return [ResourceLimit(**base(rec), resource_type=m.group("type"), owner_kind=okind, owner=owner, domain_id=dom,
                          limit=limit, current=current, reservation=reservation, requested=requested, exceeded=exceeded)]
