"""What every command shares: exit codes, consoles that respect NO_COLOR, one-line errors."""

from __future__ import annotations

import enum
import os
import sys

from rich.console import Console


class ExitCode(enum.IntEnum):
    """Nagios-style: monitoring and on-call scripts branch on these."""

    OK = 0  # nothing above info
    WARNING = 1  # a warning finding
    CRITICAL = 2  # a critical finding
    UNKNOWN = 3  # incomplete input, unreadable file, usage error: the answer is not trustworthy


def _color_allowed() -> bool:
    return "NO_COLOR" not in os.environ


def stdout_console(soft_wrap: bool = True) -> Console:
    """soft_wrap keeps long log lines whole (timeline); reports with panels need wrapping (soft_wrap=False)."""
    return Console(no_color=not _color_allowed(), highlight=False, soft_wrap=soft_wrap)


def stderr_console() -> Console:
    return Console(stderr=True, no_color=not _color_allowed(), highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    """One clear line on stderr, never a traceback."""
    stderr_console().print(f"csdiag: {message}", markup=False)


def die(message: str, code: ExitCode = ExitCode.UNKNOWN) -> "NoReturn":  # type: ignore[name-defined]
    warn(message)
    sys.exit(int(code))


def format_option(default, choices: tuple[str, ...], help: str):
    """`--format`/`-f` the same way in every command, its values completed by the shell."""
    import typer

    return typer.Option(default, "--format", "-f", help=help,
                        autocompletion=lambda incomplete: [c for c in choices if c.startswith(incomplete or "")])


def check_format(value: str, choices: tuple[str, ...]) -> None:
    import typer

    if value not in choices:
        raise typer.BadParameter(f"--format must be one of: {', '.join(choices)} (got {value!r})")
