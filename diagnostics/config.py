"""Defaults from config files and the environment, so an operator states the zone, rule folders and noisy rules once.

Precedence, highest first: command-line flags > environment (`CSDIAG_*`) > user file
(`$XDG_CONFIG_HOME/csdiag/config.toml`, `~/.config/...` when unset) > system file (`/etc/csdiag/config.toml`).
A scalar comes from the highest layer that sets it; the lists (`rules`, `ignore`) accumulate over the layers, so a
user's rule folder adds to the site's instead of hiding it. Every value remembers where it came from, which
`csdiag config show` prints. A broken file is one warning naming it; the other layers still apply.

    tz = "UTC"                      # zone of naive log timestamps
    rules = ["/srv/csdiag-rules"]   # extra rule folders
    ignore = ["host.memory-pressure"]  # rule ids (or fnmatch patterns) never to report
    ping_interval = 60.0            # ping.interval of the management server, seconds
    ping_timeout = 2.5              # ping.timeout multiplier
    [probe]                         # probe defaults (env: CSDIAG_PROBE_USER, CSDIAG_PROBE_PORT, ...)
    user = "root"
    port = 22
    identity = "~/.ssh/id_ed25519"
    known_hosts = "~/.ssh/known_hosts"
    since = "2h"
    timeout = 10                    # connect timeout, seconds
    ssh_config = "~/.ssh/config"

The probe's user, port and identity are defaults in the place of the built-in ones (root, 22, agent and ~/.ssh
keys): what the HOST argument and the flags say wins, then the operator's ~/.ssh/config entry for that host (as for
`ssh`), then these values.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEM_FILE = Path("/etc/csdiag/config.toml")

_SCALARS = {"tz": str, "ping_interval": float, "ping_timeout": float}
_LISTS = ("rules", "ignore")
_PROBE = {"user": str, "port": int, "identity": str, "known_hosts": str, "since": str, "timeout": float,
          "ssh_config": str}
_ENV = {"tz": "CSDIAG_TZ", "ping_interval": "CSDIAG_PING_INTERVAL", "ping_timeout": "CSDIAG_PING_TIMEOUT",
        "rules": "CSDIAG_RULES", "ignore": "CSDIAG_IGNORE"}
PROBE_ENV = {key: f"CSDIAG_PROBE_{key.upper()}" for key in _PROBE}  # CSDIAG_PROBE_USER, CSDIAG_PROBE_PORT, ...
DEFAULTS: dict[str, Any] = {"tz": None, "ping_interval": 60.0, "ping_timeout": 2.5, "rules": [], "ignore": []}


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=lambda: {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()})
    sources: dict[str, str] = field(default_factory=lambda: {k: "default" for k in DEFAULTS})
    list_sources: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in _LISTS})
    probe: dict[str, Any] = field(default_factory=dict)
    probe_sources: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, "read" | "absent" | error)
    warnings: list[str] = field(default_factory=list)

    def get(self, key: str) -> Any:
        return self.values[key]

    def set(self, key: str, value: Any, source: str) -> None:
        if key in _LISTS:
            for item in value:
                if item not in self.values[key]:
                    self.values[key].append(item)
                    self.list_sources[key].append(source)
            if value:
                self.sources[key] = source if self.sources[key] == "default" else self.sources[key] + ", " + source
        else:
            self.values[key] = value
            self.sources[key] = source


def user_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "csdiag" / "config.toml"


def system_file() -> Path:
    return Path(os.environ.get("CSDIAG_SYSTEM_CONFIG") or SYSTEM_FILE)


def load_config(flags: dict[str, Any] | None = None) -> Config:
    """The merged configuration; `flags` are the command line's values (None or empty = not given)."""
    cfg = Config()
    for path, label in ((system_file(), "system file"), (user_file(), "user file")):
        _apply_file(cfg, path, label)
    for key, var in _ENV.items():
        raw = os.environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            value = _env_value(key, raw)
        except ValueError:
            cfg.warnings.append(f"{var}={raw!r}: not a number, ignored")
            continue
        cfg.set(key, value, f"env {var}")
    for key, var in PROBE_ENV.items():
        raw = os.environ.get(var)
        if raw is None or raw == "":
            continue
        _set_probe(cfg, key, raw, f"env {var}", f"{var}={raw!r}")
    for key, value in (flags or {}).items():
        if value is None or value == [] or value == ():
            continue
        cfg.set(key, list(value) if key in _LISTS else value, "flag")
    return cfg


