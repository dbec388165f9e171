"""Host command output -> facts: free, /proc/meminfo, dmesg, sensors, lscpu, numactl, virsh, uptime.

One module per command, each with a pure `parse_<cmd>(text)` and a `<cmd>_facts(result, path=, host=)`;
`detect` recognises the command by content and `evidence` ties it together:

    facts_from_text(text, path=..., host=..., kind=None) -> list[Fact]
    facts_from_file(path, host=None) -> (facts, errors)
"""

from diagnostics.host.detect import KINDS, detect_kind
from diagnostics.host.evidence import facts_from_file, facts_from_text
from diagnostics.host.hostname import host_from_path

__all__ = ["KINDS", "detect_kind", "facts_from_file", "facts_from_text", "host_from_path"]
