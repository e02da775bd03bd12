"""SBOMs as a scan target: CycloneDX and SPDX JSON documents read into the packages their purls name.

``read_sbom(path)`` tells the format from the document (``bomFormat`` or ``spdxVersion``) and returns an
``SbomRead``: packages, OS release, per-component errors and warnings. Whole-document problems raise
``SbomError`` (a TargetError).
"""

from __future__ import annotations

from pathlib import Path

from rampart.sbom.document import SbomError, load_json
from rampart.sbom.reading import SbomRead

__all__ = ["SbomError", "SbomRead", "read_sbom"]


def read_sbom(path: Path) -> SbomRead:
    """The packages, OS release, errors and warnings of the CycloneDX or SPDX JSON document at ``path``."""
    from rampart.sbom.cyclonedx_in import read_cyclonedx
    from rampart.sbom.spdx_in import read_spdx

    document = load_json(path)
    if "bomFormat" in document:
        return read_cyclonedx(document, str(path))
    if "spdxVersion" in document:
        return read_spdx(document, str(path))
    raise SbomError(f"{path}: neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document")
