"""The analysis inside a bundle: run on the staged, already redacted copies.

Why on the copies: the reports then cite `path:line` of bundle members (the line numbers match, redaction keeps
lines), and they cannot quote a secret that the bundle itself no longer holds. The analysis is handed in by the
caller (the CLI passes `diagnostics.analysis.reports_for`), so writing a bundle never imports the read side: when
none is given or it fails, the manifest says so instead of the bundle failing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics.bundle.pseudonymize import Pseudonymizer
from diagnostics.bundle.redact import redact_text

# input paths -> {"analysis.json": text, "analysis.md": text}: what bundle creation stores under reports/
Analyse = Callable[[list[str]], dict[str, str]]


def bundle_reports(
    enabled: bool,
    analyse: Analyse | None,
    redact: bool,
    tree: Path,
    top: str,
    names: list[str],
    pseudo: Pseudonymizer | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Write reports/analysis.* under `tree` from the staged members `names`; returns the manifest's `reports`."""
    if not enabled:
        return {"produced": False, "reason": "disabled with --no-reports"}
    if analyse is None:
        return {"produced": False, "reason": "no analysis was given to bundle creation (BundleOptions.analyse)"}
    roots = sorted({tree / "/".join(name.split("/")[:2]) for name in names if name.count("/") >= 1})
    if not roots:
        return {"produced": False, "reason": "no input files were collected"}
    say("analysing the collected files")
    try:
        produced = analyse([str(r) for r in roots])
    except Exception as exc:  # noqa: BLE001 - a failing analysis must not lose the bundle
        return {"produced": False, "reason": f"analysis failed: {type(exc).__name__}: {exc}"}
    names: list[str] = []
    (tree / "reports").mkdir(exist_ok=True)
    for name, text in sorted(produced.items()):
        if "/" in name or name.startswith("."):
            continue
        text = text.replace(str(tree) + os.sep, top + "/").replace(str(tree), top)
        if redact:
            text = redact_text(text)
        if pseudo is not None:
            text = "".join(pseudo.line(line) for line in text.splitlines(keepends=True))
        (tree / "reports" / name).write_text(text, encoding="utf-8")
        names.append(f"reports/{name}")
    return {"produced": bool(names), "files": names}
