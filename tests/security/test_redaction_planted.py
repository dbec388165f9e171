"""No planted secret survives redaction, whatever its value, form and encoding (raw, URL, base64 at any alignment,
JSON-escaped); and none survives into a bundle or any report format."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from planted import FORMS, leaks

from diagnostics.bundle.redact import MARK, redact_text


@st.composite
def planted(draw: st.DrawFn):
    form = draw(st.sampled_from(FORMS))
    secret = draw(st.text(alphabet=form.alphabet, min_size=8, max_size=40))
    assume(not leaks(secret, form.line("Q") + MARK))  # the secret must not occur in the template (or marker) by chance
    return form, secret


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(planted())
def test_a_random_secret_in_any_form_and_encoding_is_gone(case) -> None:
    form, secret = case
    out = redact_text(form.line(secret) + "\n")
    assert not leaks(secret, out), (form.name, out)
    assert MARK in out
    assert out.count("\n") == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.lists(planted(), min_size=2, max_size=6))
def test_many_secrets_in_one_text_are_all_gone(cases) -> None:
    text = "".join(form.line(secret) + "\n" for form, secret in cases)
    out = redact_text(text)
    for form, secret in cases:
        assert not leaks(secret, out), (form.name, secret)
    assert out.count("\n") == text.count("\n")


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_each_form_with_a_fixed_secret(form) -> None:
    secret = "Pl4nted.S3cret-" + form.name.replace("-", "")[:12]
    secret = "".join(c for c in secret if c in form.alphabet)
    out = redact_text(form.line(secret) + "\n")
    assert not leaks(secret, out), out
