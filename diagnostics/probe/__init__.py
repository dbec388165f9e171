"""SSH collection from KVM hosts: an allow-listed, read-only, bounded command set run over paramiko.

run_probe(hosts, options) writes OUT/<host>/ (outputs + manifest.json) and OUT/manifest.json;
read_probe_folder(path) reads a host folder back for analyze and bundle (files by command name, clock offset).
"""

import importlib

# Names resolved on first use (PEP 562): `csdiag analyze` reads probe folders through probe.manifest and never needs
# paramiko, which run_probe's module loads (~0.4 s of a CLI start).
_EXPORTS = {
    "ClockOffset": "clock", "clock_offset": "clock",
    "CommandSpec": "commands", "standard_commands": "commands",
    "CommandResult": "manifest", "HostResult": "manifest", "ProbeFolder": "manifest", "read_probe_folder": "manifest",
    "read_probe_run": "manifest",
    "ProbeOptions": "options", "Target": "options", "parse_since": "options", "parse_target": "options",
    "run_probe": "run",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ClockOffset",
    "CommandResult",
    "CommandSpec",
    "HostResult",
    "ProbeFolder",
    "ProbeOptions",
    "Target",
    "clock_offset",
    "parse_since",
    "parse_target",
    "read_probe_folder",
    "read_probe_run",
    "run_probe",
    "standard_commands",
]
