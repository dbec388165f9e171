"""The shared vocabulary: records, facts, findings.

Every stage speaks these types: `logs` turns bytes into `Record`s, `facts`/`host`/`heartbeat`
turn records and command output into `Fact`s, the engine turns facts into `Finding`s.
A fact always points back at its evidence (path:line) so a finding can cite it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

FACT_KINDS: dict[str, type["Fact"]] = {}
_CTX_RE = re.compile(r"ctx-[0-9a-fA-F]+")


@dataclass(slots=True, frozen=True)
class Evidence:
    """Where something was seen: a file, a 1-based line number and the line itself."""

    path: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(slots=True)
class Record:
    """One log entry: a header line plus its continuation lines (stack traces, wrapped bodies)."""

    path: str
    line: int
    ts: datetime | None
    level: str | None
    logger: str | None
    thread: str | None
    ndc: str | None
    jobs: tuple[int, ...]
    logid: str | None
    message: str
    extra: list[str] = field(default_factory=list)
    fmt: str = "unparsed"
    note: str | None = None
    origin: str | None = None  # a collector's host/server token written before the timestamp (`mgmt01 2024-...`)

    @property
    def ctx(self) -> tuple[str, ...]:
        """The context ids of the NDC (`ctx-3d84aa87`), read when asked: only the timeline shows them."""
        return tuple(_CTX_RE.findall(self.ndc)) if self.ndc else ()

    @property
    def api_job(self) -> int | None:
        return self.jobs[0] if self.jobs else None

    @property
    def work_job(self) -> int | None:
        return self.jobs[1] if len(self.jobs) > 1 else None

    @property
    def text(self) -> str:
        """The whole entry, header and continuation, as one string."""
        return "\n".join([self.message, *self.extra]) if self.extra else self.message

    def evidence(self) -> Evidence:
        return Evidence(self.path, self.line, self.message[:500])


@dataclass(slots=True, kw_only=True)
class Fact:
    """Base of every fact kind. Subclasses set `kind` and add typed fields.

    The entity keys (host, vm, job, logid) are common to all kinds so that the rule engine can join
    facts of different kinds without knowing them.
    """

    kind: ClassVar[str] = "fact"
    ts: datetime | None = None
    path: str = ""
    line: int = 0
    text: str = ""
    host_id: int | None = None
    host_name: str | None = None
    vm: str | None = None
    vm_uuid: str | None = None
    job: int | None = None
    work_job: int | None = None
    logid: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # no super(): slots=True dataclasses rebuild the class, which breaks zero-argument super()
        if "kind" in cls.__dict__:
            FACT_KINDS[cls.kind] = cls

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.path, self.line, self.text)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The field names in order, looked up once per class (dataclasses.fields() per fact was a third of the time
        of writing a busy timeline as JSON)."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
        return names

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in self.field_names():
            value = getattr(self, name)
            if type(value) not in _PLAIN:
                if isinstance(value, datetime):
                    value = value.isoformat()
                elif isinstance(value, (tuple, frozenset, set)):
                    value = sorted(value) if isinstance(value, (frozenset, set)) else list(value)
            out[name] = value
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_PLAIN = (str, int, bool, float, type(None))  # values to_dict passes on as they are


SEVERITIES = ("critical", "warning", "info")
# The categories of the Change-VM-Offering mission: every one has rules (tests/rules checks it).
CORE_CATEGORIES = (
    "insufficient_capacity",
    "start_failed",
    "stale_capacity",
    "scale_rejected",
    "libvirt_memory",
    "resource_limit",
    "agent_connectivity",
    "host_resource",
    "storage",
    "network",
    "other",
)
# CloudStack areas the message catalogue (diagnostics/catalogue) needs beyond the mission's: a log_record fact or
# a rule may carry them; rules for them come as operators need them.
CATEGORIES = CORE_CATEGORIES + ("hypervisor", "ha", "tls", "alert", "permission", "invalid_parameter", "concurrency")


@dataclass(slots=True, kw_only=True)
class Finding:
    """What a rule concluded, grouped over repeats on the same entities."""

    rule_id: str
    category: str
    severity: str
    confidence: float
    title: str
    message: str
    entities: dict[str, Any] = field(default_factory=dict)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    count: int = 1
    symptom_of: list[str] = field(default_factory=list)
    benign: bool = False
    fallback: bool = False  # from a generic rule (a catalogue failure template, an unexplained error): never a root cause


from diagnostics.model import log_facts as _log_facts  # noqa: E402,F401  (registers the kinds)
from diagnostics.model import host_facts as _host_facts  # noqa: E402,F401
from diagnostics.model import heartbeat_facts as _heartbeat_facts  # noqa: E402,F401
from diagnostics.model import api_facts as _api_facts  # noqa: E402,F401
