"""libvirt/qemu failures on start and live scale -> libvirt_error and start_failure facts (§7, §8).

The agent logs `LibvirtException ` with the exception on the next line; the management server relays the same
text in `Unable to start VM on <host> due to <text>` and `Unable to scale vm due to <text>`.
"""

from __future__ import annotations

import re

from diagnostics.catalogue import vocabulary
from diagnostics.facts.entities import find_host, find_vm
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import LibvirtError, StartFailure

# The libvirt error prefixes and the failure signatures (first match wins) are data: catalogue/vocabulary.toml.
_PREFIXES = tuple((p.text, p.event) for p in vocabulary("libvirt_error_class"))
_SIGNATURES = tuple((p.event, p.regex()) for p in vocabulary("libvirt_signature"))


def classify(text: str) -> tuple[str, str]:
    """(error_class, signature) of a libvirt/qemu message."""
    error_class = "other"
    for prefix, cls in _PREFIXES:
        if prefix in text:
            error_class = cls
            break
    for name, rx in _SIGNATURES:
        if rx.search(text):
            return error_class, name
    return error_class, "other"


def _operation(logger: str | None, text: str) -> str:
    logger = logger or ""
    if "Start" in logger or "startVM" in text or "domainCreateXML" in text:
        return "start"
    if "Scale" in logger or "scale" in text.lower():
        return "scale"
    if "Stop" in logger:
        return "stop"
    if "Migrat" in logger:
        return "migrate"
    return "other"


@extractor("LibvirtException", in_trace=True)
def libvirt_exception(rec: Record, ctx: ExtractContext):
    for text in (rec.message, *rec.extra[:10]):
        i = text.find("LibvirtException: ")
        if i >= 0:
            message = text[i + len("LibvirtException: "):].strip()
            break
    else:
        return None
    error_class, signature = classify(message)
    vm = find_vm(message) or find_vm(rec.message)
    return [LibvirtError(
        **base(rec, vm=vm and vm.name), operation=_operation(rec.logger, rec.text[:4000]), message=message[:1000],
        error_class=error_class, signature=signature, domain=vm and vm.name, reported_by="agent",
    )]


_SCALE_AGENT_RE = re.compile(r"Unable to scale (VM \{.*?\}) memory to \[(\d+) KiB\], CPU cores to \[(\d+)\].*? due to \[(.*)\]\.?$", re.DOTALL)


@extractor("Unable to scale VM {", "is not prepared for dynamic scaling")
def libvirt_scale_failure(rec: Record, ctx: ExtractContext):
    msg = rec.message
    m = _SCALE_AGENT_RE.search(msg)
    if m is not None:
        inner = m.group(4)
    elif "is not prepared for dynamic scaling" in msg:
        inner = msg
    else:
        return None
    error_class, signature = classify(inner)
    vm = find_vm(msg)
    reported_by = "agent" if (rec.logger or "").startswith(("resource.", "kvm.")) else "management"
    return [LibvirtError(**base(rec, vm=vm and vm.name), operation="scale", message=inner[:1000],
                         error_class=error_class, signature=signature, domain=vm and vm.name, reported_by=reported_by)]


@extractor("Unable to start VM on ", "Unable to start instance '", "due to error in finalizeStart")
def start_failure(rec: Record, ctx: ExtractContext):
    msg = rec.message
    vm = find_vm(msg)
    if msg.startswith("Unable to start VM on "):
        host = find_host(msg)
        details = msg.split(" due to ", 1)[1] if " due to " in msg else ""
        out = [StartFailure(**base(rec, host_id=host and host.id, host_name=host and host.name, vm=vm and vm.name),
                            event="host_failed", details=details[:1000])]
        error_class, signature = classify(details)
        if error_class != "other" or signature != "other":
            out.append(LibvirtError(**base(rec, host_id=host and host.id, host_name=host and host.name, vm=vm and vm.name),
                                    operation="start", message=details[:1000], error_class=error_class,
                                    signature=signature, domain=vm and vm.name, reported_by="management"))
        return out
    if msg.startswith("Unable to start instance '"):
        return [StartFailure(**base(rec, vm=vm and vm.name), event="gave_up", details=msg[:500])]
    return [StartFailure(**base(rec, vm=vm and vm.name), event="finalize_failed", details=msg[:500])]


@extractor("Couldn't retrieve free memory")
def balloon_warning(rec: Record, ctx: ExtractContext):
    return [LibvirtError(**base(rec), operation="stats", message=rec.message[:200], error_class="other",
                         signature="balloon_free_memory", reported_by="agent")]