def _env_value(key: str, raw: str) -> Any:
    if key == "rules":
        return [p for p in raw.split(os.pathsep) if p]
    if key == "ignore":
        return [p.strip() for p in raw.split(",") if p.strip()]
    return _SCALARS[key](raw)


def _apply_file(cfg: Config, path: Path, label: str) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        cfg.files.append((str(path), "absent"))
        return
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        cfg.files.append((str(path), f"unreadable: {exc}"))
        cfg.warnings.append(f"{path}: config file ignored: {exc}")
        return
    cfg.files.append((str(path), "read"))
    source = f"{label} {path}"
    for key, value in data.items():
        if key in _SCALARS:
            try:
                cfg.set(key, _SCALARS[key](value), source)
            except (TypeError, ValueError):
                cfg.warnings.append(f"{path}: {key} = {value!r} is not a {_SCALARS[key].__name__}, ignored")
        elif key in _LISTS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                cfg.warnings.append(f"{path}: {key} must be a list of strings, ignored")
                continue
            if key == "rules":  # relative rule folders are relative to the file that names them
                items = [str((path.parent / os.path.expanduser(x)).resolve()) if not os.path.isabs(os.path.expanduser(x))
                         else os.path.expanduser(x) for x in items]
            cfg.set(key, items, source)
        elif key == "probe" and isinstance(value, dict):
            for pkey, pvalue in value.items():
                if pkey not in _PROBE:
                    cfg.warnings.append(f"{path}: unknown key probe.{pkey} (known: {', '.join(_PROBE)}), ignored")
                    continue
                _set_probe(cfg, pkey, pvalue, source, f"{path}: probe.{pkey} = {pvalue!r}")
        else:
            cfg.warnings.append(f"{path}: unknown key {key!r} (known: {', '.join([*_SCALARS, *_LISTS, 'probe'])}), ignored")


def _set_probe(cfg: Config, key: str, value: Any, source: str, where: str) -> None:
    """One probe default; a value of the wrong type (a bool or float where a port goes, too) is one warning."""
    kind = _PROBE[key]
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float)):
            raise ValueError
        converted = kind(value)
    except (TypeError, ValueError):
        cfg.warnings.append(f"{where} is not a {kind.__name__}, ignored")
        return
    if key == "port" and not 0 < converted < 65536:
        cfg.warnings.append(f"{where} is out of range, ignored")
        return
    if key == "timeout" and not 0 < converted <= 3600:
        cfg.warnings.append(f"{where} must be between 0 and 3600 seconds, ignored")
        return
    cfg.probe[key] = converted
    cfg.probe_sources[key] = source


def show_lines(cfg: Config) -> list[str]:
    """`csdiag config show`: every value with where it came from, then the files looked at."""
    lines = []
    for key in ("tz", "ping_interval", "ping_timeout"):
        value = cfg.values[key]
        shown = "local zone" if key == "tz" and value is None else value
        lines.append(f"{key} = {shown}    # {cfg.sources[key]}")
    for key in _LISTS:
        if not cfg.values[key]:
            lines.append(f"{key} = []    # default")
        for item, source in zip(cfg.values[key], cfg.list_sources[key]):
            lines.append(f"{key} += {item}    # {source}")
    for pkey, value in cfg.probe.items():
        lines.append(f"probe.{pkey} = {value}    # {cfg.probe_sources[pkey]}")
    for path, state in cfg.files:
        lines.append(f"# file {path}: {state}")
    lines.append("# precedence: flags > environment (CSDIAG_*) > user file > system file; lists accumulate")
    return lines
