"""Write every sample incident: `python samples/_generator` (deterministic; rewrites samples/<incident>/)."""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import i1_scale_dynamic_disabled  # noqa: E402
import i2_stale_capacity_start  # noqa: E402
import i3_libvirt_memory_start  # noqa: E402
import i4_ping_timeout_during_scale  # noqa: E402
import i5_systemvm_agent_iso  # noqa: E402
import i6_journald_wrapped  # noqa: E402
import i7_ticket_paste  # noqa: E402
import i8_healthy_scale  # noqa: E402
import i9_rotated_gz  # noqa: E402
from render import Log  # noqa: E402

MODULES = [i1_scale_dynamic_disabled, i2_stale_capacity_start, i3_libvirt_memory_start, i4_ping_timeout_during_scale, i5_systemvm_agent_iso, i6_journald_wrapped, i7_ticket_paste, i8_healthy_scale, i9_rotated_gz]
ORDER = ["schema", "title", "cloudstack_version", "format_generation", "vm", "tz", "records", "facts", "findings",
         "absent_findings", "root_cause", "follow"]


SEQ_RE = re.compile(r"\b(\d+-\d{12,})\b")
COMMANDS_RE = re.compile(r"Commands (\d{12,}) to Host (\d+)")


def renumber(text: str, mapping: dict[str, str]) -> str:
    """Apply a Seq renumbering to every `host-seq` token (and OperationTimedoutException's bare number)."""
    text = SEQ_RE.sub(lambda m: mapping.get(m.group(1), m.group(1)), text)
    return COMMANDS_RE.sub(lambda m: f"Commands {mapping.get(m.group(2) + '-' + m.group(1), m.group(2) + '-' + m.group(1)).split('-')[1]} to Host {m.group(2)}", text)


def write(inc: dict, root: Path) -> None:
    folder = root / inc["name"]
    folder.mkdir(parents=True, exist_ok=True)
    records: dict[str, int] = {}
    mapping = inc["scenario"].seq_map() if "scenario" in inc else {}
    for rel, content in {**inc.get("logs", {}), **inc.get("files", {})}.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Log):
            text = "\n".join(content.lines()) + "\n"
            records[rel] = content.record_count()
        else:
            text, n = content
            if n is not None:
                records[rel] = n
        data = renumber(text, mapping).encode("utf-8")
        if rel.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        path.write_bytes(data)
    exp = json.loads(renumber(json.dumps(inc["expected"]), mapping))
    exp = {"schema": "csdiag-expected/v1", **exp, "records": records}
    exp = {k: exp[k] for k in ORDER if k in exp}
    (folder / "expected.json").write_text(json.dumps(exp, indent=2) + "\n")


def main(argv: list[str]) -> None:
    """`--out DIR` writes elsewhere (the sample test regenerates into a temp dir and compares bytes)."""
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else HERE.parent
    for mod in MODULES:
        inc = mod.build()
        write(inc, out)
        print(inc["name"])


if __name__ == "__main__":
    main(sys.argv[1:])
