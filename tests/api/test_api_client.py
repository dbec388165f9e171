"""The client against a real HTTP(S) server on 127.0.0.1: success, every kind of failure, TLS."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from cloudstack_fake import API_KEY, SECRET_KEY, VM_UUID, Fault, FakeManagementServer
from diagnostics.api.client import ApiClient, ApiError, tls_context
from diagnostics.api.credentials import ApiCredentials


def client_for(server: FakeManagementServer, secret: str = SECRET_KEY, **kwargs) -> ApiClient:
    return ApiClient(ApiCredentials(server.url, API_KEY, secret), **kwargs)


def test_a_list_call_returns_the_body_inside_the_envelope(cloudstack: FakeManagementServer) -> None:
    reply = client_for(cloudstack).call("listVirtualMachines", {"id": VM_UUID, "listall": "true"})
    assert reply.http_status == 200 and reply.body["count"] == 1
    assert reply.body["virtualmachine"][0]["instancename"] == "i-2-42-VM"
    sent = cloudstack.state.requests[-1]
    assert sent["command"] == "listVirtualMachines" and sent["response"] == "json"


def test_wrong_secret_is_a_fatal_credential_error(cloudstack: FakeManagementServer) -> None:
    with pytest.raises(ApiError) as err:
        client_for(cloudstack, secret="wrong").call("listHosts")
    assert err.value.kind == "auth" and err.value.fatal and err.value.http_status == 401
    assert "credentials rejected" in err.value.message and "wrong" not in err.value.message


@pytest.mark.parametrize("code, text, expected", [
    (431, "Unable to execute API command listhosts due to invalid value. Invalid parameter zoneid value=x",
     "listHosts: 431 bad parameter: Unable to execute API command listhosts"),
    (530, "Internal error executing command, please contact your system administrator",
     "listHosts: 530 internal error: Internal error executing command"),
])
def test_api_errors_carry_code_and_text_and_are_not_fatal(cloudstack: FakeManagementServer, code: int, text: str,
                                                          expected: str) -> None:
    cloudstack.state.faults["listHosts"] = Fault("api_error", code, text)
    with pytest.raises(ApiError) as err:
        client_for(cloudstack).call("listHosts")
    assert err.value.message.startswith(expected)
    assert err.value.error_code == code and err.value.http_status == code and not err.value.fatal


def test_a_stalled_server_is_cut_off_at_the_deadline(cloudstack: FakeManagementServer) -> None:
    cloudstack.state.faults["listCapacity"] = Fault("stall")
    with pytest.raises(ApiError) as err:
        client_for(cloudstack, timeout_s=1.0).call("listCapacity")
    assert err.value.kind == "timeout" and "within 1s" in err.value.message


def test_body_shorter_than_its_content_length_is_reported_as_cut_short(cloudstack: FakeManagementServer) -> None:
    cloudstack.state.faults["listHosts"] = Fault("cut")
    with pytest.raises(ApiError) as err:
        client_for(cloudstack).call("listHosts")
    assert err.value.kind == "bad_response" and "cut short" in err.value.message


def test_truncated_json_is_reported_with_its_position(cloudstack: FakeManagementServer) -> None:
    cloudstack.state.faults["listHosts"] = Fault("bad_json")
    with pytest.raises(ApiError) as err:
        client_for(cloudstack).call("listHosts")
    assert err.value.kind == "bad_response" and "listHosts: truncated JSON" in err.value.message


def test_an_answer_above_the_byte_cap_is_refused(cloudstack: FakeManagementServer) -> None:
    with pytest.raises(ApiError) as err:
        client_for(cloudstack, max_bytes=512).call("listHosts", {"type": "Routing"})
    assert err.value.kind == "too_large"


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port_is_unreachable_and_fatal() -> None:
    url = f"http://127.0.0.1:{closed_loopback_port()}/client/api"
    with pytest.raises(ApiError) as err:
        ApiClient(ApiCredentials(url, API_KEY, SECRET_KEY), timeout_s=2).call("listHosts")
    assert err.value.kind == "unreachable" and err.value.fatal
    assert err.value.message == f"{url}: connection refused"


def test_self_signed_certificate_is_refused_by_default(tls_cloudstack: FakeManagementServer) -> None:
    with pytest.raises(ApiError) as err:
        client_for(tls_cloudstack).call("listHosts")
    assert err.value.kind == "tls" and err.value.fatal
    assert "self-signed certificate" in err.value.message and "--ca-file" in err.value.message
    assert tls_cloudstack.state.requests == []  # nothing, not even the signed query, was sent


def test_self_signed_certificate_is_accepted_with_its_ca_file(tls_cloudstack: FakeManagementServer,
                                                             self_signed: tuple[Path, Path]) -> None:
    reply = client_for(tls_cloudstack, context=tls_context(str(self_signed[0]))).call("listHosts")
    assert len(reply.body["host"]) == 2


def test_insecure_skips_verification_only_when_asked(tls_cloudstack: FakeManagementServer) -> None:
    context = tls_context(insecure=True)
    assert context.verify_mode == ssl.CERT_NONE
    assert client_for(tls_cloudstack, context=context).call("listHosts").http_status == 200
    assert tls_context().verify_mode == ssl.CERT_REQUIRED


def test_secret_never_travels_on_the_wire(cloudstack: FakeManagementServer) -> None:
    client_for(cloudstack).call("listHosts")
    assert all(SECRET_KEY not in path for path in cloudstack.state.raw_paths)


def test_requests_expire_so_a_clock_far_behind_the_server_is_refused(cloudstack: FakeManagementServer) -> None:
    from datetime import datetime, timedelta, timezone

    late = ApiClient(ApiCredentials(cloudstack.url, API_KEY, SECRET_KEY),
                     clock=lambda: datetime.now(timezone.utc) - timedelta(minutes=11))
    with pytest.raises(ApiError) as err:
        late.call("listHosts")
    assert err.value.kind == "auth"
    assert client_for(cloudstack).call("listHosts").http_status == 200  # the same keys with a right clock


@pytest.mark.parametrize("echoed", [
    "/client/api?apiKey={key}&command=listHosts&signature={sig}&response=json",
    "url=%2Fclient%2Fapi%3FapiKey%3D{key}%26signature%3D{sig}%26response%3Djson",  # URL-encoded once
    "Invalid request sessionkey={sig} for apikey={key}",
])
def test_a_signed_query_echoed_in_any_form_is_scrubbed_from_error_texts(echoed: str) -> None:
    from diagnostics.api.client import scrub

    signature = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"
    text = scrub(echoed.format(key=API_KEY, sig=signature))
    assert API_KEY not in text and signature not in text and "Zm9vYmFy" not in text
    assert "REDACTED" in text
