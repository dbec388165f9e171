"""What a probe run is asked to do: targets, authentication, limits. Pure parsing, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from diagnostics.bounded import bounded_seconds, parse_number
from diagnostics.probe.commands import CommandSpec

DEFAULT_USER = "root"
DEFAULT_PORT = 22
DEFAULT_SINCE_SECONDS = 6 * 3600
DEFAULT_PARALLEL = 8
PASSWORD_ENV = "CSDIAG_SSH_PASSWORD"

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str) -> int:
    """'2h' -> 7200. Accepts s, m, h, d, w suffixes or plain seconds; raises ValueError otherwise."""
    match = _SINCE.match(text)
    if not match:
        raise ValueError(f"cannot read duration {text!r}: use e.g. 90s, 30m, 2h, 1d")
    seconds = int(bounded_seconds(parse_number(match.group(1), what="--since") * _UNIT_SECONDS[match.group(2).lower()],
                                  what="--since"))
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return seconds


@dataclass(slots=True, frozen=True)
class Target:
    """One host to probe, as given on the command line: [user@]host[:port] or [user@][v6addr]:port.

    `host` is the address connected to; `name` the alias typed when ~/.ssh/config turned it into another HostName.
    `identity` and `jump` are this host's own (from --identity/--jump or its ssh config entry); a jump is itself a
    Target, reached first (through its own jump, if any).
    """

    host: str
    port: int
    user: str
    explicit_port: bool = False
    name: str | None = None
    identity: tuple[Path, ...] = ()
    jump: "Target | None" = None
    explicit_user: bool = False

    @property
    def label(self) -> str:
        """The name shown to people and used for the output folder: the alias typed, else the address."""
        shown = self.name or self.host
        return f"{shown}:{self.port}" if self.explicit_port else shown


# No control characters anywhere: they are never part of a user or host name, and printed raw in the host's label
# they would drive the operator's terminal.
_TARGET = re.compile(r"^(?:(?P<user>[^@\s\x00-\x1f\x7f-\x9f]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:@\s\[\]\x00-\x1f\x7f-\x9f]+))(?::(?P<port>\d{1,5}))?$")


def parse_target(text: str, default_user: str, default_port: int) -> Target:
    """'root@kvm01:2222' -> Target('kvm01', 2222, 'root'); raises ValueError on anything else."""
    match = _TARGET.fullmatch(text.strip())
    if not match:
        raise ValueError(f"cannot read host {text!r}: use [user@]host[:port]")
    port = int(match.group("port")) if match.group("port") else default_port
    if not 0 < port < 65536:
        raise ValueError(f"port of {text!r} is out of range")
    host = match.group("v6") or match.group("host")
    return Target(host=host, port=port, user=match.group("user") or default_user, explicit_port=bool(match.group("port")),
                  explicit_user=bool(match.group("user")))


@dataclass(slots=True, kw_only=True)
class ProbeOptions:
    """Everything run_probe needs besides the host list.

    `commands` replaces the standard allow-list (tests add a slow or noisy spec this way; the CLI never does).
    `password` comes from CSDIAG_SSH_PASSWORD or `password_prompt` (a getpass wrapper), never from argv.
    user/port/identity/jump are the flags: None when not given, so that ~/.ssh/config (`ssh_config`, None: read
    no config) can fill them per host before the defaults do. default_user/port/identity are csdiag's config-file
    and CSDIAG_PROBE_* defaults, which take the place of the built-in ones (root, 22, agent and ~/.ssh keys).
    """

    user: str | None = None
    port: int | None = None
    identity: Path | None = None
    default_user: str | None = None
    default_port: int | None = None
    default_identity: Path | None = None
    jump: str | None = None
    ssh_config: Path | None = None
    known_hosts: Path = field(default_factory=lambda: Path.home() / ".ssh" / "known_hosts")
    accept_new_host_key: bool = False
    sudo: bool = False
    capture_seconds: int = 0
    capture_port: int = 8250
    since_seconds: int = DEFAULT_SINCE_SECONDS
    out: Path | None = None
    parallel: int = DEFAULT_PARALLEL
    connect_timeout: float = 10.0
    password: str | None = None
    password_prompt: Callable[[str], str | None] | None = None
    use_agent: bool = True
    agent_properties_path: str = "/etc/cloudstack/agent/agent.properties"
    agent_log_path: str = "/var/log/cloudstack/agent/agent.log"
    agent_log_bytes: int = 64 * 1024 * 1024
    capture_bytes: int = 32 * 1024 * 1024
    commands: tuple[CommandSpec, ...] | None = None
