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
  `user:password@` in URLs.
Keys are matched by their *ending* (`...password`, `...secret`, `...apikey`), so `passwordEnabled=true`,
`signatureVersion=3` or `router.aggregation.command.each.timeout=...` are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARK = "***REDACTED***"

# Names whose value is a secret, matched at the END of a key (`db.cloud.password`, `vncPassword`, `apiKey`).
_SECRET_SUFFIX = (
    r"(?:password|passwd|passphrase|secret|secretkey|secret_key|apikey|api_key|sessionkey|session_key"
    r"|accesskey|access_key|privatekey|private_key|token|keypass|storepass)"
)
# Keys that are secret only as a whole word (a suffix match would hit `signatureVersion`-like harmless keys anyway).
_SECRET_WHOLE = r"(?:signature|sessionid)"
_KEY = rf"(?:[\w.\-]*?{_SECRET_SUFFIX}|{_SECRET_WHOLE})"

# `key=value` in query strings, command lines, Java toString, apilog audit prefix. Values already marked are skipped.
_PARAM = re.compile(
    rf"(?i)(?<![\w.\-])({_KEY})(\s*=\s*)(?!\*\*\*REDACTED)(?!['\"\\])([^&\s\"'<>),;]+)"
)
# Quoted attribute values: libvirt `passwd='...'`, `passwd="..."`, and the same inside a JSON string (`passwd=\"x\"`).
_QUOTED_ATTR = re.compile(rf"(?i)(?<![\w.\-])({_KEY})(\s*=\s*)(\\?['\"])(.*?)(\3)")
# JSON string members: `"password":"x"`; inside an escaped JSON string: `\"password\":\"x\"`.
_JSON = re.compile(rf'(?i)("{_KEY}"\s*:\s*")(?!\*\*\*REDACTED)((?:[^"\\]|\\.)*)(")')
_JSON_ESCAPED = re.compile(rf'(?i)(\\"{_KEY}\\"\s*:\s*\\")((?:(?!\\").)*)(\\")')
# A whole properties/YAML line `db.cloud.password = secret value with spaces` (value runs to end of line).
_PROPERTY = re.compile(rf"(?i)^(\s*(?:export\s+)?{_KEY}\s*[=:]\s*)(?!\*\*\*REDACTED)(\S.*?)(\s*)$")
# XML elements: `<password>x</password>`, `<secretKey>x</secretKey>`.
_XML_ELEMENT = re.compile(rf"(?i)(<({_KEY})>)(?!\*\*\*REDACTED)([^<]+)(</\2>)")
# HTTP credentials.
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)(\s+)(?!\*\*\*REDACTED)([A-Za-z0-9\-._~+/]+=*)")
# `scheme://user:password@host`.
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^:/@\s]+:)(?!\*\*\*REDACTED)([^@/\s]+)(@)")
# Ceph key inside an RBD URI: `rbd:pool/img:id=admin:key=AQB...==:auth_supported=cephx`.
_RBD_KEY = re.compile(r"(?<=:)(key=)(?!\*\*\*REDACTED)([A-Za-z0-9+/=]+)")

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_INLINE = re.compile(
    r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)(.*?)(-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)"
)
# Cheap pre-check: most log lines carry none of these, and then no rule needs to run.
_HINT = re.compile(r"(?i)pass|secret|key|signature|session|token|bearer|basic|://|-----")
# A new log4j record ends a PEM block that lost its END line (a cut line must not swallow the rest of a log).
_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")


def _keep_key(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{MARK}"


def _keep_quotes(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{m.group(3)}{MARK}{m.group(5)}"


def _json(m: re.Match[str]) -> str:
    return f"{m.group(1)}{MARK}{m.group(3)}"


_LINE_RULES: tuple[tuple[str, re.Pattern[str], object], ...] = (
    ("pem-inline", _PEM_INLINE, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
    ("json", _JSON, _json),
    ("json-escaped", _JSON_ESCAPED, _json),
    ("quoted-attribute", _QUOTED_ATTR, _keep_quotes),
    ("xml-element", _XML_ELEMENT, lambda m: f"{m.group(1)}{MARK}{m.group(4)}"),
    ("property", _PROPERTY, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
    ("parameter", _PARAM, _keep_key),
    ("http-auth", _BEARER, _keep_key),
    ("url-password", _URL_USERINFO, lambda m: f"{m.group(1)}{MARK}{m.group(3)}"),
    ("rbd-key", _RBD_KEY, lambda m: f"{m.group(1)}{MARK}"),
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
        if not _HINT.search(body):
            return body
        for name, pattern, repl in _LINE_RULES:
            if name == "property" and not _PROPERTY.match(body):
                continue
            body, n = pattern.subn(repl, body)  # type: ignore[arg-type]
            self._note(name, n)
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
