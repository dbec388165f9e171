"""Fact kinds of this area (see diagnostics.model)."""

from __future__ import annotations
