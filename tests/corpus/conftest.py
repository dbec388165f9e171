"""Prints the corpus accuracy table at the end of every pytest run that ran corpus cases."""

from __future__ import annotations

from tests.corpus.corpus import RESULTS, accuracy_table


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if RESULTS:
        terminalreporter.write_sep("=", "real-world corpus")
        terminalreporter.write_line(accuracy_table(sorted(RESULTS, key=lambda r: r[0].name)))
