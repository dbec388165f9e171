"""Render catalogue templates as CloudStack would log them, in every header generation a template exists in.

Reusable: the record-stream and end-to-end tests build their corpora with `corpus()` / `render_line()`.
Values are realistic for their placeholder type (hosts and VMs in the rendering of the release's generation,
sizes as `(4.00 GB) 4294967296`), and never contain another template's literal text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from diagnostics.catalogue import PLACEHOLDER_RE, Catalogue, Template, load_exceptions

_EXCEPTIONS = load_exceptions()
_JDK_PACKAGES = {"IOException": "java.io", "FileNotFoundException": "java.io", "RuntimeException": "java.lang",
                 "IllegalArgumentException": "java.lang", "IllegalStateException": "java.lang",
                 "ConfigurationException": "javax.naming", "SSLException": "javax.net.ssl"}

# header generation -> the releases (catalogue release lines) it covers
GENERATIONS = {
    "log4j1-nologid": ("4.11", "4.13"),  # <= 4.14 as operators paste it: `(Job-Executor-11:job-1076)` without logid
    "log4j1": ("4.15", "4.16", "4.17", "4.18", "4.19"),
    "log4j2": ("4.20", "4.21", "4.22"),
    "log4j2-iso": ("4.20",),  # early 4.20 builds: ISO `T` between date and time
    "journald": ("4.11", "4.13", "4.15", "4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22"),
}
_AGENT_SIDE = ("kvm", "agent")


def _host(gen: str, rng: random.Random) -> str:
    hid = rng.randint(1, 40)
    if gen.startswith("log4j2"):
        return f'Host {{"id":{hid},"uuid":"0b6e{hid:04d}-1c2d-4e5f-8a9b-0c1d2e3f4a5b","name":"kvm{hid:02d}","type":"Routing"}}'
    return rng.choice([f"Host[-{hid}-Routing]", f"{hid}"])


def _vm(gen: str, rng: random.Random) -> str:
    vid = rng.randint(10, 999)
    if gen.startswith("log4j2"):
        return f'VM instance {{"id":{vid},"instanceName":"i-2-{vid}-VM","uuid":"5b0c{vid:04d}-aaaa-4bbb-8ccc-0d0e0f101112","type":"User"}}'
    return f"VM[User|i-2-{vid}-VM]"


def value(kind: str, gen: str, rng: random.Random) -> str:
    """A realistic rendering of a placeholder of type `kind` in header generation `gen`."""
    if kind == "host":
        return _host(gen, rng)
    if kind == "vm":
        return _vm(gen, rng)
    if kind == "id":
        return rng.choice([str(rng.randint(1, 5000)), "5b0c1d2e-aaaa-4bbb-8ccc-0d0e0f101112"])
    if kind == "int":
        return str(rng.randint(2, 64))
    if kind == "num":
        return rng.choice([str(rng.randint(1, 32000)), f"{rng.uniform(0, 4):.1f}"])
    if kind == "size":
        gb = rng.choice([1, 2, 4, 8, 16, 32])
        return rng.choice([f"({gb}.00 GB) {gb << 30}", str(gb << 30)])
    if kind == "mhz":
        return str(rng.choice([1000, 2000, 2400, 16000]))
    if kind == "duration":
        return rng.choice(["30000", "60", "3600 ms"])
    if kind == "list":
        return rng.choice(["[]", "[4, 7]", "[kvm01, kvm02]"])
    if kind == "word":
        return rng.choice(["Running", "KVM", "10.1.1.5", "Stopped"])
    # free text: plain words, so that a value never carries another template's literal text
    return rng.choice(["zone 1 pod 2", "kvm01 on 10.1.1.5", "requested 4 vCPUs"])


def render_message(template: Template, gen: str, rng: random.Random) -> str:
    text = template.text
    out: list[str] = []
    pos = 0
    for m in PLACEHOLDER_RE.finditer(text):
        out.append(text[pos:m.start()])
        out.append(value(m.group("type") or "text", gen, rng))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _logger(template: Template, gen: str) -> str:
    parts = template.cls.split(".")
    if gen.startswith("log4j2") and not template.id.startswith(_AGENT_SIDE):
        return ".".join([p[0] for p in parts[:-1]] + parts[-1:]) if len(parts) > 1 else template.cls
    return ".".join(parts[-3:]) if len(parts) > 1 else f"c.c.{template.cls}"


def _lineage(name: str) -> list[str]:
    chain = []
    while name and name not in chain:
        chain.append(name)
        name = _EXCEPTIONS.get(name, {}).get("parent", "")
    return chain


def exception_line(exception: str, message: str) -> str:
    """`package.Class: text` as CloudStack's getMessage() prints it: a ResourceUnavailableException says which
    resource is unreachable first (`Resource [Host:4] is unreachable: Host 4: ...`), an InsufficientCapacityException
    appends its scope (`...Scope=interface com.cloud.dc.DataCenter; id=1`)."""
    package = (_EXCEPTIONS.get(exception, {}).get("package") or _JDK_PACKAGES.get(exception)
               or "com.cloud.utils.exception")
    lineage = _lineage(exception)
    if "ResourceUnavailableException" in lineage:
        # the scope is the thrower's choice: always the host for an agent, the pool for storage; the data centre is
        # the common one of the others (routers, networks: `Resource [DataCenter:1] is unreachable: ...`)
        scope = {"AgentUnavailableException": "Host", "StorageUnavailableException": "StoragePool"}.get(
            exception, "StoragePool" if "StorageUnavailableException" in lineage else "DataCenter")
        if exception == "AgentUnavailableException":
            message = f"Host 4: {message}"
        message = f"Resource [{scope}:4] is unreachable: {message}"
    elif "InsufficientCapacityException" in lineage:
        message = f"{message}Scope=interface com.cloud.dc.DataCenter; id=1"
    return f"{package}.{exception}: {message}"


def _level(template: Template) -> str:
    return template.level if template.level in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL") else "ERROR"


def render_line(template: Template, gen: str, rng: random.Random, message: str | None = None) -> list[str]:
    """The lines of one record of `template` in generation `gen` (an exception's text comes as the first line of a
    trace under a WARN/ERROR header that says nothing of its own)."""
    msg = message if message is not None else render_message(template, gen, rng)
    level = _level(template)
    if template.level == "EXCEPTION":
        exc = template.exception or "CloudRuntimeException"
        lines = ["Unable to complete the operation", exception_line(exc, msg),
                 "\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1234)"]
    else:
        lines = [msg]
    logger = f"{_logger(template, gen):<0}"
    if gen == "log4j1-nologid":
        head = f"2019-06-10 10:20:30,123 {level:<5} [{logger}] (Job-Executor-11:job-1076) "
    elif gen == "log4j1":
        head = f"2022-06-10 10:20:30,123 {level:<5} [{logger}] (Work-Job-Executor-17:ctx-2b9a7c1d job-61/job-62 ctx-8f1e2d3c) (logid:2b9a7c1d) "
    elif gen == "log4j2":
        head = f"2025-01-02 03:04:05,678 {level:<5} [{logger}] (Work-Job-Executor-146:[ctx-5e6f7a8b, job-1025/job-1171, ctx-77aa01bc]) (logid:5e6f7a8b) "
    elif gen == "log4j2-iso":
        head = f"2024-06-02T03:04:05,678 {level:<5} [{logger}] (Work-Job-Executor-146:[ctx-5e6f7a8b, job-1025/job-1171]) (logid:5e6f7a8b) "
    else:  # journald: `journalctl -u cloudstack-management` drops log4j's timestamp for its own
        head = f"Sep 03 01:12:08 mgmt01 java[2720]: {level:<5} [{logger}] (Work-Job-Executor-17:ctx-2b9a7c1d job-61/job-62) (logid:2b9a7c1d) "
    first = head + lines[0]
    rest = lines[1:]
    if gen == "journald":
        rest = [f"Sep 03 01:12:08 mgmt01 java[2720]: {line}" for line in rest]
    return [first, *rest]


@dataclass(frozen=True)
class Rendered:
    template: Template
    generation: str
    lines: tuple[str, ...]
    message: str  # the text the template must be recognised in (header's message or the trace line)


def generations_of(template: Template) -> list[str]:
    releases = set(template.releases) or {"4.22"}
    return [gen for gen, covered in GENERATIONS.items() if releases & set(covered)]


def corpus(catalogue: Catalogue, relevance: str = "failure", seed: int = 11) -> Iterator[Rendered]:
    """Every template of `relevance`, rendered in every header generation it exists in.

    A benign template with examples is rendered by its examples: whether it is routine can hang on the value
    (`Found the following agents behind on ping: []` is, the same line naming hosts is not)."""
    rng = random.Random(seed)
    for template in catalogue.templates:
        if template.relevance != relevance:
            continue
        for gen in generations_of(template):
            if relevance == "benign" and template.examples:
                for msg in template.examples:
                    yield Rendered(template, gen, tuple(render_line(template, gen, rng, msg)), msg)
                continue
            msg = render_message(template, gen, rng)
            lines = render_line(template, gen, rng, msg)
            yield Rendered(template, gen, tuple(lines), msg)
