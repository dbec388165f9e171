"""AsyncJobManagerImpl / VmWorkJobDispatcher lines -> async_job facts (§6)."""

from __future__ import annotations

import json
import re

from diagnostics.facts.registry import ExtractContext, base, extractor
from diagnostics.model import Record
from diagnostics.model.log_facts import AsyncJob

# JSON (4.18+) or toString() renderings; each one its own pattern so that the regex engine can skip to its literal
_CMD_RES = (re.compile(r'"cmd":"([\w.$]+)"'), re.compile(r"cmd: ([\w.$]+)"))
_INSTANCE_RES = (re.compile(r'"instanceType":"(\w+)","instanceId":(\d+)'), re.compile(r"instanceType: (\w+), instanceId: (\d+)"))
_JOB_ID_RES = (re.compile(r'"id":(\d+)'), re.compile(r"\{id:(\d+)"), re.compile(r"job-(\d+)"))
_COMPLETE_RE = re.compile(r"Complete async job-(\d+), jobStatus: (\w+), resultCode: (-?\d+), result: (.*)$", re.DOTALL)
_WORK_RUN_RE = re.compile(r"(Run|Done with run of) VM work job: ([\w.$]+) for VM (\d+), job origin: (\d+)")
_ERRORTEXT_RE = re.compile(r'"errortext":"((?:[^"\\]|\\.)*)"')


def _short(cmd: str | None) -> str | None:
    return cmd.rsplit(".", 1)[-1] if cmd else None


def _leftmost(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    """The first match in `text` of any of `patterns` (as one alternation would find it)."""
    best = None
    for pattern in patterns:
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best.start()):
            best = m
    return best


def _job_fields(rec: Record, text: str) -> dict:
    m = _leftmost(_CMD_RES, text)
    jid = _leftmost(_JOB_ID_RES, text)
    job_id = int(jid.group(1)) if jid else None
    fields = base(rec, command=_short(m.group(1) if m else None), job_id=job_id)
    if fields["job"] is None:
        fields["job"] = job_id
    inst = _leftmost(_INSTANCE_RES, text)
    if inst:
        fields["instance_type"] = inst.group(1)
        fields["instance_id"] = int(inst.group(2))
    return fields


@extractor("submit async job-", "Executing AsyncJob")
def job_started(rec: Record, ctx: ExtractContext):
    msg = rec.message
    phase = "submit" if msg.startswith("submit async job-") else "execute"
    if phase == "execute" and not msg.startswith("Executing AsyncJob"):
        return None
    fields = _job_fields(rec, msg)
    return [AsyncJob(**fields, phase=phase, status="IN_PROGRESS")]


@extractor("Complete async job-")
def job_completed(rec: Record, ctx: ExtractContext):
    m = _COMPLETE_RE.search(rec.message)
    if m is None:
        return None
    job_id = int(m.group(1))
    raw = m.group(4).strip()
    text = raw
    et = _ERRORTEXT_RE.search(raw)
    if et:
        try:
            text = json.loads(f'"{et.group(1)}"')
        except json.JSONDecodeError:
            text = et.group(1)
    fields = base(rec, job_id=job_id)
    if fields["job"] is None:
        fields["job"] = job_id
    return [AsyncJob(**fields, phase="complete", status=m.group(2), result_code=int(m.group(3)), result=text[:1000])]


@extractor("VM work job:")
def work_job(rec: Record, ctx: ExtractContext):
    m = _WORK_RUN_RE.search(rec.message)
    if m is None:
        return None
    fields = base(rec, command=_short(m.group(2)), instance_type="VirtualMachine", instance_id=int(m.group(3)))
    if fields["job"] is None:
        fields["job"] = int(m.group(4))
    fields["job_id"] = fields["work_job"]
    return [AsyncJob(**fields, phase="work_run" if m.group(1) == "Run" else "work_done")]


@extractor("Unable to complete AsyncJob")
def work_job_failed(rec: Record, ctx: ExtractContext):
    fields = _job_fields(rec, rec.message)
    origin = re.search(r"job origin: (\d+)", rec.message)
    if origin and fields["job"] is None:
        fields["job"] = int(origin.group(1))
    cause = next((line.strip() for line in rec.extra[:3] if "Exception" in line or "Error" in line), None)
    return [AsyncJob(**fields, phase="work_failed", status="FAILED", result=cause[:1000] if cause else None)]
