"""AlertManagerImpl alerts and CapacityChecker low-capacity messages -> alert facts (§3)."""

from __future__ import annotations

import re

from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import Alert

_ALERT_RE = re.compile(r"alertType=\[([^\]]*)\] dataCenterId=\[([^\]]*)\] podId=\[([^\]]*)\] clusterId=\[([^\]]*)\] message=\[(.*)\]\.?$")
_PCT_RE = re.compile(r"\(([\d.]+)%\)")


@extractor("alertType=[", "System Alert: Low", "is low, total:")
def alert(rec: Record, ctx: ExtractContext):
    msg = rec.message
    m = _ALERT_RE.search(msg)
    pct = _PCT_RE.search(msg)
    if m:
        return [Alert(**base(rec), alert_type=m.group(1), message=m.group(5)[:500], percent=float(pct.group(1)) if pct else None)]
    kind = "memory" if "Memory" in msg or "memory" in msg else ("cpu" if "CPU" in msg else "capacity")
    return [Alert(**base(rec), alert_type=f"low_{kind}", message=msg[:500], percent=float(pct.group(1)) if pct else None)]
