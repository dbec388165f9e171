"""The csdiag command line: one thin module per command, no analysis logic here."""

from __future__ import annotations

import os
import sys

import typer

from diagnostics import __version__
from diagnostics.cli.common import ExitCode, warn

app = typer.Typer(
    name="csdiag",
    help="Diagnose Apache CloudStack 'Change VM Offering' failures from logs, host evidence and heartbeat captures.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"csdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """csdiag reads management-server.log, agent.log, host evidence and port-8250 captures and says why an offering change failed.

    Exit codes: 0 nothing above info, 1 warning, 2 critical, 3 incomplete input or usage error.
    """


from diagnostics.cli import timeline as _timeline  # noqa: E402
from diagnostics.cli import analyze as _analyze  # noqa: E402
from diagnostics.cli import rules as _rules  # noqa: E402
from diagnostics.cli import heartbeat as _heartbeat  # noqa: E402
from diagnostics.cli import probe as _probe  # noqa: E402
from diagnostics.cli import bundle as _bundle  # noqa: E402
from diagnostics.cli import api as _api  # noqa: E402
from diagnostics.cli import runbook as _runbook  # noqa: E402
from diagnostics.cli import config as _config  # noqa: E402

for _module in (_analyze, _timeline, _rules, _runbook, _heartbeat, _probe, _bundle, _api, _config):
    _module.register(app)


def _is_devnull() -> bool:
    try:
        st, null = os.fstat(1), os.stat(os.devnull)
    except OSError:
        return False
    return (st.st_rdev, st.st_ino) == (null.st_rdev, null.st_ino)


def _quiet_closed_pipe() -> None:
    """The reader closed the pipe: no traceback, no "Exception ignored" at exit, exit 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(0)


# rich's boxed help cuts what does not fit its columns with "…" (option names below ~80 columns); click's plain
# help wraps every word instead. Boxes only where they fit whole: a terminal at least this wide.
BOXED_HELP_MIN_COLUMNS = 80


def _boxed_help_fits() -> bool:
    if os.environ.get("TERM") == "dumb" or not sys.stdout.isatty():
        return False
    try:
        columns = int(os.environ.get("COLUMNS") or os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError):
        return False
    return columns >= BOXED_HELP_MIN_COLUMNS


def main(argv: list[str] | None = None) -> None:
    """Run the app; map usage errors to UNKNOWN (3) so they never read as CRITICAL (2); a closed pipe is exit 0."""
    was_devnull = _is_devnull()
    app.rich_markup_mode = "rich" if _boxed_help_fits() else None
    try:
        rv = app(args=argv, prog_name="csdiag", standalone_mode=False)
    except KeyboardInterrupt:
        warn("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_closed_pipe()
    except SystemExit as exc:
        # click turns EPIPE into exit 1 and swaps stdout for a PacifyFlushWrapper: a reader that stopped reading
        # (`| head`) is not a failure, so leave quietly with 0
        # rich does the same and points stdout at /dev/null before raising SystemExit(1)
        if exc.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper" or (_is_devnull() and not was_devnull)):
            _quiet_closed_pipe()
        raise
    except Exception as exc:  # click's exceptions (typer may vendor its own copy of click)
        name = type(exc).__name__
        if name == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]
            sys.exit(0)
        if name == "Abort":
            warn("aborted")
            sys.exit(int(ExitCode.UNKNOWN))
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(int(ExitCode.UNKNOWN))
        warn(f"internal error: {name}: {exc} (please report this)")
        sys.exit(int(ExitCode.UNKNOWN))
    sys.exit(rv if isinstance(rv, int) else 0)
