"""The examples in the parser docstrings are part of the specification: run them."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["free", "meminfo", "dmesg", "sensors", "lscpu", "numactl", "virsh_nodeinfo", "virsh_dominfo",
           "virsh_list", "uptime", "ksm", "detect", "hostname"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"diagnostics.host.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
