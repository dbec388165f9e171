"""Credentials come from cmk's config file or the environment, and never leak into messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudstack_fake import API_KEY, SECRET_KEY, write_cmk_config
from diagnostics.api.credentials import CredentialError, load_credentials, parse_cmk_config, redact_url


def test_cmk6_config_default_profile_is_read_from_the_global_keys(tmp_path: Path) -> None:
    path = write_cmk_config(tmp_path, "https://ms1.example:8443/client/api", profile="prod")
    creds = load_credentials(config_path=path, env={})
    assert creds.url == "https://ms1.example:8443/client/api"
    assert (creds.api_key, creds.secret_key) == (API_KEY, SECRET_KEY)
    assert creds.source == f"cmk {path} [prod]"
    assert API_KEY not in repr(creds) and SECRET_KEY not in repr(creds)


def test_explicit_profile_wins_over_environment_and_url_overrides_only_the_endpoint(tmp_path: Path) -> None:
    path = write_cmk_config(tmp_path, "https://ms1.example/client/api", profile="lab")
    env = {"CLOUDSTACK_KEY": "envkey", "CLOUDSTACK_SECRET": "envsecret", "CLOUDSTACK_ENDPOINT": "http://x/client/api"}
    creds = load_credentials("lab", "http://127.0.0.1:8080/client/api", path, env)
    assert creds.url == "http://127.0.0.1:8080/client/api" and creds.api_key == API_KEY


def test_environment_is_used_when_no_profile_is_named(tmp_path: Path) -> None:
    env = {"CLOUDSTACK_API_KEY": "envkey", "CLOUDSTACK_SECRET_KEY": "envsecret",
           "CLOUDSTACK_API_URL": "https://ms2.example/client/api"}
    creds = load_credentials(config_path=tmp_path / "missing", env=env)
    assert (creds.url, creds.api_key, creds.secret_key, creds.source) == (
        "https://ms2.example/client/api", "envkey", "envsecret", "environment")


def test_old_cloudmonkey_core_section_and_verifysslcert_are_understood() -> None:
    cfg = parse_cmk_config("[core]\nprofile = old\n\n[old]\nurl = http://ms/client/api\napikey = a\n"
                           "secretkey = s#not-a-comment\nverifysslcert = false\n")
    assert cfg.core == {"profile": "old"}
    assert cfg.profiles["old"]["secretkey"] == "s#not-a-comment"


def test_verifycert_false_in_cmk_is_remembered_but_not_obeyed(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("profile = p\nverifycert = false\n[p]\nurl = https://ms/client/api\napikey = a\nsecretkey = s\n")
    assert load_credentials(config_path=path, env={}).config_verifycert is False


@pytest.mark.parametrize("text, expected", [
    ("profile = nope\n[prod]\nurl = http://ms/client/api\napikey = a\nsecretkey = s\n", "no profile [nope]"),
    ("profile = prod\n[prod]\nurl = http://ms/client/api\nusername = admin\npassword = pw\n",
     "apikey and secretkey are required"),
    ("profile = prod\n[prod]\nurl = ftp://ms/client/api\napikey = a\nsecretkey = s\n", "must be http(s)"),
    ("[prod]\nurl = http://ms/client/api\napikey = a\nsecretkey = s\n", "no profile named"),
])
def test_unusable_config_names_the_file_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(CredentialError) as err:
        load_credentials(config_path=path, env={})
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "pw" not in str(err.value).split(str(path))[-1]


def test_missing_everything_says_how_to_provide_credentials(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="does not exist and CLOUDSTACK_KEY/CLOUDSTACK_SECRET are not set"):
        load_credentials(config_path=tmp_path / "nope", env={})


def test_binary_config_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(b"\x00\xff\xfe garbage \x89PNG\r\n")
    with pytest.raises(CredentialError, match="no profile named"):
        load_credentials(config_path=path, env={})


def test_redacted_url_keeps_no_user_info_or_query() -> None:
    assert redact_url("https://u:p@[::1]:8443/client/api?apiKey=K&signature=S#x") == "https://[::1]:8443/client/api"
