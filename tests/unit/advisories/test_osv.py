"""OSV parsing: each field, each real-data quirk, and each kind of malformed record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rampart.advisories import codec
from rampart.advisories.osv import (
    MISSING_ID,
    MISSING_MODIFIED,
    NOT_JSON,
    NOT_OBJECT,
    NOT_YAML,
    TOO_LARGE,
    WRONG_TYPES,
    RecordError,
    load_record,
    parse_record,
)
from rampart.model import Event, SeverityScore


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "PYSEC-2099-1",
        "modified": "2024-01-02T03:04:05Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}],
                "versions": ["1.0", "1.1"],
            }
        ],
    }
    base.update(fields)
    return base


def reason_of(data: object) -> str:
    with pytest.raises(RecordError) as caught:
        parse_record(data)
    return caught.value.reason


def test_full_record_fields() -> None:
    advisory = parse_record(
        record(
            aliases=["CVE-2099-1"],
            related=["CVE-2099-2"],
            summary="  Bad thing  ",
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
            database_specific={"severity": "HIGH"},
        )
    )
    assert advisory.id == "PYSEC-2099-1"
    assert advisory.aliases == ("CVE-2099-1",)
    assert advisory.related == ("CVE-2099-2",)
    assert advisory.summary == "Bad thing"
    assert advisory.severity == (SeverityScore("CVSS_V3", "CVSS:3.1/AV:N"),)
    assert advisory.rating == "HIGH"
    (entry,) = advisory.affected
    assert (entry.ecosystem, entry.name, entry.versions) == ("PyPI", "Foo_Bar", ("1.0", "1.1"))
    assert entry.ranges[0].events == (Event("introduced", "0"), Event("fixed", "1.2"))


def test_summary_falls_back_to_first_line_of_details() -> None:
    advisory = parse_record(record(details="First line.\nSecond line."))
    assert advisory.summary == "First line."


def test_withdrawn_record_is_kept_and_marked() -> None:
    assert parse_record(record(withdrawn="2024-02-01T00:00:00Z")).withdrawn == "2024-02-01T00:00:00Z"


def test_git_range_and_odd_versions_survive() -> None:
    data = record()
    data["affected"][0]["ranges"].append(
        {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "abc123"}]}
    )
    data["affected"][0]["versions"] = ["1.0-final", "2003.beta!weird"]
    advisory = parse_record(data)
    assert [r.type for r in advisory.affected[0].ranges] == ["ECOSYSTEM", "GIT"]
    assert advisory.affected[0].versions == ("1.0-final", "2003.beta!weird")


def test_debian_unfixed_status_and_affected_level_rating() -> None:
    data = record(
        affected=[
            {
                "package": {"ecosystem": "Debian:11", "name": "tiff"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                "ecosystem_specific": {"status": "unfixed", "severity": "medium"},
                "severity": [{"type": "Ubuntu", "score": "low"}],
            }
        ]
    )
    (entry,) = parse_record(data).affected
    assert entry.status == "unfixed"
    assert entry.severity == (SeverityScore("Ubuntu", "low"),)
    assert parse_record(data).rating == "medium"


def test_affected_without_package_is_skipped_not_rejected() -> None:
    data = record(affected=[{"ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}])
    assert parse_record(data).affected == ()


def test_vendor_fields_of_wrong_shape_are_ignored() -> None:
    assert parse_record(record(database_specific=["not", "an", "object"])).rating is None


@pytest.mark.parametrize("data", [[], "text", 3, None])
def test_not_an_object(data: object) -> None:
    assert reason_of(data) == NOT_OBJECT


def test_missing_id_and_modified() -> None:
    assert reason_of({"modified": "2024-01-01T00:00:00Z"}) == MISSING_ID
    assert reason_of({"id": "", "modified": "x"}) == MISSING_ID
    assert reason_of({"id": "X-1"}) == MISSING_MODIFIED


@pytest.mark.parametrize(
    "fields",
    [
        {"id": 12},
        {"modified": 20240101},
        {"aliases": "CVE-1"},
        {"aliases": [1, 2]},
        {"withdrawn": True},
        {"severity": [{"type": "CVSS_V3", "score": 9.8}]},
        {"affected": {"package": {}}},
        {"affected": ["not an object"]},
        {"affected": [{"package": {"ecosystem": "PyPI", "name": 5}}]},
        {"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": 1}]}]},
        {"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": [1.0]}]},
        {
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "x"},
                    "ranges": [{"type": "E", "events": [{"fixed": 2}]}],
                }
            ]
        },
        {
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "x"},
                    "ranges": [{"type": "E", "events": [{"bogus": "1"}]}],
                }
            ]
        },
    ],
)
def test_wrong_types_reject_the_record(fields: dict[str, Any]) -> None:
    assert reason_of(record(**fields)) == WRONG_TYPES


def test_truncated_json() -> None:
    raw = json.dumps(record()).encode()[:-10]
    with pytest.raises(RecordError) as caught:
        load_record(raw)
    assert caught.value.reason == NOT_JSON


def test_not_utf8_and_deep_nesting_are_not_json() -> None:
    for raw in (b"\xff\xfe{", b"[" * 100_000):
        with pytest.raises(RecordError) as caught:
            load_record(raw)
        assert caught.value.reason == NOT_JSON


def test_huge_record_is_refused_before_parsing() -> None:
    raw = json.dumps(record(details="x" * (5 * 1024 * 1024))).encode()
    with pytest.raises(RecordError) as caught:
        load_record(raw)
    assert caught.value.reason == TOO_LARGE


def test_yaml_record_keeps_timestamps_as_text() -> None:
    raw = b"id: PYSEC-1\nmodified: 2021-07-16T01:31:33.917972Z\naffected:\n- package: {ecosystem: PyPI, name: a}\n"
    advisory = load_record(raw, "yaml")
    assert advisory.modified == "2021-07-16T01:31:33.917972Z"
    assert advisory.affected[0].name == "a"


def test_yaml_aliases_and_syntax_errors_are_refused() -> None:
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nid: X\nmodified: '1'\n"
    for raw in (bomb, b"id: [unclosed\n"):
        with pytest.raises(RecordError) as caught:
            load_record(raw, "yaml")
        assert caught.value.reason == NOT_YAML


def test_codec_round_trip() -> None:
    data = record(aliases=["CVE-1"], severity=[{"type": "CVSS_V3", "score": "v"}], withdrawn="2024-01-01")
    data["affected"][0]["ecosystem_specific"] = {"status": "unfixed"}
    advisory = parse_record(data)
    assert codec.decode(codec.encode(advisory)) == advisory


@pytest.mark.parametrize("versions", [[], ["1.0"], ["1.0", "2.0"], ["odd\nversion", "2.0"], [""]])
def test_codec_round_trips_versions(versions: list[str]) -> None:
    data = record()
    data["affected"][0]["versions"] = versions
    advisory = parse_record(data)
    assert codec.decode(codec.encode(advisory)).affected[0].versions == tuple(versions)
