"""What the fleet holds packages on: enrolled hosts and scanned registry images.

Each kind keeps its packages and its findings in its own pair of tables, keyed by its own owner column,
and shares the distinct packages and their verdicts (``packages``, ``package_vulns``). The set-based
finding statements in `rampart.fleet.sql` take a `Holdings` and so serve both kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rampart.model import Package
from rampart.store.models import FindingRow, HostPackage, ImageFindingRow, ImagePackage


@dataclass(frozen=True)
class Holdings:
    """One kind of package owner: its package table, its finding table and their owner column."""

    kind: str
    packages: Any
    findings: Any
    owner: str
    layers: bool = False

    def package_owner(self) -> Any:
        """The owner column of the package table."""
        return getattr(self.packages, self.owner)

    def finding_owner(self) -> Any:
        """The owner column of the finding table."""
        return getattr(self.findings, self.owner)

    def row(self, owner: str, package_id: int, package: Package) -> dict[str, Any]:
        """The package-table row saying that ``owner`` holds ``package``."""
        row = {self.owner: owner, "package_id": package_id, "location": package.location}
        row["extractor"] = package.extractor[:64]
        if self.layers:
            row["layer"] = (package.layer or "")[:128]
        return row


HOSTS = Holdings("host", HostPackage, FindingRow, "host_id")
IMAGES = Holdings("image", ImagePackage, ImageFindingRow, "image_id", layers=True)
ALL_HOLDINGS = (HOSTS, IMAGES)
