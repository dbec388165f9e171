"""Where the sample incidents are and how to run the real csdiag command line (a uniquely named module: test folders
share one `conftest` module name when pytest imports them without packages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "expected.json").is_file())


def run_csdiag(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line, as an operator runs it (no colour, so output can be read as text)."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, timeout=timeout)
