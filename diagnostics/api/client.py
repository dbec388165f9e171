"""One signed, read-only, bounded GET against the CloudStack API, and what went wrong when it fails.

http.client rather than urllib: no redirects are followed (a signed query must not travel to another host),
no proxy from the environment is used, and the whole call is bounded by one deadline (connect, headers
and every body chunk) and a byte cap, so a stalled or endless server cannot hang csdiag or fill memory.
Keys never appear in an error message; URLs in messages carry no query; the server's own error text is
redacted before it is kept or shown (a proxy or an old server may echo the signed query, and a signature
stays valid for 10 minutes).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from diagnostics.bounded import BoundedValueError, loads_json
from diagnostics.api.credentials import ApiCredentials, redact_url
from diagnostics.api.signing import signed_query
from diagnostics.bundle.redact import redact_text

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024

# errorcode -> what it means for the operator (ApiErrorCode.java)
_ERROR_NAMES = {
    401: "unauthorized", 405: "method not allowed", 429: "API request limit exceeded", 430: "malformed parameter",
    431: "bad parameter", 432: "command not available to this account", 503: "service unavailable",
    530: "internal error", 531: "account error", 532: "account resource limit", 533: "insufficient capacity",
    534: "resource unavailable", 535: "resource allocation", 536: "resource in use", 537: "network rule conflict",
}


# apiKey/signature/sessionkey values in a query string, raw or URL-encoded once (`%3FapiKey%3D...%26`: no word
# boundary before the name, so a longer name ending in one of these is redacted too)
_QUERY_SECRET = re.compile(r"(?i)(apikey|signature|sessionkey)(=|%3D)(?!\*\*\*)([^&\s\"'<>]+?)(?=%26|&|\s|[\"'<>]|$)")


def scrub(text: str) -> str:
    """Server text made safe to keep and print: secrets redacted (the bundle redactor plus signed-query values)."""
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***REDACTED***", redact_text(text))


class ApiError(Exception):
    """A failed call, as one operator-readable line. `fatal` = no later call can succeed (credentials, TLS, network)."""

    def __init__(self, kind: str, message: str, *, fatal: bool = False, http_status: int | None = None,
                 error_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind  # auth | tls | unreachable | timeout | http | api | bad_response | too_large
        self.message = message
        self.fatal = fatal
        self.http_status = http_status
        self.error_code = error_code


@dataclass(slots=True)
class ApiReply:
    """The parsed answer of one call: the body inside `<command>response`, and how it was obtained."""

    command: str
    params: dict[str, str]
    answered_at: datetime
    duration_s: float
    size: int
    http_status: int
    body: dict[str, Any] = field(default_factory=dict)


def tls_context(ca_file: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """Verification on by default; a private CA via `ca_file`; `insecure` only on explicit request."""
    context = ssl.create_default_context(cafile=ca_file)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _error_from_body(command: str, status: int, payload: Any) -> ApiError | None:
    """CloudStack answers errors as {"<command>response": {"errorcode": N, "errortext": "..."}}."""
    inner = _unwrap(payload)
    if not isinstance(inner, dict) or "errorcode" not in inner:
        return None
    try:
        code = int(inner.get("errorcode"))
    except (TypeError, ValueError):
        code = status
    text = scrub(" ".join(str(inner.get("errortext") or "").split()))[:500]
    name = _ERROR_NAMES.get(code, "error")
    if code == 401:
        return ApiError("auth", f"{command}: credentials rejected ({code}: {text})",
                        fatal=True, http_status=status, error_code=code)
    return ApiError("api", f"{command}: {code} {name}: {text}", http_status=status, error_code=code)


def _unwrap(payload: Any) -> Any:
    if isinstance(payload, dict) and len(payload) == 1:
        (key, value), = payload.items()
        if key.endswith("response"):
            return value
    return None


class ApiClient:
    """Signs and sends read-only calls to one endpoint. One TCP/TLS connection per call keeps failures local."""

    def __init__(self, credentials: ApiCredentials, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_bytes: int = DEFAULT_MAX_BYTES, context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._creds = credentials
        self._parts = urlsplit(credentials.url)
        self.endpoint = redact_url(credentials.url)
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._context = context if context is not None else tls_context()
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._context)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def call(self, command: str, params: dict[str, str] | None = None) -> ApiReply:
        """Run one list/query command; raise ApiError (one line) on any failure."""
        params = dict(params or {})
        started_wall = self._clock()
        query = signed_query(command, params, self._creds.api_key, self._creds.secret_key, started_wall)
        path = (self._parts.path or "/client/api") + "?" + query
        started = time.monotonic()
        deadline = started + self._timeout_s
        conn = self._connection(self._timeout_s)
        watchdog = _Watchdog(conn, self._timeout_s)
        try:
            status, raw = self._exchange(conn, command, path, deadline, watchdog)
        finally:
            watchdog.cancel()
            conn.close()
        duration = time.monotonic() - started
        try:
            payload = loads_json(raw.decode("utf-8"), source=command)
        except UnicodeDecodeError:
            raise ApiError("bad_response", f"{command}: answer is not UTF-8 text ({len(raw)} bytes)",
                           http_status=status) from None
        except BoundedValueError as exc:  # a deeply nested or huge answer: one line, not a crash
            raise ApiError("bad_response", str(exc), http_status=status) from None
        except json.JSONDecodeError as exc:
            # every CloudStack JSON answer ends with its envelope's closing brace
            problem = "invalid JSON" if raw.rstrip().endswith(b"}") else "truncated JSON"
            raise ApiError("bad_response", f"{command}: {problem} in the answer (HTTP {status}, "
                           f"{len(raw)} bytes, at byte {exc.pos})", http_status=status) from None
        error = _error_from_body(command, status, payload)
        if error is not None:
            raise error
        if status != 200:
            raise ApiError("http", f"{command}: HTTP {status} from {self.endpoint}", http_status=status,
                           fatal=status in (401, 403))
        inner = _unwrap(payload)
        if not isinstance(inner, dict):
            raise ApiError("bad_response", f"{command}: answer is JSON but not a CloudStack "
                           f"'{command.lower()}response' object", http_status=status)
        return ApiReply(command, params, self._clock(), duration, len(raw), status, inner)

    def _exchange(self, conn: http.client.HTTPConnection, command: str, path: str,
                  deadline: float, watchdog: "_Watchdog") -> tuple[int, bytes]:
        where = self.endpoint
        try:
            return self._exchange_unguarded(conn, command, path, deadline)
        except ApiError as exc:
            if watchdog.fired and exc.kind != "too_large":
                raise self._timed_out(command) from None
            raise
        except Exception:
            if watchdog.fired:
                raise self._timed_out(command) from None
            raise

    def _timed_out(self, command: str) -> ApiError:
        return ApiError("timeout", f"{command}: no complete answer from {self.endpoint} within "
                        f"{self._timeout_s:g}s", fatal=False)

    def _exchange_unguarded(self, conn: http.client.HTTPConnection, command: str, path: str,
                            deadline: float) -> tuple[int, bytes]:
        where = self.endpoint
        try:
            conn.request("GET", path, headers={"Accept": "application/json", "User-Agent": "csdiag"})
            _set_timeout(conn, deadline)
            response = conn.getresponse()
            status = response.status
            if 300 <= status < 400:
                target = redact_url(response.getheader("Location") or "?")
                raise ApiError("http", f"{where}: redirected (HTTP {status}) to {target}; use that URL",
                               fatal=True, http_status=status)
            chunks: list[bytes] = []
            size = 0
            while True:
                _set_timeout(conn, deadline)
                chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self._max_bytes:
                    raise ApiError("too_large", f"{command}: answer larger than {self._max_bytes} bytes; "
                                   "stopped reading", http_status=status)
                chunks.append(chunk)
            if response.length:  # the server closed before sending what Content-Length promised
                raise http.client.IncompleteRead(b"".join(chunks), response.length)
            return status, b"".join(chunks)
        except ApiError:
            raise
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or "verification failed"
            raise ApiError("tls", f"{where}: TLS certificate not trusted ({reason}); pass --ca-file PEM "
                           "to trust its CA, or --insecure", fatal=True) from None
        except ssl.SSLError as exc:
            raise ApiError("tls", f"{where}: TLS handshake failed ({exc.reason or exc})", fatal=True) from None
        except http.client.IncompleteRead as exc:
            raise ApiError("bad_response", f"{command}: answer cut short ({len(exc.partial)} bytes received, "
                           f"{exc.expected} more expected)") from None
        except (socket.timeout, TimeoutError):
            raise self._timed_out(command) from None
        except ConnectionRefusedError:
            raise ApiError("unreachable", f"{where}: connection refused", fatal=True) from None
        except socket.gaierror as exc:
            raise ApiError("unreachable", f"{where}: cannot resolve host ({exc.strerror or exc})",
                           fatal=True) from None
        except (http.client.HTTPException, ConnectionError) as exc:
            raise ApiError("bad_response", f"{command}: connection broke while reading the answer "
                           f"({type(exc).__name__})") from None
        except OSError as exc:
            raise ApiError("unreachable", f"{where}: {exc.strerror or exc}", fatal=True) from None


class _Watchdog:
    """The one deadline of a call, whatever the server drips: at expiry the socket is shut down under the reader.

    A socket timeout bounds each wait, not their sum (a header line every 1.5 s under a 5 s timeout goes on for
    as many lines as the server likes, and http.client reads headers line by line); shutting the socket down
    from a timer wakes the blocked read, which then fails and is reported as the timeout it is.
    """

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self._conn = conn
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self._conn.sock
        if sock is not None:
            try:  # the plain socket's shutdown: SSLSocket.shutdown would also drop its SSL object under the reader
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def _set_timeout(conn: http.client.HTTPConnection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("deadline")
    if conn.sock is not None:
        conn.sock.settimeout(remaining)
