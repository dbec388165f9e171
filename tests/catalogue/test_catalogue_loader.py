"""The catalogue loader: what a valid entry is, and that a malformed one is refused with its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.catalogue import CatalogueError, load_catalogue, load_file

GOOD = '''
[[message]]
id = "site.gateway-refused"
class = "com.example.Gateway"
level = "WARN"
template = "Gateway {name:word} refused connection from {host:host} after {wait:duration}"
relevance = "failure"
category = "network"
examples = ["Gateway gw1 refused connection from Host[-4-Routing] after 30 s"]
'''


def _write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_operator_folder_extends_the_catalogue(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    cat = load_catalogue((str(tmp_path),))
    m = cat.match("Gateway gw1 refused connection from Host[-4-Routing] after 30 s")
    assert m is not None and m.template.id == "site.gateway-refused"
    assert m.fields == {"name": "gw1", "host": "Host[-4-Routing]", "wait": "30 s"}
    assert m.template.origin.endswith("site.toml:3")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (('relevance = "failure"', 'relevance = "bad"'), "relevance must be one of"),
        (('category = "network"', 'category = "weather"'), "unknown category 'weather'"),
        (('level = "WARN"', 'level = "LOUD"'), "level must be one of"),
        (('class = "com.example.Gateway"\n', ""), "missing or empty 'class'"),
        (("{wait:duration}", "{wait:fortnight}"), "unknown placeholder type 'fortnight'"),
        (('template = "Gateway {name:word} refused connection from {host:host} after {wait:duration}"',
          'template = "{name:word}: {host:host}"'), "no literal word"),
        (('examples = ["', 'examples = [1, "'), "examples must be a list of strings"),
    ],
)
def test_a_malformed_entry_is_refused_with_file_and_line(tmp_path: Path, change, complaint) -> None:
    path = _write(tmp_path, "# a comment line\n" + GOOD.replace(*change))
    with pytest.raises(CatalogueError) as err:
        load_file(path)
    assert f"{path}:4" in str(err.value)  # the line of the entry's id
    assert complaint in str(err.value)


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + '\n[[message]]\nid = "broken\n')
    with pytest.raises(CatalogueError, match=rf"{path}:12: .*line 12"):
        load_file(path)


def test_a_duplicate_id_names_both_places(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.toml")
    _write(tmp_path, GOOD, "b.toml")
    with pytest.raises(CatalogueError, match=r"b\.toml:3: duplicate id site\.gateway-refused \(first at .*a\.toml:3\)"):
        load_catalogue((str(tmp_path),))


def test_sources_read_in_both_spellings(tmp_path: Path) -> None:
    compact = GOOD + 'source = "server/src/Gw.java 4.19:12 4.20:14; server/src/com/Gw.java 4.11:9"\n'
    (t,) = load_file(_write(tmp_path, compact))
    assert [(s.release, s.path, s.line) for s in t.sources] == [
        ("4.19", "server/src/Gw.java", 12), ("4.20", "server/src/Gw.java", 14), ("4.11", "server/src/com/Gw.java", 9)]
    tables = GOOD + 'source = [{ release = "4.19", path = "server/src/Gw.java", line = 12 }]\n'
    (t,) = load_file(_write(tmp_path, tables))
    assert t.releases == ("4.19",)
