"""Why a scale/upgrade was refused or failed (UserVmManagerImpl, VirtualMachineManagerImpl, §5) -> scale_error facts.

The texts come as exception messages: in header lines, on the first line of a stack trace, and again inside the
async job result (`"errortext":"..."`). One fact per reason per record.
"""

from __future__ import annotations

import re

from diagnostics.facts.entities import find_vm
from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import ScaleError

REASONS: tuple[tuple[str, str], ...] = (
    ("Dynamically scaling virtual machines is disabled for this zone", "dynamic_scaling_disabled"),
    ("does not have tools to support dynamic scaling", "not_dynamically_scalable"),
    ("only scalling up it is supported", "scale_down_running"),
    ("only scaling up it is supported", "scale_down_running"),
    ("since it already has the requested service offering", "same_offering"),
    ("has the requested service offering (", "same_offering"),
    ("current service offering is a \"Fixed Offering\"", "fixed_offering"),
    ("make sure the virtual machine is stopped", "not_stopped"),
    ("does not have the required host tags", "host_tags"),
    ("should have tags as subset of", "host_tags"),
    ("due to insufficient resources", "insufficient_resources"),
    ("not enough resources available for an offering of", "insufficient_resources"),
    ("Scaling the VM dynamically is not supported for VMs running on Hypervisor", "hypervisor_unsupported"),
    ("Unable to find a server to scale the vm to", "no_server"),
    ("Unable to scale vm due to", "scale_failed"),
    ("Failed to scale the VM", "scale_failed"),
    ("Invalid cpu cores value, please choose another service offering", "offering_limit"),
    ("Invalid memory value, please choose another service offering", "offering_limit"),
    ("Dynamic scaling of vGPU type is not supported", "vgpu"),
    ("dynamic scaling enabled flag is not same", "dynamic_flag_mismatch"),
    ("is not prepared for dynamic scaling", "not_prepared"),
    ("Operation timed out on reconfiguring", "reconfigure_timeout"),
    ("with an inactive service offering", "inactive_offering"),
    ("New service offering is inactive", "inactive_offering"),
    ("static-max", "hypervisor_limit"),
    ("static max", "hypervisor_limit"),
    ("hot-add", "hypervisor_limit"),
    ("hot add", "hypervisor_limit"),
)
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
