"""A part of the comment: its text, a compact form, and how important it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Section:
    name: str
    text: str
    priority: int                     # lower = dropped/compacted first
    compact: str | None = None
