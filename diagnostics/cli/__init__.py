"""The csdiag command line: one thin module per command, no analysis logic here."""

from __future__ import annotations

import sys

import typer

from diagnostics import __version__
from diagnostics.cli.common import ExitCode, warn

app = typer.Typer(
    name="csdiag",
    help="Diagnose Apache CloudStack 'Change VM Offering' failures from logs, host evidence and heartbeat captures.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,
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

for _module in (_analyze, _timeline, _rules, _runbook, _heartbeat, _probe, _bundle, _api):
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the app; map usage errors to UNKNOWN (3) so they never read as CRITICAL (2)."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        warn("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
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
