"""Clock offset between the management server and each agent, so that cross-file timelines line up.

The probe measures it (its manifest's clock offset); otherwise it is estimated from commands seen on both sides:
the agent logs `Request:Seq h-n` shortly after the management server logged `Seq h-n: Sending`, so the median of
(agent time - management time) over matched Seq numbers bounds the offset (it includes the network delay).
"""

from __future__ import annotations

from statistics import median


def estimate_skew(collected) -> dict | None:
    for item in collected.inputs:
        if item.get("kind") == "probe" and item.get("clock_offset_s") is not None:
            return {"host": item.get("host"), "offset_s": item["clock_offset_s"], "method": "measured by the probe"}
    sent: dict[str, float] = {}
    received: dict[str, tuple[float, str | None]] = {}
    for f in collected.facts:
        if f.kind != "agent_command" or f.ts is None or not f.seq or f.ts.tzinfo is None:
            continue
        if f.action in ("sending", "executing"):
            sent.setdefault(f.seq, f.ts.timestamp())
        elif f.action == "request":
            received.setdefault(f.seq, (f.ts.timestamp(), f.host_name))
    deltas = [received[s][0] - sent[s] for s in sent.keys() & received.keys()]
    if not deltas:
        return None
    return {"offset_s": round(median(deltas), 3), "pairs": len(deltas),
            "method": "estimated from Seq numbers logged on both sides (includes network delay)"}
