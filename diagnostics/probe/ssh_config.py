"""The operator's ~/.ssh/config, read the way `ssh` reads it (paramiko's SSHConfig), so `csdiag probe kvm01` reaches
the host `ssh kvm01` reaches: Host patterns, HostName, User, Port, IdentityFile and ProxyJump.

Precedence, as in ssh: what the HOST argument says (user@, :port), then csdiag's flags (--user, --port,
--identity, --jump), then the config file, then csdiag's own probe defaults (config file, CSDIAG_PROBE_*), then the
built-in ones (root, 22). ProxyJump hops are looked up in the same
file (an alias there is resolved too); `ProxyJump none` means no jump host. Options csdiag does not implement
(ProxyCommand, Match exec, ...) are not guessed at: the host is reached directly, as the rest of the entry says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import paramiko

DEFAULT_SSH_CONFIG = Path("~/.ssh/config")
MAX_CONFIG_BYTES = 1024 * 1024
MAX_JUMPS = 8  # a ProxyJump chain longer than this is a loop in the config


class SshConfigError(ValueError):
    """The config file cannot be used; one line naming it."""


@dataclass(frozen=True, slots=True)
class HostEntry:
    """What the config says about one alias (None: the config says nothing)."""

    hostname: str | None = None
    user: str | None = None
    port: int | None = None
    identity_files: tuple[Path, ...] = ()
    proxy_jump: str | None = None


def load_ssh_config(path: Path) -> paramiko.SSHConfig:
    """Parse the file; SshConfigError (one line) when it is unreadable or not an ssh config."""
    path = path.expanduser()
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise SshConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; not an ssh config")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SshConfigError(f"{path}: cannot read the ssh config ({exc.strerror or exc})") from None
    try:
        return paramiko.SSHConfig.from_text(text)
    except Exception as exc:  # paramiko raises bare Exception subclasses (e.g. ConfigParseError) for bad lines
        raise SshConfigError(f"{path}: cannot parse the ssh config ({exc})") from None


def host_entry(config: paramiko.SSHConfig | None, alias: str) -> HostEntry:
    """The entry for `alias` (every matching Host block merged, first value wins, as ssh does)."""
    if config is None:
        return HostEntry()
    try:
        found = config.lookup(alias)
    except Exception as exc:  # a token paramiko cannot expand, a Match it cannot run
        raise SshConfigError(f"ssh config entry for {alias}: {exc}") from None
    port = found.get("port")
    try:
        port_number = int(port) if port is not None else None
    except ValueError:
        raise SshConfigError(f"ssh config entry for {alias}: Port {port!r} is not a number") from None
    if port_number is not None and not 0 < port_number < 65536:
        raise SshConfigError(f"ssh config entry for {alias}: Port {port_number} is out of range")
    jump = found.get("proxyjump")
    hostname = found.get("hostname")
    return HostEntry(
        hostname=hostname if hostname and hostname != alias else None,
        user=found.get("user"),
        port=port_number,
        identity_files=tuple(Path(name).expanduser() for name in found.get("identityfile", [])),
        proxy_jump=None if jump is None or jump.strip().lower() == "none" else jump.strip(),
    )


def resolve_target(text: str, options, config: paramiko.SSHConfig | None) -> "Target":
    """HOST as typed -> the Target to connect to, with its user, port, identity and jump hosts filled in.

    `options` is a ProbeOptions; its user/port/identity/jump are the flags (None: not given).
    """
    return _resolve(text, options, config, jump_flag=options.jump, depth=0)


def _resolve(text: str, options, config: paramiko.SSHConfig | None, *, jump_flag: str | None, depth: int) -> "Target":
    from diagnostics.probe.options import DEFAULT_PORT, DEFAULT_USER, Target, parse_target

    if depth > MAX_JUMPS:
        raise SshConfigError(f"{text}: more than {MAX_JUMPS} jump hosts (a ProxyJump loop in the ssh config?)")
    raw = parse_target(text.removeprefix("ssh://"), "", DEFAULT_PORT)
    entry = host_entry(config, raw.host)
    user = raw.user if raw.explicit_user else (options.user or entry.user or options.default_user or DEFAULT_USER)
    port = raw.port if raw.explicit_port else (options.port or entry.port or options.default_port or DEFAULT_PORT)
    if options.identity is not None:
        identity: tuple[Path, ...] = (options.identity,)
    else:  # ssh skips IdentityFile entries that do not exist; so does csdiag
        identity = tuple(path for path in entry.identity_files if path.is_file())
        if not identity and options.default_identity is not None:
            identity = (options.default_identity,)
    hops = jump_flag if jump_flag is not None else entry.proxy_jump
    jump = None
    if hops:
        # "a,b": a is reached first (through its own ProxyJump, if any), then b through a, then this host through b
        names = [hop.strip() for hop in hops.split(",") if hop.strip()]
        for index, hop in enumerate(names):
            hop_target = _resolve(hop, options, config, jump_flag=None if index == 0 else "", depth=depth + 1)
            jump = hop_target if jump is None else _with_jump(hop_target, jump)
    return Target(
        host=entry.hostname or raw.host, port=port, user=user, explicit_port=raw.explicit_port,
        name=raw.host if entry.hostname else None, identity=identity, jump=jump, explicit_user=raw.explicit_user,
    )


def _with_jump(target: "Target", jump: "Target") -> "Target":
    from dataclasses import replace

    return replace(target, jump=jump)
