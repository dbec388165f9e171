"""VM state transitions (CapacityManagerImpl.postStateTransitionEvent, §5) -> vm_state facts.

4.18+: `VM instance {...} state transited from [Starting] to [Running] with event [OperationSucceeded]. VM's original host: Host {...}, new host: Host {...}, host before state transition: null`
older: `VM state transitted from :Starting to Starting with event: OperationRetryvm's original host id: 1 new host id: 1 host id before state transition: 1`
"""

from __future__ import annotations

import re

from diagnostics.facts.entities import find_vm, host_named
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import VmStateTransition

_NEW_RE = re.compile(r"state transited from \[(\w+)\] to \[(\w+)\] with event \[(\w+)\]\. VM's original host: ")
_NEW_HOST, _HOST_BEFORE = ", new host: ", ", host before state transition: "
_OLD_RE = re.compile(
    r"state transitted from :(\w+) to (\w+) with event: (\w+?)vm's original host id: (\d+|null) new host id: (\d+|null) host id before state transition: (\d+|null)"
)


def _host_id(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    ref = host_named(text)
    return ref.id if ref else None


@extractor("state transited from [", "state transitted from :")
def vm_state(rec: Record, ctx: ExtractContext):
    msg = rec.message
    m = _NEW_RE.search(msg)
    if m is not None:  # the three hosts are cut at their literal separators (a lazy regex costs more)
        rest = msg[m.end():]
        i = rest.find(_NEW_HOST)
        j = rest.find(_HOST_BEFORE, i + len(_NEW_HOST)) if i != -1 else -1
        if j == -1:
            return None
        hosts = (rest[:i], rest[i + len(_NEW_HOST):j], rest[j + len(_HOST_BEFORE):])
    else:
        m = _OLD_RE.search(msg)
        if m is None:
            return None
        hosts = (m.group(4), m.group(5), m.group(6))
    vm = find_vm(msg[: m.start()] or msg)
    last, new, before = (_host_id(text.strip()) for text in hosts)
    host = new if new is not None else (before if before is not None else last)
    return [VmStateTransition(
        **base(rec, vm=vm and vm.name, vm_uuid=vm and vm.uuid, host_id=host),
        from_state=m.group(1), to_state=m.group(2), event=m.group(3),
        last_host_id=last, new_host_id=new, old_host_id=before,
    )]
