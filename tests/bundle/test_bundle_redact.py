"""Redaction: each CloudStack secret shape in, a visible marker out, every line kept in place."""

from __future__ import annotations

import pytest
from bundle_inputs import AGENT_LOG, AGENT_PROPERTIES, API_LOG, DB_PROPERTIES, DOMAIN_XML, MGMT_LOG, PRIVATE_KEY, SECRETS, SHELL_HISTORY
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.bundle.redact import MARK, Redactor, redact_text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2025-03-10 15:11:40,002 DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) ===START===  10.20.0.15 -- GET  command=listHosts&apiKey=AbC123&signature=x%2By%3D&response=json",
            "===START===  10.20.0.15 -- GET  command=listHosts&apiKey=***REDACTED***&signature=***REDACTED***&response=json",
        ),
        ("command=login&sessionkey=abc123&response=json", "command=login&sessionkey=***REDACTED***&response=json"),
        ("(userId=2 accountId=2 sessionId=node01abc) 10.1.1.5 -- GET", "(userId=2 accountId=2 sessionId=***REDACTED***) 10.1.1.5 -- GET"),
        ('{"vncPassword":"s3cr3t","passwordEnabled":true}', '{"vncPassword":"***REDACTED***","passwordEnabled":true}'),
        ('{"secretKey":"abc","accessKey":"def"}', '{"secretKey":"***REDACTED***","accessKey":"***REDACTED***"}'),
        ('"details":"{\\"password\\":\\"inner\\"}"', '"details":"{\\"password\\":\\"***REDACTED***\\"}"'),
        ("db.cloud.password=ENC(abc==)", "db.cloud.password=***REDACTED***"),
        ("db.usage.password = with spaces ", "db.usage.password = ***REDACTED*** "),
        ("keystore.passphrase=hunter2", "keystore.passphrase=***REDACTED***"),
        ("db.cloud.encrypt.secret=xyz", "db.cloud.encrypt.secret=***REDACTED***"),
        ("<graphics type='vnc' port='5900' passwd='vncpw' listen='0.0.0.0'/>", "<graphics type='vnc' port='5900' passwd='***REDACTED***' listen='0.0.0.0'/>"),
        ('<graphics type="spice" passwd="spicepw"/>', '<graphics type="spice" passwd="***REDACTED***"/>'),
        ('"xml":"<graphics type=\\u0027vnc\\u0027 passwd=\\u0027gsonpw\\u0027/>"', '"xml":"<graphics type=\\u0027vnc\\u0027 passwd=\\u0027***REDACTED***\\u0027/>"'),
        ("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.sig", "Authorization: Bearer ***REDACTED***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***REDACTED***"),
        ("mysql://cloud:dbpw@10.0.0.6:3306/cloud", "mysql://cloud:***REDACTED***@10.0.0.6:3306/cloud"),
        ("rbd:pool/img:id=admin:key=AQBxyz==:auth_supported=cephx", "rbd:pool/img:id=admin:key=***REDACTED***:auth_supported=cephx"),
        ("<secretKey>abc</secretKey>", "<secretKey>***REDACTED***</secretKey>"),
        ("cmk set --apikey ABC --secretkey DEF", "cmk set --apikey ***REDACTED*** --secretkey ***REDACTED***"),
        ("mysql --password=xyz -u cloud", "mysql --password=***REDACTED*** -u cloud"),
        ("cloudstack-setup-databases cloud:s3cr3t@localhost", "cloudstack-setup-databases cloud:***REDACTED***@localhost"),
        (
            "cloudstack-setup-databases cloud:dbPw1@10.0.0.6 --deploy-as=root:rootPw2 -e file -m msKey -k dbKey -i 10.0.0.5",
            "cloudstack-setup-databases cloud:***REDACTED***@10.0.0.6 --deploy-as=root:***REDACTED*** -e file -m ***REDACTED*** -k ***REDACTED*** -i 10.0.0.5",
        ),
        ('"privatekey":"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----\\n"', '"privatekey":"***REDACTED***"'),
    ],
)
def test_each_secret_shape_is_replaced_by_a_visible_marker(line: str, expected: str) -> None:
    assert expected in redact_text(line + "\n")


