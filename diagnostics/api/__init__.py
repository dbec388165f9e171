"""CloudStack API evidence: a signed, read-only snapshot of what the management server believes.

`csdiag api-snapshot` collects it (credentials -> signing -> client -> collect -> snapshot); `analyze`,
`runbook` and `bundle create` read it back with `is_snapshot_folder` and `facts_from_snapshot`, whose facts
join log and host facts on `host_name`, `vm` (instance name) and `vm_uuid`. A file of pasted answers or cmk
output is recognised by `looks_like_api_text` and read by `facts_from_api_file`.
"""

from diagnostics.api.read_snapshot import (
    facts_from_api_file, facts_from_api_text, facts_from_snapshot, is_snapshot_folder, looks_like_api_text,
)

__all__ = ["facts_from_api_file", "facts_from_api_text", "facts_from_snapshot", "is_snapshot_folder",
           "looks_like_api_text"]
