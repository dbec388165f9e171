"""The fast filter counts a record for every line that opens with a stamp's `YYYY-`, whatever the year, and for no
other line; both ways of counting (inside the Hyperscan pass, and the plain way after trace-heavy blocks) agree."""

from __future__ import annotations

import re

import pytest

from diagnostics.facts.block_search import BlockSearch, available
from diagnostics.logs.interest import default_interest

pytestmark = pytest.mark.skipif(not available(default_interest()), reason="Hyperscan is not available on this machine")

LINES = [
    "2025-03-10 15:21:01,100 DEBUG [c.c.a.ApiServlet] (qtp-1:[ctx-1]) (logid:1) ===START=== GET",
    "9999-12-31 23:59:59,999 WARN  [c.c.a.ApiServlet] (qtp-1:[ctx-1]) (logid:1) the last second",
    "1970-01-01 00:00:00,000 INFO  [c.c.a.ApiServlet] (qtp-1:[ctx-1]) (logid:1) the epoch",
    "0001-01-01 00:00:00,000 INFO  [c.c.a.ApiServlet] (qtp-1:[ctx-1]) (logid:1) year one",
    "\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)",
    "2048 bytes free",
    "20",
    "1234",
    "12345-not-a-year",
    "",
    "2x25-03-10 not a stamp",
]


def _expected(text: bytes) -> int:
    return len(re.findall(rb"(?m)^\d{4}-", text))


@pytest.mark.parametrize("plain", [False, True], ids=["in the search", "the plain way"])
@pytest.mark.parametrize("ending", ["\n", "", "\n1", "\n12", "\n1234", "\n2025-", "\nx"])
@pytest.mark.parametrize("rotate", range(len(LINES)))
def test_records_are_lines_opening_with_a_year_of_any_value(plain: bool, ending: str, rotate: int) -> None:
    lines = LINES[rotate:] + LINES[:rotate]
    text = ("\n".join(lines) + ending).encode()
    buf = bytearray(text)
    search = BlockSearch(default_interest())
    search.plain_left = 1 if plain else 0
    search.hits(buf, memoryview(buf), len(buf), set())
    assert (search.not_records is None) == plain
    assert search.records(buf, len(buf), buf.count(b"\n")) == _expected(text)