@pytest.mark.parametrize(
    "line",
    [
        "router.aggregation.command.each.timeout=600",
        "ping.timeout=2.5",
        "signatureVersion=3&expires=2025-03-10T15:00:00Z",
        "passwordEnabled=true",
        '{"passwordEnabled":true,"hasPassword":false}',
        "2025-03-10 17:05:00,012 INFO  [c.c.a.m.AgentManagerImpl] (AgentMonitor-1:[ctx-1c2d3e4f]) (logid:1c2d3e4f) Found the following agents behind on ping: [4]",
        "-----BEGIN CERTIFICATE-----",
        "vm.memballoon.disable=true",
        "tcpdump -i lo -U -w /tmp/x.pcap 'tcp port 8250' --time-stamp-precision nano",
        "2025-03-10 15:11:40,002 DEBUG [c.c.a.ApiServlet] (qtp-1:[]) (logid:) ===START===  10.1.1.5 -- GET  command=listHosts&response=json",
    ],
)
def test_harmless_settings_are_not_over_redacted(line: str) -> None:
    assert redact_text(line + "\n") == line + "\n"


@pytest.mark.parametrize("text", [MGMT_LOG, API_LOG, AGENT_LOG, DB_PROPERTIES, AGENT_PROPERTIES, DOMAIN_XML, PRIVATE_KEY, SHELL_HISTORY])
def test_no_planted_secret_survives_and_lines_stay_in_place(text: str) -> None:
    out = redact_text(text)
    assert not [s for s in SECRETS if s in out]
    assert MARK in out
    assert out.count("\n") == text.count("\n")
    # Line N still starts like line N: reports citing path:line point at the same record.
    for before, after in zip(text.splitlines(), out.splitlines()):
        assert after[:10] == before[:10] or after == MARK


def test_pem_block_is_redacted_across_lines_and_markers_stay() -> None:
    r = Redactor()
    out = [r.line(line) for line in PRIVATE_KEY.splitlines(keepends=True)]
    assert out == [
        "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        f"{MARK}\n",
        f"{MARK}\n",
        "-----END OPENSSH PRIVATE KEY-----\n",
    ]
    assert r.by_rule == {"pem-block": 1}


def test_pem_block_without_end_stops_at_the_next_log_record() -> None:
    text = (
        "2025-03-10 15:00:00,000 DEBUG [c.c.x] (t:[]) (logid:) key: -----BEGIN RSA PRIVATE KEY-----\n"
        "MIIEsecretbody\n"
        "2025-03-10 15:00:01,000 DEBUG [c.c.x] (t:[]) (logid:) next record survives\n"
    )
    out = redact_text(text).splitlines()
    assert "MIIEsecretbody" not in "".join(out)
    assert out[2].endswith("next record survives")


def test_redaction_counts_what_it_removed() -> None:
    r = Redactor()
    for line in DB_PROPERTIES.splitlines(keepends=True):
        r.line(line)
    assert r.count == 3


def test_line_endings_are_kept() -> None:
    assert redact_text("password=x\r\nok\n") == f"password={MARK}\r\nok\n"


_VALUE = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="&\"'<>),;\\"), min_size=4, max_size=40)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(["apiKey", "signature", "sessionkey", "password", "secretkey", "db.cloud.password"]), value=_VALUE)
def test_any_value_of_a_secret_parameter_is_removed(key: str, value: str) -> None:
    line = f"2025-03-10 15:11:40,002 DEBUG [c.c.a.ApiServlet] (qtp-1:[]) (logid:) ===START=== 10.0.0.1 -- GET command=x&{key}={value}&response=json\n"
    out = redact_text(line)
    assert f"{key}={MARK}&response=json" in out
    assert out.count("\n") == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80).map(lambda s: s.replace("\n", "").replace("\r", "")), max_size=20))
def test_any_text_keeps_its_line_count_and_redacting_twice_changes_nothing(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    once = redact_text(text)
    assert once.count("\n") == text.count("\n")
    assert redact_text(once) == once
