"""--dry-run: the exact lines each host would receive, printed without connecting anywhere."""

from __future__ import annotations

from diagnostics.probe.collect import specs_for
from diagnostics.probe.commands import CAT_FILE, MKTEMP, REMOVE_TEMP, SUDO_CHECK, WHOAMI, kill_run_spec, remote_command_line
from diagnostics.probe.options import ProbeOptions, Target


TMP = "TMP"  # stands for the folder the host's mktemp -d prints
RUN_ID = "RUN_ID"  # stands for the random id each session marks its remote processes with


def plan_lines(target: Target, options: ProbeOptions) -> list[str]:
    """One line per remote step. Root-only commands show the sudo form used when the login is not root."""
    hops, hop = [], target.jump
    while hop is not None:
        hops.append(f"{hop.user}@{hop.host}:{hop.port}")
        hop = hop.jump
    via = f" via jump host {' then '.join(reversed(hops))}" if hops else ""
    alias = f" ({target.name} in the ssh config)" if target.name else ""
    lines = [f"# {target.user}@{target.host}:{target.port}{alias}{via} (host key checked against {options.known_hosts})"]
    lines.append(f"whoami: {remote_command_line(WHOAMI, sudo=False)}")
    specs = specs_for(options)
    if options.sudo or any(spec.needs_root for spec in specs):
        lines.append(f"sudo_check (only if not root): {remote_command_line(SUDO_CHECK, sudo=False)}")
    for spec in specs:
        sudo = options.sudo or spec.needs_root
        when = " (sudo -n only if not root and sudo works)" if sudo else ""
        if spec.remote_file:
            lines.append(f"{spec.name}: {remote_command_line(MKTEMP, sudo=False)}  # prints TMP")
            lines.append(f"{spec.name}{when}: {remote_command_line(spec, sudo=sudo, args=(TMP,), run_id=RUN_ID)}")
            lines.append(f"{spec.name}: sftp get {TMP}/{spec.output} -> {spec.output} (at most {spec.byte_cap} bytes; "
                         f"without SFTP on the host: {remote_command_line(CAT_FILE, sudo=False, args=(f'{TMP}/{spec.output}',))})")
            lines.append(f"{spec.name}: {remote_command_line(REMOVE_TEMP, sudo=False, args=(TMP,))}")
        else:
            lines.append(f"{spec.name}{when}: {remote_command_line(spec, sudo=sudo, run_id=RUN_ID)} > {spec.output}")
    lines.append(f"cleanup (when a command is stopped early, and at the end; sudo -n when it works): "
                 f"{remote_command_line(kill_run_spec(RUN_ID), sudo=False)}")
    return lines
