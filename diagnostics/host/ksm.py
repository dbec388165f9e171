"""KSM (kernel same-page merging) counters, as `grep -H . /sys/kernel/mm/ksm/*` prints them -> a KsmState fact.

    >>> state = parse_ksm('''/sys/kernel/mm/ksm/run:1
    ... /sys/kernel/mm/ksm/pages_sharing:2621440''')
    >>> (state.values["run"], state.values["pages_sharing"])
    (1, 2621440)

KSM lets a KVM host overcommit memory; when merging stops (run=0, or guests change their pages) the host's real
usage grows without any VM being resized, which is why it matters next to a scale-up. The kernel logs nothing
about KSM in dmesg, so these counters are the only evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyparsing as pp

from diagnostics.model.host_facts import KsmState

PAGE_SIZE = 4096  # x86_64 base page; KSM merges base pages only
_LINE = pp.Regex(r"(?:/sys/kernel/mm/ksm/)(?P<key>[a-z_]+):(?P<value>.*)") + pp.StringEnd()


@dataclass(slots=True)
class Ksm:
    values: dict[str, int]
    line: int
    text: str


def parse_ksm(text: str) -> Ksm:
    values: dict[str, int] = {}
    first, first_text = 0, ""
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            parsed = _LINE.parse_string(line.strip(), parse_all=True)
        except pp.ParseException:
            continue
        raw = parsed["value"].strip()
        if raw.lstrip("-").isdigit():
            values[parsed["key"]] = int(raw)
            if not first:
                first, first_text = lineno, line
    return Ksm(values=values, line=first, text=first_text)


def ksm_facts(ksm: Ksm, *, path: str = "<text>", host: str | None = None) -> list[KsmState]:
    v = ksm.values
    if not v:
        return []
    sharing = v.get("pages_sharing")
    return [
        KsmState(
            path=path, line=ksm.line, text=ksm.text, host_name=host,
            running=v["run"] == 1 if "run" in v else None,
            pages_shared=v.get("pages_shared"), pages_sharing=sharing, pages_unshared=v.get("pages_unshared"),
            pages_volatile=v.get("pages_volatile"), full_scans=v.get("full_scans"),
            pages_to_scan=v.get("pages_to_scan"), sleep_ms=v.get("sleep_millisecs"),
            merge_across_nodes=v["merge_across_nodes"] == 1 if "merge_across_nodes" in v else None,
            saved=sharing * PAGE_SIZE if sharing is not None else None,
        )
    ]
