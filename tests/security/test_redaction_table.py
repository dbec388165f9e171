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
