"""Where the API endpoint and keys come from: cmk's config file or the environment, never the command line.

cmk (apache/cloudstack-cloudmonkey, config/config.go) keeps an INI file at `~/.cmk/config`: global keys
(`profile`, `timeout`, `verifycert`, ...) sit before the first section (go-ini's DEFAULT section), then
one section per server profile with `url`, `apikey`, `secretkey` (and `username`/`password`/`domain`,
which csdiag does not use). The older Python cloudmonkey wrote a `[core]` section for the same global
keys and `verifysslcert`; both shapes are read here.

Environment variables, as the `cs` client and the Terraform provider name them:
`CLOUDSTACK_ENDPOINT` or `CLOUDSTACK_API_URL`, `CLOUDSTACK_KEY` or `CLOUDSTACK_API_KEY`,
`CLOUDSTACK_SECRET` or `CLOUDSTACK_SECRET_KEY`.

cmk's global `timeout` (seconds, default 1800) bounds each whole HTTP request in cmk (Go's http.Client.Timeout,
config.go newHTTPClient); csdiag uses it as its per-call deadline when `--timeout` is not given. 0 means "no
timeout" to Go; csdiag never runs without one, so 0 keeps csdiag's default.

TLS verification stays on even when a cmk profile says `verifycert = false`: turning it off is an explicit
`--insecure` on csdiag's command line (the flag carries no secret). `config_verifycert` is kept so the error
message can say why cmk worked where csdiag refuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

DEFAULT_CMK_CONFIG = Path("~/.cmk/config")
_CORE_SECTIONS = {"core", "default"}
_ENV_URL = ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_API_URL")
_ENV_KEY = ("CLOUDSTACK_KEY", "CLOUDSTACK_API_KEY")
_ENV_SECRET = ("CLOUDSTACK_SECRET", "CLOUDSTACK_SECRET_KEY")
_FALSE = {"false", "no", "0", "off"}


class CredentialError(ValueError):
    """Credentials are missing or unreadable; the message names the file/profile/variable, never a key."""


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """Endpoint and keys for one management server. repr() never shows the keys."""

    url: str
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    source: str = ""  # "cmk ~/.cmk/config [prod]" or "environment"
    config_verifycert: bool = True
    config_timeout_s: float | None = None  # cmk's `timeout`, when set to a positive number of seconds


@dataclass(frozen=True, slots=True)
class CmkConfig:
    core: dict[str, str]
    profiles: dict[str, dict[str, str]]


def _unquote(value: str) -> str:
    value = value.strip()
    for quote in ('"""', '"', "'", "`"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return value[len(quote):-len(quote)]
    return value


def parse_cmk_config(text: str) -> CmkConfig:
    """Read cmk's INI: keys before any section (or in [core]/[DEFAULT]) are global, other sections profiles.

    Inline `#` is kept as part of a value (cmk loads with IgnoreInlineComment).

    >>> cfg = parse_cmk_config("profile = prod\\n[prod]\\nurl = https://ms/client/api\\napikey = k\\n")
    >>> cfg.core["profile"], cfg.profiles["prod"]["url"]
    ('prod', 'https://ms/client/api')
    """
    core: dict[str, str] = {}
    profiles: dict[str, dict[str, str]] = {}
    current = core
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            current = core if name.lower() in _CORE_SECTIONS else profiles.setdefault(name, {})
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if sep:
            current[key.strip().lower()] = _unquote(value)
    return CmkConfig(core, profiles)


def _first_env(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def redact_url(url: str) -> str:
    """The endpoint without user info, query or fragment: what a manifest may record.

    >>> redact_url("https://admin:pw@ms.example:8443/client/api?apiKey=x")
    'https://ms.example:8443/client/api'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialError(f"{where}: API URL must be http(s)://host[:port]/client/api, got {redact_url(url)!r}")
    return url


def load_credentials(profile: str | None = None, url: str | None = None, config_path: Path | None = None,
                     env: Mapping[str, str] | None = None) -> ApiCredentials:
    """Pick credentials: an explicit --profile reads cmk's file; else the environment; else cmk's default profile.

    `url` (from --url) overrides the endpoint, never the keys.
    """
    env = os.environ if env is None else env
    if profile is None:
        key, secret = _first_env(env, _ENV_KEY), _first_env(env, _ENV_SECRET)
        if key and secret:
            endpoint = url or _first_env(env, _ENV_URL)
            if not endpoint:
                raise CredentialError("environment: CLOUDSTACK_KEY/CLOUDSTACK_SECRET are set but no endpoint; "
                                      "set CLOUDSTACK_ENDPOINT or pass --url")
            return ApiCredentials(_check_url(endpoint, "environment"), key, secret, "environment")
    path = (config_path or DEFAULT_CMK_CONFIG).expanduser()
    where = str(path)
    try:
        if path.stat().st_size > 1_000_000:
            raise CredentialError(f"{where}: too large for a cmk config file")
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise CredentialError(f"no credentials: {where} does not exist and CLOUDSTACK_KEY/CLOUDSTACK_SECRET "
                              "are not set (configure cmk or export them)") from None
    except OSError as exc:
        raise CredentialError(f"{where}: cannot read ({exc.strerror or exc})") from None
    cfg = parse_cmk_config(text)
    name = profile or cfg.core.get("profile") or ""
    if not name:
        raise CredentialError(f"{where}: no profile named; pass --profile (profiles: {', '.join(cfg.profiles) or 'none'})")
    section = cfg.profiles.get(name)
    if section is None:
        raise CredentialError(f"{where}: no profile [{name}] (profiles: {', '.join(cfg.profiles) or 'none'})")
    api_key, secret_key = section.get("apikey", ""), section.get("secretkey", "")
    if not api_key or not secret_key:
        raise CredentialError(f"{where} [{name}]: apikey and secretkey are required "
                              "(csdiag does not log in with username/password)")
    endpoint = url or section.get("url", "")
    if not endpoint:
        raise CredentialError(f"{where} [{name}]: no url")
    verify = section.get("verifycert", section.get("verifysslcert",
                         cfg.core.get("verifycert", cfg.core.get("verifysslcert", "true"))))
    return ApiCredentials(_check_url(endpoint, f"{where} [{name}]"), api_key, secret_key,
                          f"cmk {where} [{name}]", verify.strip().lower() not in _FALSE,
                          _seconds(section.get("timeout", cfg.core.get("timeout"))))


def _seconds(value: str | None) -> float | None:
    """cmk's `timeout` as go-ini reads it into an int: a positive whole number of seconds, else not set."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return float(seconds) if seconds > 0 else None
