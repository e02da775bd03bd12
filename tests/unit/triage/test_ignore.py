"""The ignore file: matching by any id, optional package, expiry, and clear errors for bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rampart.errors import IgnoreFileError
from rampart.triage.ignore import IgnoreRule, apply_ignores, load_ignore_file, parse_ignore_document
from unit.report.sample import sample_result

TODAY = dt.date(2026, 11, 28)


def _ids(findings: tuple[object, ...]) -> set[str]:
    return {f.vulnerability_id for f in findings}  # type: ignore[attr-defined]


def test_rule_matches_cve_or_any_advisory_id() -> None:
    findings = sample_result().findings
    by_cve = apply_ignores(findings, [IgnoreRule("CVE-2023-1393", "accepted")], TODAY)
    by_dsa = apply_ignores(findings, [IgnoreRule("DSA-5380-1", "accepted")], TODAY)
    assert _ids(tuple(i.finding for i in by_cve.ignored)) == {"CVE-2023-1393"}
    assert _ids(tuple(i.finding for i in by_dsa.ignored)) == {"CVE-2023-1393", "CVE-2023-0494"}
    assert len(by_dsa.kept) == len(findings) - 2


def test_package_restricts_the_rule_and_source_name_counts() -> None:
    findings = sample_result().findings
    other = apply_ignores(findings, [IgnoreRule("CVE-2023-1393", "x", package="bash")], TODAY)
    source = apply_ignores(findings, [IgnoreRule("CVE-2023-1393", "x", package="xorg-server")], TODAY)
    assert not other.ignored
    assert len(source.ignored) == 1


def test_expired_rule_stops_applying_and_is_reported() -> None:
    rule = IgnoreRule("CVE-2023-1393", "temporary", expires=dt.date(2026, 11, 27))
    triaged = apply_ignores(sample_result().findings, [rule], TODAY)
    assert not triaged.ignored
    assert triaged.expired == (rule,)
    still_valid = apply_ignores(sample_result().findings, [rule], dt.date(2026, 11, 27))
    assert len(still_valid.ignored) == 1 and still_valid.ignored[0].expires == "2026-11-27"


def test_load_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text(
        "ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2027-01-31\n  - id: GHSA-x\n    package: p\n    reason: q\n"
    )
    rules = load_ignore_file(path)
    assert rules == (
        IgnoreRule("CVE-1", "r", None, dt.date(2027, 1, 31)),
        IgnoreRule("GHSA-x", "q", "p", None),
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ignore: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
        ("ignore:\n  - id: CVE-1\n", "'reason' is required"),
        ("ignore:\n  - reason: r\n", "'id' must be a non-empty string"),
        ("ignore:\n  - id: CVE-1\n    reason: r\n    expires: someday\n", "'expires' must be a date"),
        ("ignore:\n  - id: CVE-1\n    reason: r\n    colour: red\n", "unknown field(s) colour"),
        ("ignore:\n  - 42\n", "entry 1: expected a mapping"),
        ("ignore:\n  - id: CVE-1\n    reason: r\n    package: [a]\n", "'package' must be a string"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_malformed_files_give_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text(content)
    with pytest.raises(IgnoreFileError) as caught:
        load_ignore_file(path)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_truncated_binary_and_huge_files(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00ignore")
    huge = tmp_path / "huge.yaml"
    huge.write_text("ignore:\n" + "  - id: CVE-1\n    reason: r\n" * 60_000)
    missing = tmp_path / "missing.yaml"
    for path, message in ((binary, "not valid YAML"), (huge, "larger than"), (missing, "cannot read")):
        with pytest.raises(IgnoreFileError, match=message):
            load_ignore_file(path)


def test_empty_document_means_no_rules() -> None:
    assert parse_ignore_document(None, "x") == ()
    assert parse_ignore_document({"ignore": []}, "x") == ()
