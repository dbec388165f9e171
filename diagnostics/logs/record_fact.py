"""A record -> the generic `log_record` fact: level, logger, side, exceptions and the catalogue's reading of it.

Which records get one (`wants_log_record`): every WARN/ERROR/FATAL record, every record carrying an exception (at any
level: DEBUG records with traces count), and every record a rule's literal text or a catalogue template can match
(`Interest`). Rules and the "never silent" report look at these; all other records cost nothing here.
"""

from __future__ import annotations

import re

from diagnostics.logs.interest import Interest
from diagnostics.logs.masking import area_of, message_shape
from diagnostics.model import Record
from diagnostics.model.log_facts import LogRecord

LOUD_LEVELS = frozenset(("WARN", "ERROR", "FATAL"))
# The literal text every exception name below contains: the fast filter searches for these (see logs/blocks.py).
EXCEPTION_SUFFIXES = ("Exception", "Error", "Throwable")

# A qualified Java class name ending in Exception/Error/Throwable: `com.cloud.exception.X`, `org.libvirt.LibvirtException`,
# `java.lang.OutOfMemoryError`, inner classes with `$`. Frames (`at a.b.C.m(C.java:1)`) are skipped line-wise.
_QUALIFIED_RE = re.compile(r"(?<![\w$.])((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable))(?![\w$])")
# A simple name opening a trace line or a `Caused by:` (`LibvirtException: ...`), as some wrappers print it.
_SIMPLE_RE = re.compile(r"^\s*(?:Caused by:\s*|Suppressed:\s*)?([A-Z][\w$]*(?:Exception|Error|Throwable))(?::|\s*$)")
# A line that opens a header-less excerpt: an exception line (`com.cloud.exception.X: msg`, `Exception in thread ...`).
EXCEPTION_LINE_RE = re.compile(
    r"^\s*(?:Exception in thread \"[^\"]*\"\s+)?(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|\s*$)"
)

# The command a record was written for, from the NDC: VmwareResource (and its secondary-storage handler) push
# `<host>, <job>, cmd: <Command class>` while they execute one (getCommandLogTitle, 4.x).
_NDC_COMMAND_RE = re.compile(r"(?:^|[\s,])cmd: ([A-Z]\w*)")

# Side of a record from its logger (log4j `%c{3}` on agents, `%c{1.}` on the management server) and thread.
AGENT_LOGGERS = ("cloud.agent.", "kvm.resource.", "resource.wrapper.", "utils.nio.Nio", "kvm.storage.", "hypervisor.kvm.")
AGENT_THREADS = ("AgentRequest-Handler", "agentRequest-Handler", "AgentOutRequest-Handler", "Agent-SelfTask",
                 "Agent-Handler", "UgentTask", "AgentStatsCollector")
SYSTEMVM_LOGGERS = ("resource.consoleproxy.", "cloud.consoleproxy.", "consoleproxy.ConsoleProxy",
                    "storage.resource.NfsSecondaryStorageResource", "storage.resource.SecondaryStorage",
                    "storage.template.DownloadManagerImpl", "storage.template.UploadManagerImpl")


def side_of_record(rec: Record) -> str | None:
    """management | agent | systemvm, decided per record (a paste may mix both sides); None without a logger."""
    logger = rec.logger
    if not logger or rec.fmt in ("orphan", "unparsed", "exception"):
        return None
    if logger.startswith(SYSTEMVM_LOGGERS):
        return "systemvm"
    if logger.startswith(AGENT_LOGGERS) or (rec.thread is not None and rec.thread.startswith(AGENT_THREADS)):
        return "agent"
    return "management"


def exceptions_of(rec: Record) -> tuple[str, ...]:
    """Exception class names in a record, outermost first (`Caused by:` included), each once."""
    text = rec.message
    found: dict[str, None] = {}
    if any(s in text for s in EXCEPTION_SUFFIXES):
        for m in _QUALIFIED_RE.finditer(text):
            found.setdefault(m.group(1), None)
        if rec.fmt == "exception":
            m = _SIMPLE_RE.match(text)
            if m:
                found.setdefault(m.group(1), None)
    for line in rec.extra:
        stripped = line.lstrip()
        if stripped.startswith(("at ", "... ")) or not any(s in line for s in EXCEPTION_SUFFIXES):
            continue
        m = _SIMPLE_RE.match(line)
        if m:
            found.setdefault(m.group(1), None)
        for m in _QUALIFIED_RE.finditer(line):
            found.setdefault(m.group(1), None)
    return tuple(found)


def may_carry_exception(text: str) -> bool:
    return any(s in text for s in EXCEPTION_SUFFIXES)


def wants_log_record(rec: Record, interest: Interest) -> tuple[bool, tuple[str, ...]]:
    """(does this record get a log_record fact, its exceptions)."""
    exceptions = exceptions_of(rec) if rec.fmt == "exception" or may_carry_exception(rec.message) or (
        rec.extra and any(may_carry_exception(line) for line in rec.extra)) else ()
    if rec.level in LOUD_LEVELS or exceptions:
        return True, exceptions
    if interest.hit(rec.message) or (rec.extra and interest.hit(rec.text)):
        return True, exceptions
    return False, exceptions


def log_record_of(rec: Record, interest: Interest) -> LogRecord | None:
    """The log_record fact of `rec`, or None when nothing may look at it."""
    wanted, exceptions = wants_log_record(rec, interest)
    if not wanted:
        return None
    catalogue = interest.catalogue
    template = category = relevance = None
    match = catalogue.match(rec.message) if catalogue is not None else None
    if match is None and catalogue is not None and rec.extra:
        for line in rec.extra[:60]:  # the trace's exception line(s): `com.cloud...Exception: <message>`
            if not line.startswith(("\t", " ")) and may_carry_exception(line):
                match = catalogue.match(line)
                if match is not None:
                    break
    if match is not None:
        template, category, relevance = match.template.id, match.template.category, match.template.relevance
    elif exceptions and catalogue is not None:
        for name in (exceptions[0], exceptions[-1]):  # outermost, then innermost (the root cause)
            entry = catalogue.exception_class(name)
            if entry is not None:
                category = entry.get("category") or entry.get("family")
                break
    area = area_of(rec.logger)
    if category is None and area is not None:
        category = area[1]  # a hint only: the unexplained-errors rule reports it with a low confidence
    jobs = rec.jobs
    command = _NDC_COMMAND_RE.search(rec.ndc) if rec.ndc and "cmd: " in rec.ndc else None
    return LogRecord(
        ts=rec.ts, path=rec.path, line=rec.line, text=rec.text,
        job=jobs[0] if jobs else None, work_job=jobs[1] if len(jobs) > 1 else None, logid=rec.logid,
        level=rec.level, logger=rec.logger, thread=rec.thread, side=side_of_record(rec), message=rec.message,
        exceptions=exceptions, template=template, category=category, relevance=relevance,
        origin=rec.origin, loud=rec.level in LOUD_LEVELS or bool(exceptions),
        signature=template or message_shape(rec.message), area=area[0] if area else None,
        command=command.group(1) if command else None,
    )
