"""The allow-list: every command the probe may run on a host, declared as data (like a sos plugin).

Each spec is read-only, bounded in time (a remote coreutils `timeout` plus a client deadline) and in
output (a byte cap), and says whether it needs root. Nothing outside this list ever runs on a host;
tests that need a slow or noisy command pass their own spec through ProbeOptions.commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from diagnostics.bundle.redact import host_filter_words

MiB = 1024 * 1024

# Secrets leave agent.properties ON THE HOST: the value of every key whose name mentions one of the words of
# [host_filter] in diagnostics/bundle/redaction.toml is replaced before the bytes travel; commented-out keys too,
# whatever comment prefix they carry (an old password is still a password), and credentials inside any URI
# (`hypervisor.uri=qemu+ssh://root:pw@host/system`).
SECRET_KEY_WORDS = host_filter_words()
REDACTED = "<redacted>"
_WORDS = "(" + "|".join(SECRET_KEY_WORDS) + ")"
_REDACT_SED = (
    # key=value, key: value, key value
    r"s/^([[:space:]]*[#!;]*[[:space:]]*[^=:[:space:]]*" + _WORDS + r"[^=:[:space:]]*"
    r"([[:space:]]*[=:][[:space:]]*|[[:space:]]+)).*$/\1" + REDACTED + "/I",
    # a comment that names a secret key after some words: `## old: keystore.passphrase=x`, `#OLD db.password x`
    r"s/^([[:space:]]*[#!;]+([^=]*[[:space:]:])?[^=:[:space:]]*" + _WORDS + r"[^=:[:space:]]*"
    r"([[:space:]]*[=:][[:space:]]*|[[:space:]]+)).*$/\1" + REDACTED + "/I",
    # user:password@ inside any URI on any line
    r"s#(://[^:/@[:space:]]*:)[^@[:space:]]+@#\1" + REDACTED + "@#g",
)

# A log4j record starts with 'yyyy-MM-dd HH:mm:ss' (log4j2 %d{ISO8601} puts a 'T' in the middle).
# Spelled without {n} intervals because mawk, Debian's default awk, may not support them.
_D2 = "[0-9][0-9]"
_LOG4J_START = f"^{_D2}{_D2}-{_D2}-{_D2}[ T]{_D2}:{_D2}:{_D2}"
_SINCE_FILTER = (
    f"/{_LOG4J_START}/ {{ ts = substr($0, 1, 19); sub(/T/, \" \", ts); keep = (ts >= since) }} keep {{ print }}"
)


@dataclass(slots=True, frozen=True)
class CommandSpec:
    """One allow-listed command.

    script: a POSIX sh snippet (arguments already shlex-quoted). With remote_file set, `$1` is a private
    temp folder on the host and the script writes "$1/<output>", which is then fetched over SFTP.
    clock_samples: the script answers one clock reading per newline on its stdin; the runner asks that
    many times and derives the clock offset. ok_rcs: exit codes that mean success (a capture stopped
    by `timeout` ends 124).
    """

    name: str
    script: str
    output: str
    timeout: int = 20
    byte_cap: int = 4 * MiB
    needs_root: bool = False
    remote_file: bool = False
    stop_signal: str = "TERM"
    ok_rcs: tuple[int, ...] = (0,)
    clock_samples: int = 0


RUN_VARIABLE = "CSDIAG_RUN"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def remote_command_line(spec: CommandSpec, *, sudo: bool, args: tuple[str, ...] = (), run_id: str | None = None) -> str:
    """The exact line sent to the host: [sudo -n --] timeout ... env LC_ALL=C [CSDIAG_RUN=ID] sh -c SCRIPT csdiag ARGS.

    `sudo -n` never prompts; `timeout` sits inside sudo so the root process is the one it kills, and runs the
    command in its own process group; LC_ALL=C keeps the output in the English the parsers expect.
    CSDIAG_RUN marks every process the command starts, whatever process group or session it moves to, so
    `kill_run_script` can find and kill them all when the probe stops early (see kill_run_script).
    """
    marker = [f"{RUN_VARIABLE}={_checked_run_id(run_id)}"] if run_id is not None else []
    parts = ["timeout", "-s", spec.stop_signal, "-k", "5", str(spec.timeout), "env", "LC_ALL=C", *marker, "sh", "-c", spec.script, "csdiag", *args]
    if sudo:
        parts = ["sudo", "-n", "--", *parts]
    return " ".join(shlex.quote(part) for part in parts)


def agent_properties_script(path: str) -> str:
    expressions = " ".join(f"-e {shlex.quote(e)}" for e in _REDACT_SED)
    return f"sed -E {expressions} {shlex.quote(path)}"


def agent_log_script(path: str, since_seconds: int, byte_cap: int) -> str:
    """The end of agent.log (at most byte_cap bytes) from the first record at or after now - since.

    The cut-off is computed by the host's own `date` because log4j writes local time without a zone.
    When agent.log starts after the cut-off (it was rotated inside the window), the rotated files
    modified since then (agent.log.2025-01-01.gz, agent.log.1, ...; at most 256 MiB each) are read
    first, oldest first: usually one file, and `tail -c` keeps memory bounded on the host.
    dash has no pipefail, so the one failure that matters (an unreadable agent.log) is checked first.
    """
    first_record = f"/{_LOG4J_START}/ {{ print substr($0, 1, 19); exit }}"
    return (
        f"f={shlex.quote(path)}; "
        "[ -r \"$f\" ] || { echo \"csdiag: cannot read $f\" >&2; exit 66; }; "
        f"since=$(date -d \"@$(( $(date +%s) - {int(since_seconds)} ))\" '+%Y-%m-%d %H:%M:%S') || exit 65; "
        f"first=$(head -c 65536 \"$f\" | awk {shlex.quote(first_record)} | tr T ' '); "
        "older=; "
        "if [ -z \"$first\" ] || awk -v a=\"$first\" -v b=\"$since\" 'BEGIN { exit !(a > b) }'; then "
        "older=$(find \"$(dirname \"$f\")\" -maxdepth 1 -name \"$(basename \"$f\").*\" -size -256M -newermt \"$since\" "
        "-printf '%T@ %p\\n' | sort -n | cut -d' ' -f2-); fi; "
        "{ if [ -n \"$older\" ]; then printf '%s\\n' \"$older\" | while IFS= read -r o; do zcat -f -- \"$o\"; done; fi; cat -- \"$f\"; } "
        f"| tail -c {int(byte_cap)} | awk -v since=\"$since\" {shlex.quote(_SINCE_FILTER)}"
    )


def capture_script(port: int, byte_cap: int, output: str) -> str:
    """tcpdump into "$1/<output>"; `-c` bounds the file: each record is at most 16 + 128 bytes.

    "$1" is a `mktemp -d` folder owned by the login user, not a file in /tmp: with fs.protected_regular
    root may not open a file another user owns in a sticky folder. -Z root: Debian's tcpdump otherwise
    drops to user tcpdump before opening the output file; it only writes raw packets (-w), it dissects nothing.
    """
    max_packets = max(1, (byte_cap - 24) // (16 + 128))
    return f"exec tcpdump -i any -s 128 -U -n -Z root -c {max_packets} -w \"$1\"/{shlex.quote(output)} {shlex.quote(f'tcp port {int(port)}')}"


def standard_commands(
    *,
    since_seconds: int,
    agent_properties_path: str,
    agent_log_path: str,
    agent_log_bytes: int,
    capture_seconds: int,
    capture_port: int,
    capture_bytes: int,
) -> tuple[CommandSpec, ...]:
    """The allow-list, in run order. `date` comes first so the clock offset is measured before the slow parts."""
    specs = [
        # One reading per newline we send: see clock.py and execute.exec_samples.
        CommandSpec(name="date", script="while read -r _; do date +%s.%N || exit; done", output="date.txt", timeout=10, byte_cap=4096, clock_samples=5),
        CommandSpec(name="uptime", script="uptime", output="uptime.txt", timeout=10, byte_cap=4096),
        CommandSpec(name="free_b", script="free -b", output="free-b.txt", byte_cap=64 * 1024),
        CommandSpec(name="free_m", script="free -m", output="free-m.txt", byte_cap=64 * 1024),
        CommandSpec(name="meminfo", script="cat /proc/meminfo", output="meminfo.txt", byte_cap=256 * 1024),
        # ISO timestamps when util-linux is new enough, else human ones, else raw seconds since boot.
        # Only the last attempt's stderr is kept: it names the real reason (e.g. dmesg_restrict).
        CommandSpec(
            name="dmesg",
            script="dmesg --time-format iso 2>/dev/null || dmesg -T 2>/dev/null || dmesg",
            output="dmesg.txt",
            timeout=30,
            byte_cap=16 * MiB,
            needs_root=True,
        ),
        # On a VM without sensors this prints "No sensors found!" on stderr and exits 1: recorded, not fatal.
        CommandSpec(name="sensors", script="sensors", output="sensors.txt"),
        CommandSpec(name="sensors_json", script="sensors -j", output="sensors.json"),
        CommandSpec(name="lscpu", script="lscpu", output="lscpu.txt"),
        CommandSpec(name="numactl_hardware", script="numactl --hardware", output="numactl-hardware.txt"),
        # -r: a read-only libvirt connection; the system URI even for a non-root login.
        CommandSpec(name="virsh_nodeinfo", script="virsh -r -c qemu:///system nodeinfo", output="virsh-nodeinfo.txt", needs_root=True),
        CommandSpec(name="virsh_list", script="virsh -r -c qemu:///system list --all", output="virsh-list-all.txt", needs_root=True),
        CommandSpec(
            name="agent_properties",
            script=agent_properties_script(agent_properties_path),
            output="agent.properties",
            byte_cap=1 * MiB,
            needs_root=True,
        ),
        CommandSpec(
            name="agent_log",
            script=agent_log_script(agent_log_path, since_seconds, agent_log_bytes),
            output="agent.log",
            timeout=120,
            byte_cap=agent_log_bytes + 64 * 1024,
        ),
    ]
    if capture_seconds > 0:
        specs.append(
            CommandSpec(
                name="capture_8250" if capture_port == 8250 else f"capture_{capture_port}",
                script=capture_script(capture_port, capture_bytes, f"capture-{capture_port}.pcap"),
                output=f"capture-{capture_port}.pcap",
                timeout=int(capture_seconds),
                byte_cap=capture_bytes,
                needs_root=True,
                remote_file=True,
                stop_signal="INT",
                ok_rcs=(0, 124),
            )
        )
    return tuple(specs)


def _checked_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"bad run id {run_id!r}")
    return run_id


def kill_run_script(run_id: str) -> str:
    """Kill every process whose environment carries CSDIAG_RUN=<run_id>, in up to 3 sweeps (a fork may race one).

    The environment is inherited by every descendant, also by one that left the process group (setsid, a
    daemon) or ignores SIGTERM, so this reaches what `kill -- -PGID` and the remote `timeout` miss. This
    script's own process has the id only in its arguments, never in its environment, so it never matches itself.
    A non-root login can only read (and kill) its own processes' environments: root-owned commands are swept
    through `sudo -n` (see remote_command_line).
    """
    pattern = f"{RUN_VARIABLE}={_checked_run_id(run_id)}"
    return (
        "n=0; for sweep in 1 2 3; do "
        f"pids=$(grep -lzx {shlex.quote(pattern)} /proc/[0-9]*/environ 2>/dev/null | sed -n 's,^/proc/\\([0-9]*\\)/environ$,\\1,p'); "
        "[ -n \"$pids\" ] || break; kill -KILL $pids 2>/dev/null; n=$((n + $(echo $pids | wc -w))); sleep 0.1; done; echo \"$n\""
    )


# Helper commands the runner itself needs, also read-only (rm only removes our own mktemp file).
WHOAMI = CommandSpec(name="whoami", script="id -u", output="", timeout=10, byte_cap=64)
SUDO_CHECK = CommandSpec(name="sudo_check", script="sudo -n true", output="", timeout=10, byte_cap=4096)
TEMP_PREFIX = "csdiag-probe."
MKTEMP = CommandSpec(name="mktemp", script=f"mktemp -d -t {TEMP_PREFIX}XXXXXXXXXX", output="", timeout=10, byte_cap=4096)
REMOVE_TEMP = CommandSpec(name="remove_temp", script='rm -rf -- "$1"', output="", timeout=10, byte_cap=4096)
# Streams one file (our own temp output) when the host's sshd offers no SFTP subsystem; bounded by the caller's cap.
CAT_FILE = CommandSpec(name="cat_file", script='exec cat -- "$1"', output="", timeout=120)


def kill_run_spec(run_id: str) -> CommandSpec:
    return CommandSpec(name="kill_run", script=kill_run_script(run_id), output="", timeout=15, byte_cap=4096)
