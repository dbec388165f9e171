"""`python -m diagnostics.host FILE...`: show the facts csdiag reads from host command output, one JSON per line.

For checking what a pasted or collected output yields before writing a rule against it; `-` reads stdin.
Errors are one line each on stderr; exit code 3 when any input could not be read as host evidence.
"""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from diagnostics.cli.common import ExitCode, warn
from diagnostics.host.detect import KINDS
from diagnostics.host.evidence import MAX_TABLE_BYTES, facts_from_file, facts_from_text

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def show(
    files: List[str] = typer.Argument(..., metavar="FILE...", help="Command output files; - for stdin."),
    host: Optional[str] = typer.Option(None, "--host", help="Host name (default: from the file's folder)."),
    kind: Optional[str] = typer.Option(None, "--kind", help=f"Skip detection for stdin: {', '.join(KINDS)}."),
) -> None:
    """Print every fact as JSON, one per line (fields that are unset are left out)."""
    failed = False
    for name in files:
        if name == "-":
            text = sys.stdin.read(MAX_TABLE_BYTES)
            facts, errors = facts_from_text(text, path="<stdin>", host=host, kind=kind), []
            if not facts:
                errors = ["<stdin>: no facts (not recognised as host command output, or nothing in it)"]
        else:
            facts, errors = facts_from_file(name, host=host)
        for fact in facts:  # unset (None) fields are left out to keep lines readable
            print(json.dumps({k: v for k, v in fact.to_dict().items() if v is not None}, default=str))
        for error in errors:
            warn(error)
        failed = failed or bool(errors)
    raise typer.Exit(int(ExitCode.UNKNOWN) if failed else int(ExitCode.OK))


if __name__ == "__main__":
    app()
