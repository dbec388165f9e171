"""Running one command line over an SSH channel without deadlock, without waiting forever, without filling memory.

paramiko's recv_exit_status() blocks while the remote side is stuck writing into a full window, and it
ignores channel timeouts (paramiko#448, #1815): so stdout and stderr are drained together in one loop,
the exit status is read only once it has arrived and the output has ended (EOF), and a client-side
deadline closes the channel.
"""

from __future__ import annotations

import select
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

import paramiko

CHUNK = 64 * 1024
STDERR_KEEP = 64 * 1024
POLL_SECONDS = 0.1


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C): stop quickly, leave no half-written file."""


@dataclass(slots=True)
class ExecOutcome:
    rc: int | None
    stdout_bytes: int
    truncated: bool
    deadline_hit: bool
    stderr: bytes
    started_at: float
    ended_at: float


def exec_bounded(
    transport: paramiko.Transport,
    command_line: str,
    *,
    deadline_s: float,
    byte_cap: int,
    sink: BinaryIO | None,
    cancel: threading.Event | None = None,
) -> ExecOutcome:
    """Run command_line; copy at most byte_cap stdout bytes into sink (None: count and discard).

    Past the cap or the deadline the channel is closed (the remote side sees SIGPIPE/SIGHUP) and rc is None.
    """
    started_at = time.time()
    deadline = time.monotonic() + deadline_s
    channel = transport.open_session(timeout=min(deadline_s, 30.0))
    try:
        channel.exec_command(command_line)
        return _drain(channel, started_at, deadline, byte_cap, sink, cancel)
    finally:
        channel.close()


@dataclass(slots=True)
class Sample:
    sent_at: float
    received_at: float
    text: str


def exec_samples(
    transport: paramiko.Transport, command_line: str, *, count: int, deadline_s: float, byte_cap: int
) -> tuple[list[Sample], ExecOutcome]:
    """Ask a running command for `count` answers, one line each, by writing one newline per question.

    Used for the clock: only the first answer pays for the shell's start-up, later ones cost one round
    trip plus one `date`, so the tightest bracket is far tighter than a fresh exec per reading.
    """
    started_at = time.time()
    deadline = time.monotonic() + deadline_s
    channel = transport.open_session(timeout=min(deadline_s, 30.0))
    samples: list[Sample] = []
    pending = b""
    try:
        channel.exec_command(command_line)
        for _ in range(count):
            sent_at = time.time()
            channel.sendall(b"\n")
            while b"\n" not in pending and time.monotonic() < deadline and len(pending) < byte_cap:
                if channel.recv_ready():
                    pending += channel.recv(CHUNK)
                elif channel.eof_received or channel.closed:
                    break
                else:
                    select.select([channel], [], [], POLL_SECONDS)
            received_at = time.time()
            if b"\n" not in pending:
                break
            line, pending = pending.split(b"\n", 1)
            samples.append(Sample(sent_at, received_at, line.decode("utf-8", errors="replace")))
        channel.shutdown_write()  # EOF on the remote stdin ends its read loop
        outcome = _drain(channel, started_at, deadline, byte_cap, None, None)
    finally:
        channel.close()
    outcome.stdout_bytes += sum(len(sample.text) + 1 for sample in samples)
    return samples, outcome


def _drain(
    channel: paramiko.Channel,
    started_at: float,
    deadline: float,
    byte_cap: int,
    sink: BinaryIO | None,
    cancel: threading.Event | None,
) -> ExecOutcome:
    stdout_bytes = 0
    truncated = False
    deadline_hit = False
    stderr = bytearray()
    rc: int | None = None
    while True:
        progressed = False
        while channel.recv_ready():
            data = channel.recv(CHUNK)
            if not data:
                break
            progressed = True
            room = byte_cap - stdout_bytes
            if len(data) > room:
                data = data[:room]
                truncated = True
            if sink is not None and data:
                sink.write(data)
            stdout_bytes += len(data)
            if truncated:
                break
        if truncated:
            break
        while channel.recv_stderr_ready():
            data = channel.recv_stderr(CHUNK)
            if not data:
                break
            progressed = True
            if len(stderr) < STDERR_KEEP:
                stderr += data[: STDERR_KEEP - len(stderr)]
        # sshd may send the exit status before the last output (it does when the window was full):
        # the output is complete only at EOF, which sshd sends after draining the command's pipes.
        drained = channel.eof_received and not channel.recv_ready() and not channel.recv_stderr_ready()
        if drained and channel.exit_status_ready():
            rc = channel.recv_exit_status()
            break
        if channel.closed and not channel.recv_ready() and not channel.recv_stderr_ready():
            break
        if time.monotonic() >= deadline:
            deadline_hit = True
            break
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if not progressed:
            if channel.eof_received:  # the pipe stays readable after EOF: wait for the status instead
                channel.status_event.wait(POLL_SECONDS)
            else:
                select.select([channel], [], [], POLL_SECONDS)
    return ExecOutcome(
        rc=rc if rc is None or rc >= 0 else None,
        stdout_bytes=stdout_bytes,
        truncated=truncated,
        deadline_hit=deadline_hit,
        stderr=bytes(stderr),
        started_at=started_at,
        ended_at=time.time(),
    )
