"""The hand check: real log lines from public CloudStack threads (kept exactly as posted, with their URL and
version in real_excerpts.toml) are recognised as the catalogue template a reader would name."""

from __future__ import annotations

import tomllib
from datetime import timezone
from pathlib import Path

import pytest
from catalogue_coverage import OVERRIDES

from diagnostics.analysis import analyze_paths
from diagnostics.catalogue import load_catalogue

CAT = load_catalogue()
EXCERPTS = tomllib.loads(Path(__file__).with_name("real_excerpts.toml").read_text(encoding="utf-8"))["excerpt"]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: f"{e['url'].rsplit('/', 1)[-1]}:{e['template']}")
def test_a_real_line_is_recognised_as_its_template(excerpt) -> None:
    assert excerpt["url"].startswith("https://") and excerpt["version"]
    m = CAT.match(excerpt["text"])
    assert m is not None, excerpt["text"]
    assert m.template.id == excerpt["template"]
    assert m.template.relevance == excerpt["relevance"]
    if "category" in excerpt:
        assert m.template.category == excerpt["category"]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: f"{e['url'].rsplit('/', 1)[-1]}:{e['template']}")
def test_a_real_line_gives_its_finding_end_to_end(excerpt, tmp_path) -> None:
    """The same line as a file through the whole analysis: a failure gives a warning or critical finding of its
    category (or of the rule accepted_overrides.toml names for its template), anything else none."""
    path = tmp_path / "excerpt.log"
    path.write_text(excerpt["text"] + "\n", encoding="utf-8")
    analysis = analyze_paths([str(path)], tz=timezone.utc)
    loud = [(f.rule_id, f.category) for f in analysis.findings if f.severity in ("warning", "critical")]
    if excerpt["relevance"] != "failure":
        assert loud == []
    else:
        assert any(f.kind == "log_record" and f.template is not None for f in analysis.collected.facts)
        accepted = OVERRIDES.get(excerpt["template"], (None,))[0]
        # `finding`: the category of a specific rule that reads the cause quoted inside the message
        expected = excerpt.get("finding", excerpt["category"])
        assert any(cat == expected or rule == accepted for rule, cat in loud), loud


def test_no_reserved_thread_is_used() -> None:
    reserved = Path("/work/shared/reference/reserved-threads.md")
    if not reserved.exists():
        pytest.skip("the reserved list is not on this machine")
    numbers = {int(n) for n in reserved.read_text().split("Pages kept")[0].split() if n.isdigit()}
    for e in EXCERPTS:
        if "github.com/apache/cloudstack/" in e["url"]:
            assert int(e["url"].rstrip("/").rsplit("/", 1)[-1]) not in numbers, e["url"]
