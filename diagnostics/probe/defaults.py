"""ProbeOptions from the command line, csdiag's config (files and CSDIAG_PROBE_*) and the operator's ~/.ssh/config.

One builder for `csdiag probe` and `bundle create --probe`, so both reach a host the same way: flags win, then the
environment, the user file and the system file (`csdiag config show` lists them), then the built-in defaults.
User, port and identity from csdiag's config are only defaults: a Host entry of ~/.ssh/config is more specific and
wins over them, as it would for `ssh` (see ssh_config.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from diagnostics.probe.options import DEFAULT_SINCE_SECONDS, PASSWORD_ENV, ProbeOptions, parse_since
from diagnostics.probe.ssh_config import DEFAULT_SSH_CONFIG

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


class ProbeSettingError(ValueError):
    """A flag or a configured default cannot be used; one line naming it."""


def build_probe_options(
    *,
    user: str | None = None,
    port: int | None = None,
    identity: Path | None = None,
    jump: str | None = None,
    ssh_config: Path | None = None,
    known_hosts: Path | None = None,
    since: str | None = None,
    config: Any = None,
    **rest: Any,
) -> ProbeOptions:
    """Flags (None: not given) merged with `config` (a diagnostics.config.Config; None: load it now).

    `rest` goes to ProbeOptions unchanged (out, sudo, capture_seconds, ...). Raises ProbeSettingError.
    """
    if config is None:
        from diagnostics.config import load_config

        config = load_config()
    probe = config.probe

    def pick(key: str, flag_name: str, flag_value: Any) -> tuple[Any, str]:
        """The flag when given, else the configured value; with the name an error line should use."""
        if flag_value is not None or key not in probe:
            return flag_value, flag_name
        return probe[key], f"probe.{key} ({config.probe_sources[key]})"

    since_text, since_name = pick("since", "--since", since)
    try:
        since_seconds = parse_since(since_text) if since_text is not None else DEFAULT_SINCE_SECONDS
    except ValueError as exc:
        raise ProbeSettingError(f"{since_name}: {exc}") from None

    default_identity = None
    if identity is not None:
        identity = identity.expanduser()
        if not os.access(identity, os.R_OK):
            raise ProbeSettingError(f"--identity {identity}: cannot read the key file")
    elif probe.get("identity"):
        default_identity = Path(probe["identity"]).expanduser()
        if not os.access(default_identity, os.R_OK):
            raise ProbeSettingError(f"probe.identity ({config.probe_sources['identity']}) {default_identity}: "
                                    "cannot read the key file")

    chosen, config_name = pick("ssh_config", "--ssh-config", ssh_config)
    if chosen is not None:
        chosen_config: Path | None = Path(chosen).expanduser()
        if not chosen_config.is_file():
            raise ProbeSettingError(f"{config_name} {chosen}: no such file")
    else:  # ~/.ssh/config when it exists, as ssh does
        default = DEFAULT_SSH_CONFIG.expanduser()
        chosen_config = default if default.is_file() else None

    hosts_file = known_hosts if known_hosts is not None else Path(probe.get("known_hosts") or DEFAULT_KNOWN_HOSTS)
    options = ProbeOptions(
        user=user,
        port=port,
        identity=identity,
        jump=jump,
        ssh_config=chosen_config,
        default_user=probe.get("user"),
        default_port=probe.get("port"),
        default_identity=default_identity,
        known_hosts=hosts_file.expanduser(),
        since_seconds=since_seconds,
        password=os.environ.get(PASSWORD_ENV) or None,
        **rest,
    )
    if "timeout" in probe:
        options.connect_timeout = probe["timeout"]
    return options
