"""Prints the corpus accuracy table at the end of every pytest run that ran corpus cases."""

from __future__ import annotations

from tests.corpus.corpus import accuracy_table

RESULTS: list = []  # (Case, Verdict) appended by test_corpus as each case is judged


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if RESULTS:
        terminalreporter.write_sep("=", "real-world corpus")
        terminalreporter.write_line(accuracy_table(sorted(RESULTS, key=lambda r: r[0].name)))
