"""Remove secrets from CloudStack text, one line at a time.

Why line by line: management-server.log is often several GB, and reports cite `path:line`, so a redacted file must
keep every line (and line number) of the original. Each rule replaces only the secret value and leaves a visible
marker (`apiKey=***REDACTED***`), so an engineer still sees *that* a secret was there.

What CloudStack leaks where (cloudstack-log-formats.md, sos `postproc` scrubbing as the model):
- API query strings in `===START===`/`===END===` lines and apilog.log: `apiKey=`, `signature=`, `sessionkey=`,
  `password=`; the Jetty `sessionId=` in the apilog audit prefix.
- JSON command bodies in `Seq ...` traces: `"password":"..."`, `"vncPassword"`, `"secretKey"`, `"privateKey"`,
  also with escaped quotes when the JSON sits inside another JSON string.
- db.properties / agent.properties / server.properties: `db.cloud.password=`, `db.usage.password=`,
  `db.cloud.encrypt.secret=`, `keystore.passphrase=`, `https.keystore.password=`.
- libvirt domain XML: `<graphics type='vnc' ... passwd='...'/>`; RBD URIs `:key=...:`.
- PEM private-key blocks (multi-line, or one line with `\\n` escapes), `Authorization: Bearer|Basic ...`,
  `user:password@` in URLs, `--password x`-style flags, `cloudstack-setup-databases cloud:<pw>@host -m <key> -k <key>`.
Keys are matched by their *ending* (`...password`, `...secret`, `...apikey`), so `passwordEnabled=true`,
`signatureVersion=3` or `router.aggregation.command.each.timeout=...` are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARK = "***REDACTED***"

# Names whose value is a secret, matched at the END of a key (`db.cloud.password`, `vncPassword`, `apiKey`),
# case-insensitively. Checked in Python on candidate `key=value` pairs: one generic regex finds the pairs, which is
# much faster than a regex that tries every secret name at every position of a multi-GB log.
SECRET_SUFFIXES = (
    "password", "passwd", "passphrase", "secret", "secretkey", "secret_key", "apikey", "api_key", "sessionkey",
    "session_key", "accesskey", "access_key", "privatekey", "private_key", "token", "keypass", "storepass",
)
# Secret only as the whole key (a suffix match would also hit harmless keys).
SECRET_WHOLE = frozenset({"signature", "sessionid"})


def _may_hold_secret(low: str) -> bool:
    """Cheap literal pre-check on the lower-cased line: most log lines fail it, and then no rule runs at all.

    (An `or` chain of `in` tests is ~3x faster than `any()` over a tuple or one alternation regex.)
    """
    return (
        "pass" in low or "key" in low or "secret" in low or "token" in low or "signature" in low
        or "sessionid" in low or "bearer" in low or "basic" in low or "://" in low or "-----" in low
        or "setup-databases" in low
    )


def is_secret_key(key: str) -> bool:
    k = key.lower()
    return k.endswith(SECRET_SUFFIXES) or k in SECRET_WHOLE


_K = r"[\w.\-]+"
# `key=value` in query strings, command lines, Java toString, the apilog audit prefix (`sessionId=...`).
_PAIR = re.compile(rf"(?<![\w.\-])({_K})(\s*=\s*)(?!\*\*\*REDACTED)(?!['\"\\])([^&\s\"'<>),;]+)")
# Quoted attribute values: libvirt `passwd='...'`, `passwd="..."`, also inside a JSON string (`passwd=\"x\"`, and
# `passwd=\u0027x\u0027` as GSON escapes quotes in the domain XML of StartCommand traces) or XML (`&apos;`).
_QUOTED_ATTR = re.compile(rf"(?<![\w.\-])({_K})(\s*=\s*)(\\u0027|\\u0022|&apos;|&quot;|\\?['\"])(.*?)(\3)")
# JSON string members `"password":"x"`, and inside an escaped JSON string `\"password\":\"x\"`.
_JSON = re.compile(rf'"({_K})"(\s*:\s*")((?:[^"\\]|\\.)*)(")')
_JSON_ESCAPED = re.compile(rf'\\"({_K})\\"(\s*:\s*\\")((?:(?!\\").)*)(\\")')
# A whole properties/YAML line `db.cloud.password = secret value with spaces` (value runs to the end of the line).
_PROPERTY = re.compile(rf"^(\s*(?:export\s+)?)({_K})(\s*[=:]\s*)(\S.*?)(\s*)$")
# XML elements: `<password>x</password>`, `<secretKey>x</secretKey>`.
_XML_ELEMENT = re.compile(rf"<({_K})>([^<]+)</\1>")
# HTTP credentials.
_HTTP_AUTH = re.compile(r"(?i)\b(Bearer|Basic)(\s+)(?!\*\*\*REDACTED)([A-Za-z0-9\-._~+/]+=*)")
# `scheme://user:password@host`.
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]+:)(?!\*\*\*REDACTED)([^@/\s]+)(@)")
# Command-line flags: `--password secret`, `--secret-key=abc`, `--apikey X` (shell history, process lists, cron).
_FLAG = re.compile(r"(?<![\w-])(--?[\w-]+)(=|\s+)(?!\*\*\*REDACTED)(?!-)([^\s'\"]+)")
# `cloudstack-setup-databases cloud:<password>@host --deploy-as=root:<password>` (its own argument syntax).
# Its `-m <management server key>` and `-k <database key>` are secrets too.
_SETUP_DB = re.compile(r"(\b[\w.\-]+:|\s-[mk]\s+)(?!\*\*\*REDACTED)([^\s@]+)(@[\w.\-]+|(?=\s|$))")
# Ceph key inside an RBD URI: `rbd:pool/img:id=admin:key=AQB...==:auth_supported=cephx`.
_RBD_KEY = re.compile(r"(?<=:)(key=)(?!\*\*\*REDACTED)([A-Za-z0-9+/=]+)")

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_INLINE = re.compile(
    r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)(.*?)(-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)"
)
# A new log4j record ends a PEM block that lost its END line (a cut line must not swallow the rest of a log).
_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")


def _secret_value(key_group: int, keep_before: tuple[int, ...], keep_after: tuple[int, ...]):
    """A substitution callback: replace the value only when group `key_group` names a secret."""

    def repl(m: re.Match[str]) -> str:
        if not is_secret_key(m.group(key_group)) or MARK in m.group(0):
            return m.group(0)
        return "".join(m.group(g) for g in keep_before) + MARK + "".join(m.group(g) for g in keep_after)

    return repl


# (name, guard on (line, lower-cased line), pattern, replacement); a rule runs only when its guard holds.
_LINE_RULES = (
    ("pem-inline", lambda s, low: "-----BEGIN" in s, _PEM_INLINE, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
    ("json", lambda s, low: '"' in s, _JSON, lambda m: (
        m.group(0) if not is_secret_key(m.group(1)) or m.group(3) == MARK else f'"{m.group(1)}"{m.group(2)}{MARK}"')),
    ("json-escaped", lambda s, low: '\\"' in s, _JSON_ESCAPED, lambda m: (
        m.group(0) if not is_secret_key(m.group(1)) or m.group(3) == MARK else f'\\"{m.group(1)}\\"{m.group(2)}{MARK}\\"')),
    ("quoted-attribute", lambda s, low: "=" in s and ("'" in s or '"' in s or "\\u00" in s or "&" in s), _QUOTED_ATTR, _secret_value(1, (1, 2, 3), (5,))),
    ("xml-element", lambda s, low: "</" in s, _XML_ELEMENT, lambda m: (
        m.group(0) if not is_secret_key(m.group(1)) or m.group(2) == MARK else f"<{m.group(1)}>{MARK}</{m.group(1)}>")),
    ("property", lambda s, low: not s[:1].isdigit() and ("=" in s or ":" in s), _PROPERTY, _secret_value(2, (1, 2, 3), (5,))),
    ("parameter", lambda s, low: "=" in s, _PAIR, _secret_value(1, (1, 2), ())),
    ("http-auth", lambda s, low: "bearer" in low or "basic" in low, _HTTP_AUTH, lambda m: f"{m.group(1)}{m.group(2)}{MARK}"),
    ("url-password", lambda s, low: "://" in s and "@" in s, _URL_USERINFO, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
    ("rbd-key", lambda s, low: ":key=" in s, _RBD_KEY, lambda m: f"{m.group(1)}{MARK}"),
    ("flag", lambda s, low: "-" in s, _FLAG, lambda m: (
        f"{m.group(1)}{m.group(2)}{MARK}" if is_secret_key(m.group(1).lstrip("-").replace("-", "")) else m.group(0))),
    ("setup-databases", lambda s, low: "setup-databases" in s, _SETUP_DB, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
)


@dataclass(slots=True)
class Redactor:
    """Streaming redaction with the one piece of state a line-based filter needs: inside a PEM block or not.

    Use one Redactor per file: `for line in f: out.write(r.line(line))`; `r.count` says how many values went.
    """

    count: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    _in_pem: bool = False

    def line(self, text: str) -> str:
        """Redact one line; its line ending (if any) is kept as is."""
        body = text.rstrip("\r\n")
        ending = text[len(body):]
        return self._body(body) + ending

    def _note(self, rule: str, n: int) -> None:
        if n:
            self.count += n
            self.by_rule[rule] = self.by_rule.get(rule, 0) + n

    def _body(self, body: str) -> str:
        if self._in_pem:
            end = _PEM_END.search(body)
            if end:
                self._in_pem = False
                self._note("pem-block", 1)
                return MARK + body[end.start():] if end.start() else body
            if _RECORD_START.match(body):
                self._in_pem = False  # the END line was lost; this is a new log record, redact it normally
            else:
                return MARK if body else body
        low = body.lower()
        if not _may_hold_secret(low):
            return body
        for name, guard, pattern, repl in _LINE_RULES:
            if guard(body, low):
                new = pattern.sub(repl, body)  # type: ignore[arg-type]
                if new != body:
                    self._note(name, new.count(MARK) - body.count(MARK))
                    body = new
        begin = _PEM_BEGIN.search(body)
        if begin and not _PEM_END.search(body, begin.end()):
            # Block starts here and continues on the next lines: keep the marker, drop what follows it.
            self._in_pem = True
            tail = body[begin.end():]
            return body[: begin.end()] + (MARK if tail.strip() else tail)
        return body


def redact_text(text: str) -> str:
    """Redact a whole (small) text; for files use `Redactor.line` to stay streaming."""
    r = Redactor()
    return "".join(r.line(line) for line in text.splitlines(keepends=True))
