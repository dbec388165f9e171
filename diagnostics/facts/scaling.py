"""Why a scale/upgrade was refused or failed (UserVmManagerImpl, VirtualMachineManagerImpl, §5) -> scale_error facts.

The texts come as exception messages: in header lines, on the first line of a stack trace, and again inside the
async job result (`"errortext":"..."`). One fact per reason per record.
"""

from __future__ import annotations

import re

from diagnostics.catalogue import vocabulary
from diagnostics.facts.entities import find_vm
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import ScaleError

# (phrase, reason), first match per reason: CloudStack's own texts, kept in the catalogue's vocabulary.toml
REASONS: tuple[tuple[str, str], ...] = tuple((p.text, p.event) for p in vocabulary("scale_error"))
_SIZES_RE = re.compile(
    r'New service offering \{"memory": (\d+), "speed": (\d+), "cpu": (\d+)\}.*?current values \{"memory": (\d+), "speed": (\d+), "cpu": (\d+)\}'
)


@extractor(*(k for k, _ in REASONS), in_trace=True)
def scale_error(rec: Record, ctx: ExtractContext):
    out = []
    done = set()
    for text in (rec.message, *rec.extra[:3]):
        if '\\"' in text:  # an errortext inside a JSON job result: read it as the exception said it
            text = text.replace('\\"', '"')
        for key, reason in REASONS:
            if key in text and reason not in done:
                if reason == "hypervisor_limit" and "scal" not in text.lower():
                    continue
                done.add(reason)
                vm = find_vm(text) or find_vm(rec.message)
                start = text.find(key)
                excerpt = text[max(0, start - 200): start + 400].strip()
                kw = {}
                if reason == "scale_down_running":
                    m = _SIZES_RE.search(text)
                    if m:
                        nm, ns, nc, cm, cs, cc = (int(x) for x in m.groups())
                        kw = dict(new_memory=nm << 20, new_speed=ns, new_cpu=nc, current_memory=cm << 20, current_speed=cs, current_cpu=cc)
                out.append(ScaleError(**base(rec, vm=vm and vm.name, vm_uuid=vm and vm.uuid), reason=reason, message=excerpt[:600], **kw))
    # "scale_failed" repeats the more specific reason's text; keep it only when it is all we have
    if len(out) > 1:
        out = [f for f in out if f.reason != "scale_failed"] or out
    return out
