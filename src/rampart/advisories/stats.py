"""Counting what one import or update read, kept, replaced and skipped, and saying it in one line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ImportStats:
    """Running totals for one build; ``records`` counts distinct ids taken from the inputs."""

    records: int = 0
    duplicates: int = 0
    withdrawn: int = 0
    sources: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def summary(self, verb: str = "imported") -> str:
        """E.g. ``imported 20,191 records from 3 sources; skipped 4 malformed (3 not JSON, 1 missing id)``."""
        noun = "source" if self.sources == 1 else "sources"
        parts = [f"{verb} {self.records:,} records from {self.sources} {noun}"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicate ids (kept the newest)")
        if self.skipped:
            detail = ", ".join(f"{n:,} {reason}" for reason, n in sorted(self.skipped.items()))
            parts.append(f"skipped {sum(self.skipped.values()):,} malformed ({detail})")
        return "; ".join(parts)
