"""Opening an SSH session to one host (optionally through a jump host) with verified host keys.

Every failure becomes a ConnectFailed carrying one line for the user and a status: 'unreachable'
(network), 'refused' (host key or authentication). Passwords never come from argv.
"""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass, field

import paramiko

from diagnostics.probe.hostkeys import (
    AcceptNewHostKey,
    HostKeyRefused,
    RejectUnknownHostKey,
    changed_key_message,
    fingerprint,
    load_known_hosts,
)
from diagnostics.probe.options import ProbeOptions, Target

# paramiko logs transport failures (with tracebacks) at ERROR; unhandled, Python's last-resort handler
# would print them on stderr. Every failure already reaches the user as one ConnectFailed line.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


class ConnectFailed(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Session:
    """An authenticated connection; close() also closes the jump host's connection.

    run_id marks every remote process this session starts (commands.remote_command_line), so that they can be
    found and killed when the probe stops early (commands.kill_run_script).
    """

    client: paramiko.SSHClient
    target: Target
    host_key_type: str
    host_key_fingerprint: str
    accepted_new_key: bool = False
    via: list[paramiko.SSHClient] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: f"csdiag-{secrets.token_hex(8)}")

    def close(self) -> None:
        for client in [self.client, *self.via]:
            try:
                client.close()
            except Exception:  # closing a dead transport may raise; nothing left to do
                pass


def _new_client(options: ProbeOptions) -> tuple[paramiko.SSHClient, AcceptNewHostKey | None]:
    client = paramiko.SSHClient()
    load_known_hosts(client, options.known_hosts)
    if options.accept_new_host_key:
        policy = AcceptNewHostKey(options.known_hosts)
        client.set_missing_host_key_policy(policy)
        return client, policy
    client.set_missing_host_key_policy(RejectUnknownHostKey(options.known_hosts))
    return client, None


def _authenticate_and_verify(
    client: paramiko.SSHClient, target: Target, options: ProbeOptions, sock: paramiko.Channel | None, password: str | None
) -> None:
    try:
        _connect_client(client, target, options, sock, password)
    except paramiko.SSHException as exc:
        # paramiko's words when it had no key, no agent and no password to try: an authentication failure too.
        if str(exc) == "No authentication methods available":
            raise paramiko.AuthenticationException("no key, agent or password to try; use --identity or CSDIAG_SSH_PASSWORD") from None
        raise


def _connect_client(
    client: paramiko.SSHClient, target: Target, options: ProbeOptions, sock: paramiko.Channel | None, password: str | None
) -> None:
    client.connect(
        target.host,
        port=target.port,
        username=target.user,
        password=password,
        key_filename=[str(path) for path in _identity(target, options)] or None,
        look_for_keys=not _identity(target, options),
        allow_agent=options.use_agent,
        timeout=options.connect_timeout,
        banner_timeout=options.connect_timeout,
        auth_timeout=options.connect_timeout,
        channel_timeout=options.connect_timeout,
        sock=sock,
    )


def _identity(target: Target, options: ProbeOptions) -> tuple:
    """The target's own key files (resolved from --identity or its ssh config entry), else --identity."""
    return target.identity or ((options.identity,) if options.identity else ())


def _connect_one(target: Target, options: ProbeOptions, sock: paramiko.Channel | None, password_box: dict) -> Session:
    """Connect, verify the host key, authenticate: keys/agent first, then a password if one is available."""
    name = target.label
    client, policy = _new_client(options)
    try:
        try:
            _authenticate_and_verify(client, target, options, sock, options.password)
        except paramiko.AuthenticationException:
            if options.password is not None or sock is not None:
                raise
            password = _ask_password(target, options, password_box)
            if password is None:
                raise
            client.close()
            client, policy = _new_client(options)
            _authenticate_and_verify(client, target, options, None, password)
        transport = client.get_transport()
        key = transport.get_remote_server_key()
        return Session(
            client=client,
            target=target,
            host_key_type=key.get_name(),
            host_key_fingerprint=fingerprint(key),
            accepted_new_key=bool(policy and policy.accepted),
        )
    except HostKeyRefused as exc:
        client.close()
        raise ConnectFailed("refused", f"{name}: {exc}") from None
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise ConnectFailed("refused", f"{name}: {changed_key_message(exc.key, exc.expected_key, options.known_hosts)}") from None
    except paramiko.PasswordRequiredException:
        client.close()
        key = ", ".join(map(str, _identity(target, options))) or "a key in ~/.ssh"
        raise ConnectFailed("refused", f"{name}: {key} is encrypted; load it into ssh-agent (or pass its passphrase as CSDIAG_SSH_PASSWORD)") from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise ConnectFailed("refused", f"{name}: authentication failed for user {target.user} ({exc})") from None
    except ConnectFailed:
        client.close()
        raise
    except (socket.timeout, TimeoutError):
        client.close()
        raise ConnectFailed("unreachable", f"{name}: unreachable: connection timed out after {options.connect_timeout:g} s"
                                           f"{_where(target)}") from None
    except (OSError, paramiko.SSHException, EOFError) as exc:
        client.close()
        reason = _reason(exc)
        raise ConnectFailed("unreachable", f"{name}: unreachable: {reason}{_where(target)}") from None


def _where(target: Target) -> str:
    """The address and port tried, when the label does not show them (they came from a config, not the HOST typed)."""
    if target.explicit_port and not target.name:
        return ""
    return f" ({target.host}:{target.port})" if ":" not in target.host else f" ([{target.host}]:{target.port})"


def _reason(exc: BaseException) -> str:
    """The OS's words ('Connection refused') rather than paramiko's wrapper around them."""
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError) and exc.errors:
        return "; ".join(sorted({error.strerror or str(error) for error in exc.errors.values()}))
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _ask_password(target: Target, options: ProbeOptions, password_box: dict) -> str | None:
    """Ask once per run (the box is shared by all hosts and guarded by the caller's lock)."""
    if options.password_prompt is None:
        return None
    lock = password_box["lock"]
    with lock:
        if "password" not in password_box:
            password_box["password"] = options.password_prompt(f"SSH password for {target.user}@{target.label}: ")
        return password_box["password"]


def open_session(target: Target, options: ProbeOptions, password_box: dict) -> Session:
    """Connect to target, through its jump hosts when it has any (SSH direct-tcpip channels, like ssh -J)."""
    if target.jump is None:
        return _connect_one(target, options, None, password_box)
    jump_target = target.jump
    try:
        jump = open_session(jump_target, options, password_box)
    except ConnectFailed as exc:
        raise ConnectFailed(exc.status, f"{target.label}: jump host failed: {exc}") from None
    try:
        channel = jump.client.get_transport().open_channel(
            "direct-tcpip", (target.host, target.port), ("127.0.0.1", 0), timeout=options.connect_timeout
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        jump.close()
        raise ConnectFailed("unreachable", f"{target.label}: unreachable through jump host {jump_target.label}: {exc}") from None
    try:
        session = _connect_one(target, options, channel, password_box)
    except ConnectFailed:
        jump.close()
        raise
    session.via.extend([jump.client, *jump.via])
    return session
