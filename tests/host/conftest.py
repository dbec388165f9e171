"""Fixtures of the host evidence tests: the recorded outputs under data/ (see data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def real() -> Path:
    """Outputs recorded on this Debian 12 machine (procps-ng 4.0.2, util-linux 2.38, lm-sensors 3.6)."""
    return DATA / "real"


@pytest.fixture
def formats() -> Path:
    """Outputs this VM cannot produce (OOM kills, coretemp, 2-node NUMA, virsh), written in the tools' exact layout."""
    return DATA / "formats"
