"""Running the real ``rampart`` CLI in a subprocess for the differential tests: import a zip, scan a root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from integration.cli import rampart


def import_db(cache_dir: Path, *zips: Path) -> None:
    for path in zips:
        done = rampart("db", "import", path, cache_dir=cache_dir)
        assert done.returncode == 0, f"rampart db import {path} failed ({done.returncode}):\n{done.stderr}"


def scan_json(cache_dir: Path, root: Path) -> dict[str, Any]:
    """``rampart scan ROOT --format json``; exit codes 0 and 1 (findings) both carry a report."""
    done = rampart("scan", root, "--format", "json", cache_dir=cache_dir)
    assert done.returncode in (0, 1), f"rampart scan failed ({done.returncode}):\n{done.stderr}"
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"rampart scan did not print JSON ({exc}):\n{done.stdout[:2000]}") from exc
    assert report.get("schema") == "rampart.scan/1", f"unexpected schema {report.get('schema')!r}"
    assert not report.get("errors"), f"rampart reported errors: {report['errors']}"
    return report


def finding_ids(finding: dict[str, Any]) -> list[str]:
    """The advisory record ids behind one finding (its own id where it names none)."""
    return list(finding.get("advisories") or []) or [finding["id"]]
