"""Helpers for the command-line tests: run `csdiag` in-process (fast) or as a real process (pipes, terminals)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diagnostics.cli import main

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = os.path.join(ROOT, "samples")


def run_inprocess(capsys, *argv):
    """`csdiag ARGV` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def run_process(*argv, env=None, stdin=None, **kw):
    """`python -m diagnostics ARGV` from the checkout, stdout a pipe (not a terminal)."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "diagnostics", *map(str, argv)], cwd=ROOT, env=full_env, input=stdin,
                          capture_output=True, text=True, timeout=120, **kw)
