"""ApiServlet `===START===` lines and API access-log lines -> api_call facts for VM lifecycle commands (§1.3)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from diagnostics.catalogue import vocabulary
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import ApiCall

# Only the commands that matter to an offering change; list* polling would drown everything else.
LIFECYCLE = tuple(p.text for p in vocabulary("api_lifecycle_command"))  # catalogue/vocabulary.toml
LIFECYCLE_COMMANDS = {c.lower() for c in LIFECYCLE}
_REQ_RE = re.compile(r"(?:===(START|END)===\s+)?(?P<ip>[\d.:a-fA-F]+) -- (?:GET|POST)\s+(?P<query>\S*command=\S+)(?:\s+(?P<status>\d{3})\b)?")


@extractor(*(f"command={c}" for c in LIFECYCLE))
def api_call(rec: Record, ctx: ExtractContext):
    m = _REQ_RE.search(rec.message)
    if m is None:
        return None
    params = parse_qs(m.group("query"), keep_blank_values=True)
    command = (params.get("command") or [""])[0]
    if command.lower() not in LIFECYCLE_COMMANDS:
        return None
    phase = m.group(1).lower() if m.group(1) else "access"
    safe = {k: v[0] for k, v in params.items() if k.lower() not in ("apikey", "signature", "sessionkey", "password")}
    return [ApiCall(
        **base(rec, vm_uuid=safe.get("id") if "virtualmachine" in command.lower() else None),
        command=command, params="&".join(f"{k}={v}" for k, v in safe.items()), client=m.group("ip"), phase=phase,
        http_status=int(m.group("status")) if m.group("status") else None,
        offering=safe.get("serviceofferingid") or safe.get("serviceOfferingId"),
    )]
