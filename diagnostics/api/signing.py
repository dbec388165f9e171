"""Request signing exactly as the management server verifies it (ApiServer.verifyRequest).

The server sorts the received parameter names (case-sensitive), re-encodes every value with Java's
`URLEncoder.encode(value, "UTF-8")` and `+` -> `%20`, joins `name=value` with `&`, lower-cases the whole
string, and compares base64(HMAC-SHA1(secret, that string)) with `signature`. Signing the same string on
our side is the only way to be accepted for every value, so `java_url_encode` mirrors URLEncoder (it keeps
only `A-Za-z0-9 . - * _`; Python's `quote` would also keep `~`, which Java escapes).

Known answer from the CloudStack developer guide ("Signing API Requests"):

>>> sign({"command": "listUsers", "response": "json",
...       "apiKey": "plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg"},
...      "VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ")
'TTpdDq/7j/J58XCRHomKoQXEQds='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Mapping

_UNRESERVED = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


def java_url_encode(value: str) -> str:
    """URLEncoder.encode(value, UTF-8) with spaces as %20, as the server re-encodes values before hashing.

    >>> java_url_encode("a b~c*d/e")
    'a%20b%7Ec*d%2Fe'
    """
    out: list[str] = []
    for byte in value.encode("utf-8"):
        out.append(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}")
    return "".join(out)


def canonical_query(params: Mapping[str, str]) -> str:
    """The exact string the server hashes: sorted names, Java-encoded values, lower-cased."""
    pairs = [f"{name}={java_url_encode(params[name])}" for name in sorted(params) if name.lower() != "signature"]
    return "&".join(pairs).lower()


def sign(params: Mapping[str, str], secret_key: str) -> str:
    """base64(HMAC-SHA1(secret, canonical_query(params))), before URL encoding."""
    digest = hmac.new(secret_key.encode("utf-8"), canonical_query(params).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def expiry_stamp(now: datetime, lifetime_s: int) -> str:
    """`expires` for signatureVersion=3 in the one form every release parses.

    DateUtil.parseTZDateString accepted only `yyyy-MM-dd'T'HH:mm:ss'Z'Z` (a literal Z, then +0000) for years;
    current releases still list that "legacy" pattern beside ISO 8601, so it works against old and new servers.

    >>> expiry_stamp(datetime(2025, 3, 10, 14, 0, tzinfo=timezone.utc), 600)
    '2025-03-10T14:10:00Z+0000'
    """
    return (now.astimezone(timezone.utc) + timedelta(seconds=lifetime_s)).strftime("%Y-%m-%dT%H:%M:%SZ+0000")


def signed_query(command: str, params: Mapping[str, str], api_key: str, secret_key: str,
                 now: datetime, lifetime_s: int = 600) -> str:
    """The full query string for one call: parameters, apiKey, a short expiry, then the signature.

    The expiry (signatureVersion 3) makes a URL leaked from an access log useless after `lifetime_s` seconds;
    the server compares it with its own clock, so a clock more than that far behind the server's is refused (401).
    """
    full = {name: str(value) for name, value in params.items()}
    full.update({
        "command": command,
        "response": "json",
        "apiKey": api_key,
        "signatureVersion": "3",
        "expires": expiry_stamp(now, lifetime_s),
    })
    signature = sign(full, secret_key)
    encoded = "&".join(f"{name}={java_url_encode(full[name])}" for name in sorted(full))
    return f"{encoded}&signature={java_url_encode(signature)}"
