"""The redaction table is tested like the rules: every form's examples, and the loader names file:line of a bad entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.bundle.redact import MARK, TABLE, RedactionTableError, _views, load_table, redact_text, table

FORMS = table().forms


@pytest.mark.parametrize(("form", "line", "secret"), [(f, line, s) for f in FORMS for line, s in f.match], ids=lambda v: getattr(v, "name", None))
def test_each_match_example_loses_its_secret_and_the_form_itself_finds_it(form, line: str, secret: str) -> None:
    out = redact_text(line + "\n")
    assert secret not in out
    assert MARK in out
    hits = [m for text in (line, *_views(line)) for m in form.pattern.finditer(text) if secret in m.group("value")]
    assert hits, f"{form.where}: form {form.name} does not itself match its example"


@pytest.mark.parametrize(("form", "line"), [(f, line) for f in FORMS for line in f.no_match], ids=lambda v: getattr(v, "name", None))
def test_each_no_match_example_comes_out_unchanged(form, line: str) -> None:
    assert redact_text(line + "\n") == line + "\n"


def test_every_secret_name_and_form_guard_passes_the_prefilter() -> None:
    """The prefilter skips lines without any of its literals: a name it does not cover would never be redacted."""
    t = table()
    for name in (*t.suffixes, *t.whole, *t.settings, *t.pair):
        assert any(lit in name.lower() for lit in t.prefilter), name
    for form in FORMS:
        for line, _secret in form.match:
            assert any(lit in line.lower() for lit in t.prefilter), f"{form.where}: {line}"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "redaction.toml"
    p.write_text(TABLE.read_text(encoding="utf-8") + text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("name = 'x'\nwhy = 'y'\nguard = ['a']\ncheck = 'none'\npattern = '('\nmatch = [{ line = 'a', secret = 'a' }]\nno_match = ['b']\n", "bad pattern"),
        ("name = 'x'\nwhy = 'y'\nguard = ['a']\ncheck = 'none'\npattern = 'a'\nmatch = [{ line = 'a', secret = 'a' }]\nno_match = ['b']\n", "(?P<value>)"),
        ("name = 'x'\nwhy = 'y'\nguard = ['a']\ncheck = 'none'\npattern = '(?P<value>a)'\nmatch = []\nno_match = ['b']\n", "match needs"),
        ("name = 'x'\nguard = ['a']\n", "lacks why"),
        ("name = 'x'\nwhy = 'y'\nguard = ['A']\ncheck = 'none'\npattern = '(?P<value>a)'\nmatch = [{ line = 'a', secret = 'a' }]\nno_match = ['b']\n", "lower-case"),
    ],
)
def test_a_malformed_entry_is_named_by_file_and_line(tmp_path: Path, entry: str, complaint: str) -> None:
    path = _write(tmp_path, "\n[[form]]\n" + entry)
    line = len(TABLE.read_text(encoding="utf-8").splitlines()) + 2
    with pytest.raises(RedactionTableError) as err:
        load_table(path)
    assert f"{path}:{line}:" in str(err.value)
    assert complaint in str(err.value)


COMMAND_TRACE = ('2025-03-10 00:00:00,103 DEBUG [c.c.a.t.Request] (StatsCollector-58:[ctx-f5b64403]) (logid:f5b64403) '
                 'Seq 18-7251549216581238795: Sending  { Cmd , MgmtId: 345049296663, via: 18(kvm18), Ver: v1, '
                 'Flags: 100011, [{"com.cloud.agent.api.GetVmStatsCommand":{"vmNames":["i-2-1394-VM"],'
                 '"hostName":"kvm18","wait":0,"bypassHostMaintenance":false}}] }')


def test_a_command_trace_whose_only_literals_are_benign_is_passed_through_untouched(monkeypatch) -> None:
    """`bypassHostMaintenance` (every Command's JSON) holds "pass" and hex ids hold "b64": such a line skips every
    form (the cost that made redaction 2x slower); the same line with a real secret in it is still redacted."""
    from diagnostics.bundle import redact

    searched = []
    monkeypatch.setattr(redact.Redactor, "_find", lambda self, body, low: searched.append(body) or ([], []))
    assert redact.Redactor().line(COMMAND_TRACE + "\n") == COMMAND_TRACE + "\n"
    assert searched == []
    monkeypatch.undo()

    with_secret = COMMAND_TRACE.replace('"wait":0', '"wait":0,"vncPassword":"Xy7-secret-Q"')
    assert "Xy7-secret-Q" not in redact_text(with_secret + "\n") and MARK in redact_text(with_secret + "\n")


def test_no_benign_pattern_touches_a_secret_name_or_a_match_example_key() -> None:
    """Benign text is taken out before the forms' guards are tested: it must never cover a secret's name."""
    t = table()
    names = (*t.suffixes, *t.whole, *t.settings, *t.pair)
    assert t.benign
    for pattern in t.benign:
        assert not [n for n in names if pattern.search(n.lower())], pattern.pattern
    for form in FORMS:
        for line, _secret in form.match:
            stripped = line.lower()
            for pattern in t.benign:
                stripped = pattern.sub(" ", stripped)
            assert any(lit in stripped for lit in t.prefilter), f"{form.where}: {line}"
