"""Secrets planted in every form CloudStack writes them, in every encoding, and a search that finds any survivor.

A form is (name, template, encode, alphabet): `encode(secret)` is how the value appears in that place (URL-encoded
in a query string, JSON-escaped in a JSON string, base64 inside userdata...), the template puts it on a line.
`leaks(secret, text)` looks for the secret raw, URL-encoded, JSON-escaped and base64-encoded at every alignment.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

# Characters a password may hold and that survive each context once encoded the way CloudStack encodes it.
WIDE = string.ascii_letters + string.digits + "!#$*+-./:=?@^_~%"
SAFE = string.ascii_letters + string.digits + "-._~"  # unencoded contexts with their own delimiters
TOKEN = string.ascii_letters + string.digits + "-._~+/"


def _q(s: str) -> str:
    return quote(s, safe="")


def _j(s: str) -> str:
    return json.dumps(s)[1:-1]


def _jj(s: str) -> str:
    return json.dumps(_j(s))[1:-1]


def _gson(s: str) -> str:
    return _j(s).replace("=", "\\u003d").replace("'", "\\u0027")


def _b64(text: str, align: int) -> str:
    return base64.b64encode(("#" * align + text).encode()).decode()


def _userdata(s: str, align: int) -> str:
    doc = f"#cloud-config\nchpasswd:\n  list: |\n    root:{s}\n    ubuntu:{s}x\n  expire: False\nruncmd:\n  - echo hi\n"
    return _b64(doc, align)


@dataclass(frozen=True)
class Form:
    name: str
    template: str
    encode: Callable[[str], str]
    alphabet: str = WIDE

    def line(self, secret: str) -> str:
        t = self.template.replace("{v}", "\0").replace("{{", "{").replace("}}", "}")
        return t.replace("\0", self.encode(secret))


H = "2025-03-10 15:11:40,002 DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) "
S = "2025-03-10 16:20:31,400 DEBUG [c.c.a.t.Request] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401]) (logid:6d7e8f90) Seq 4-7251549216581238790: Sending  { Cmd , MgmtId: 345049296663, via: 4(kvm01), Ver: v1, Flags: 100011, "


def api(query: str, method: str = "GET") -> str:
    """An ApiServlet request line, as CloudStack logs every API call."""
    return H + f"===START===  10.20.0.15 -- {method}  command={query}"


def cmd(payload: str) -> str:
    """An agent command trace (`Sending { Cmd ... [payload] }`); payload is a template, braces doubled."""
    return S + f"[{payload}] }}}}"


FORMS: tuple[Form, ...] = (
    Form("apikey-query", api("listHosts&apiKey={v}&response=json"), _q),
    Form("signature-query", api("listHosts&apiKey=x&signature={v}"), _q),
    Form("sessionkey-query", api("listVirtualMachines&sessionkey={v}&response=json", "POST"), _q),
    Form("password-query", api("login&username=admin&password={v}&domain=%2F", "POST"), _q),
    Form("ipsecpsk-query", api("createVpnCustomerGateway&gateway=10.1.1.1&ipsecpsk={v}&ikepolicy=aes128-sha1"), _q),
    Form("details-s3-raw", api("addImageStore&provider=S3&details[0].key=accesskey&details[0].value=AKIAX&details[1].key=secretkey&details[1].value={v}"), _q),
    Form("details-swift-raw", api("addImageStore&provider=Swift&details[0].key=account&details[0].value=acct&details[1].key=key&details[1].value={v}"), _q),
    Form("details-urlencoded", api("addImageStore&provider=S3&details%5B0%5D.key=secretkey&details%5B0%5D.value={v}"), _q),
    Form("details-query-encoded", H + "redirect to /client/api?q=" + "{v}", lambda s: _q(f"command=addImageStore&details[0].key=secretkey&details[0].value={_q(s)}")),
    Form("updateconfiguration", api("updateConfiguration&name=ldap.bind.password&value={v}&response=json"), _q),
    Form("updateconfiguration-principal", api("updateConfiguration&name=ldap.bind.principal&value={v}"), _q),
    Form("listconfigurations-json", H + '===END===  10.20.0.15 -- GET  {{"listconfigurationsresponse":{{"configuration":[{{"category":"Secure","name":"ldap.bind.password","value":"{v}","description":"Sets the bind password for LDAP"}}]}}}}', _j),
    Form("listconfigurations-truststore", H + '{{"name":"ldap.truststore.password","value":"{v}","category":"Secure"}}', _j),
    Form("listimagestores-json", H + '{{"listimagestoresresponse":{{"imagestore":[{{"id":"1","providername":"S3","details":{{"s3.secret.key":"{v}","s3.access.key":"AKIA"}}}}]}}}}', _j),
    Form("imagestore-details-list", H + '"details":[{{"name":"secretkey","value":"{v}"}}]', _j),
    Form("json-password", cmd('{{"com.cloud.agent.api.StartCommand":{{"vm":{{"name":"i-2-42-VM","password":"{v}"}}}}}}'), _j),
    Form("json-vncpassword", cmd('{{"com.cloud.agent.api.StartCommand":{{"vm":{{"vncPassword":"{v}","passwordEnabled":true}}}}}}'), _j),
    Form("json-escaped-details", cmd('{{"x":{{"details":"{{\\"password\\":\\"{v}\\"}}"}}}}'), _jj),
    Form("json-escaped-url", cmd('{{"x":{{"cmd":"command=login&password={v}"}}}}'), lambda s: _j(_q(s))),
    Form("vmdata-password", cmd('{{"com.cloud.agent.api.routing.VmDataCommand":{{"vmIpAddress":"10.1.1.5","vmData":[["userdata","user-data",null],["password","vm-password","{v}"]]}}}}'), _j),
    Form("gson-graphics", cmd('{{"x":{{"xml":"<graphics type=\\u0027vnc\\u0027 passwd=\\u0027{v}\\u0027/>"}}}}'), _gson),
    Form("domain-xml-graphics", "<devices><graphics type='vnc' autoport='yes' listen='10.20.1.14' passwd='{v}'/></devices>", lambda s: s),
    Form("rbd-uri", "<source protocol='rbd' name='rbd:cloudstack/vol1:id=admin:key={v}:auth_supported=cephx'/>", lambda s: base64.b64encode(s.encode()).decode()),
    Form("url-userinfo", H + "Storage pool url mysql://cloud:{v}@10.0.0.6:3306/cloud", _q),
    Form("url-userinfo-encoded", api("createStoragePool&url=nfs%3A%2F%2Fstor%3A{v}%4010.0.0.9%2Fexport"), lambda s: _q(_q(s))),
    Form("url-userinfo-double", H + "param url=smb%253A%252F%252Fadmin%253A{v}%254010.0.0.9%252Fshare", lambda s: _q(_q(_q(s)))),
    Form("hypervisor-uri", "hypervisor.uri=qemu+ssh://root:{v}@kvm01/system", _q),
    Form("x-auth-token", H + "Swift request headers X-Auth-Token: {v} Accept: */*", lambda s: s, TOKEN),
    Form("cookie-jsessionid", H + "request Cookie: JSESSIONID={v}; sessionkey=abc", lambda s: s, SAFE),
    Form("cookie-sessionkey", H + "request Cookie: lang=en; sessionkey={v}", lambda s: s, SAFE),
    Form("apilog-sessionid", "2025-03-10 15:11:40,500 INFO  [a.c.c.a.ApiServer] (qtp-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) (userId=2 accountId=2 sessionId={v}) 10.20.0.15 -- GET command=listHosts 200", lambda s: s, SAFE),
    Form("bearer", H + "Authorization: Bearer {v}", lambda s: s, TOKEN),
    Form("basic-auth", H + "Authorization: Basic {v}", lambda s: base64.b64encode(f"admin:{s}".encode()).decode()),
    Form("mid-line-colon", H + "LDAP bind failed for user: admin, password: {v} retrying", lambda s: s, SAFE + "!#$*+/:=?@^"),
    Form("property", "db.cloud.password={v}", lambda s: s),
    Form("property-spaced", "  db.usage.password = {v}", lambda s: s),
    Form("property-encrypt", "db.cloud.encrypt.secret={v}", lambda s: s),
    Form("property-keystore", "keystore.passphrase={v}", lambda s: s),
    Form("property-commented", "# old: db.cloud.password={v}", lambda s: s),
    Form("property-credential", "libvirt.credential={v}", lambda s: s),
    Form("env-mysql-pwd", "MYSQL_PWD={v}", lambda s: s),
    Form("env-export", "export CLOUDSTACK_SECRET_KEY={v}", lambda s: s),
    Form("env-quoted", 'MYSQL_PWD="{v}"', lambda s: s),
    Form("yaml-secret", "  s3.secret.key: {v}", lambda s: s),
    Form("flag", "mysql --password={v} -u cloud cloud", lambda s: s, SAFE + "!#$*+/:=?@^%"),
    Form("flag-cmk", "cmk set secretkey x; cmk -p prod --secretkey {v} list hosts", lambda s: s, SAFE),
    Form("setup-databases", "cloudstack-setup-databases cloud:{v}@10.0.0.6 --deploy-as=root:rootpw -i 10.0.0.5", lambda s: s, SAFE),
    Form("setup-databases-key", "cloudstack-setup-databases cloud:x@10.0.0.6 -m {v} -k other", lambda s: s, SAFE),
    Form("userdata-b64-0", api("deployVirtualMachine&userdata={v}&response=json", "POST"), lambda s: _q(_userdata(s, 0))),
    Form("userdata-b64-1", cmd('{{"x":{{"userData":"{v}"}}}}'), lambda s: _userdata(s, 1)),
    Form("userdata-b64-2", cmd('["userdata","user-data","{v}"]'), lambda s: _userdata(s, 2)),
    Form("pem-inline", cmd('{{"x":{{"privatekey":"-----BEGIN RSA PRIVATE KEY-----\\n{v}\\n-----END RSA PRIVATE KEY-----\\n"}}}}'), _j),
    Form("xml-element", "<secretKey>{v}</secretKey>", lambda s: s, SAFE + "!#$*+/:=?@^%"),
)


def b64_cores(secret: str) -> set[str]:
    """The part of base64(prefix + secret) that depends on the secret alone, for prefixes of 0, 1 and 2 bytes."""
    cores = set()
    data = secret.encode()
    for align in range(3):
        enc = base64.b64encode(b"\0" * align + data).decode().rstrip("=")
        start = -(-(8 * align) // 6)
        end = (8 * (align + len(data))) // 6
        core = enc[start:end]
        if len(core) >= 8:
            cores.add(core)
    return cores


def encodings(secret: str) -> set[str]:
    return {secret, _q(secret), quote_plus(secret), _q(_q(secret)), _q(_q(_q(secret))), _j(secret), _jj(secret), _gson(secret)} | b64_cores(secret)


def leaks(secret: str, text: str) -> list[str]:
    """Every encoding of `secret` found in `text`."""
    return sorted(e for e in encodings(secret) if e in text)
