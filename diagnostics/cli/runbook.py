"""Placeholder: this command's module registers its typer command(s) here."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the csdiag app."""
