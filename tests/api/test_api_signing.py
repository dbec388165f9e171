"""Signing: our requests must be accepted by the management server's own verification, for any value."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudstack_fake import API_KEY, SECRET_KEY, expected_signature
from diagnostics.api.signing import canonical_query, java_url_encode, sign, signed_query


def test_developer_guide_example_signs_to_the_published_signature() -> None:
    params = {"command": "listUsers", "response": "json", "apiKey": API_KEY}
    assert canonical_query(params) == (
        "apikey=plgwjfzk4gys3momtvmjuvg-x-jlwlnfauj9gabbbf9edm-kaymmailqzzq1elzlyq_u38zcm0bewzgudp66mg"
        "&command=listusers&response=json")
    assert sign(params, SECRET_KEY) == "TTpdDq/7j/J58XCRHomKoQXEQds="


def test_values_are_encoded_like_java_urlencoder_not_like_python_quote() -> None:
    # Java keeps only A-Za-z0-9 . - * _ ; '~' is escaped, spaces become %20 (not '+'), UTF-8 bytes uppercase hex
    assert java_url_encode("web 01~x*y") == "web%2001%7Ex*y"
    assert java_url_encode("a+b/c=d&é") == "a%2Bb%2Fc%3Dd%26%C3%A9"


def test_signature_parameter_is_never_part_of_what_is_signed() -> None:
    params = {"command": "listHosts", "apiKey": "k"}
    assert sign({**params, "signature": "anything"}, "s") == sign(params, "s")


param_names = st.sampled_from(["name", "keyword", "Id", "zoneid", "tags[0].key", "listall", "pageSize"])
param_values = st.text(min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(param_names, param_values, max_size=5))
def test_a_signed_query_verifies_on_the_server_side_for_any_values(extra: dict[str, str]) -> None:
    query = signed_query("listVirtualMachines", extra, API_KEY, SECRET_KEY,
                         datetime(2025, 3, 10, 14, 0, tzinfo=timezone.utc))
    received = dict(parse_qsl(query, keep_blank_values=True))  # what the servlet hands to verifyRequest
    for name, value in extra.items():
        assert received[name] == value
    assert received["signature"] == expected_signature(received, SECRET_KEY)
    assert received["signatureVersion"] == "3" and received["expires"] == "2025-03-10T14:10:00Z+0000"


def test_a_different_secret_gives_a_signature_the_server_rejects() -> None:
    query = signed_query("listHosts", {}, API_KEY, "not-the-secret", datetime.now(timezone.utc))
    received = dict(parse_qsl(query))
    assert received["signature"] != expected_signature(received, SECRET_KEY)
