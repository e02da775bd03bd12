"""The loopback OSV server the pip-audit comparison relies on answers as the OSV schema says."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zipfile

import pytest
from osv_server import OsvIndex, serve

pytestmark = pytest.mark.peer

RECORDS = [
    {
        "id": "PYSEC-0000-1",
        "modified": "2023-07-03 13:15:00+00:00",
        "aliases": ["CVE-0000-1"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.1"}]},
                    {"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "abc"}]},
                ],
                "versions": ["3.0"],
            }
        ],
    },
    {
        "id": "PYSEC-0000-2",
        "modified": "2023-01-01T00:00:00Z",
        "withdrawn": "2023-02-01T00:00:00.5Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "versions": ["1.0"]}],
    },
    {
        "id": "PYSEC-0000-3",
        "modified": "2023-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "odd"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2019-09-12"}]}],
            }
        ],
    },
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> OsvIndex:
    path = tmp_path_factory.mktemp("osv") / "all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for record in RECORDS:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return OsvIndex([path])


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1", {"PYSEC-0000-1"}),
        ("1.0", {"PYSEC-0000-1", "PYSEC-0000-2"}),
        ("1.1.9", {"PYSEC-0000-1"}),
        ("1.2", set()),
        ("1.9", set()),
        ("2.0", {"PYSEC-0000-1"}),
        ("2.1", {"PYSEC-0000-1"}),
        ("2.1.post1", set()),
        ("3.0.0", {"PYSEC-0000-1"}),
        ("3.1", set()),
    ],
)
def test_ranges_versions_and_names(index: OsvIndex, version: str, expected: set[str]) -> None:
    assert {r["id"] for r in index.query("PyPI", "demo.pkg", version)} == expected


def test_unparseable_bounds_never_match_and_are_flagged(index: OsvIndex) -> None:
    assert index.query("PyPI", "odd", "1.0") == []
    assert index.has_unparseable_bounds("PyPI", "odd")
    assert not index.has_unparseable_bounds("PyPI", "demo-pkg")


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_http_api(index: OsvIndex) -> None:
    with serve(index) as (base, _):
        assert base.startswith("http://127.0.0.1:")
        status, body = _post(
            f"{base}/v1/query", {"package": {"name": "Demo-Pkg", "ecosystem": "PyPI"}, "version": "1.0"}
        )
        assert status == 200
        assert sorted(v["id"] for v in body["vulns"]) == ["PYSEC-0000-1", "PYSEC-0000-2"]
        assert {v["modified"] for v in body["vulns"]} == {"2023-07-03T13:15:00Z", "2023-01-01T00:00:00Z"}
        assert _post(f"{base}/v1/query", {"package": {"purl": "pkg:pypi/demo-pkg@1.5"}}) == (200, {})
        status, body = _post(
            f"{base}/v1/querybatch",
            {"queries": [{"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": "2.0"}, {}]},
        )
        assert status == 400
        status, body = _post(
            f"{base}/v1/querybatch",
            {
                "queries": [
                    {"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": v} for v in ("2.0", "9")
                ]
            },
        )
        assert (status, body["results"][1]) == (200, {})
        assert body["results"][0]["vulns"][0] == {"id": "PYSEC-0000-1", "modified": "2023-07-03T13:15:00Z"}
        with urllib.request.urlopen(f"{base}/v1/vulns/PYSEC-0000-2", timeout=10) as response:
            assert json.loads(response.read())["withdrawn"] == "2023-02-01T00:00:00.500000Z"
        status, _ = _post(
            f"{base}/v1/query", {"package": {"name": "x", "ecosystem": "PyPI"}, "version": "not a version"}
        )
        assert status == 400
