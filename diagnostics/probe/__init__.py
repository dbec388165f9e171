"""SSH collection from KVM hosts: an allow-listed, read-only, bounded command set run over paramiko.

run_probe(hosts, options) writes OUT/<host>/ (outputs + manifest.json) and OUT/manifest.json;
read_probe_folder(path) reads a host folder back for analyze and bundle (files by command name, clock offset).
"""

from diagnostics.probe.clock import ClockOffset, clock_offset
from diagnostics.probe.commands import CommandSpec, standard_commands
from diagnostics.probe.manifest import CommandResult, HostResult, ProbeFolder, read_probe_folder, read_probe_run
from diagnostics.probe.options import ProbeOptions, Target, parse_since, parse_target
from diagnostics.probe.run import run_probe

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
