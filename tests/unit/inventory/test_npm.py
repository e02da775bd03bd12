"""npm extractor: package.json directly inside node_modules package dirs, hostile JSON refused per file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory import npm
from rampart.inventory.base import ExtractContext
from rampart.inventory.npm import NpmExtractor
from rampart.model import Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo

REL = "app/node_modules/left-pad/package.json"


def _extract(tmp_path: Path, data: bytes, rel: str = REL) -> list[Package]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return NpmExtractor().extract(
        FileInfo(rel, len(data), 0o100644), DirectoryTarget(tmp_path), ExtractContext()
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/node_modules/a/package.json", True),
        ("node_modules/a/package.json", True),
        ("app/node_modules/@scope/a/package.json", True),
        ("app/node_modules/a/node_modules/b/package.json", True),
        ("app/node_modules/a/test/fixtures/package.json", False),
        ("app/node_modules/a/lib/package.json", False),
        ("app/node_modules/@scope/package.json", False),
        ("app/node_modules/.bin/package.json", False),
        ("app/package.json", False),
        ("app/node_modules/a/package.json.bak", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert NpmExtractor().wants(FileInfo(path, 10, 0o100644)) is wanted


def test_plain_and_scoped(tmp_path: Path) -> None:
    assert _extract(tmp_path, b'{"name": "left-pad", "version": "1.3.0"}') == [
        Package("left-pad", "1.3.0", "npm", "/" + REL, "npm")
    ]
    rel = "node_modules/@babel/core/package.json"
    (package,) = _extract(tmp_path, b'{"name": "@babel/core", "version": "7.0.0-beta.1"}', rel)
    assert (package.name, package.version) == ("@babel/core", "7.0.0-beta.1")


@pytest.mark.parametrize("document", [{"private": True}, {"name": "x"}, {"version": "1.0.0"}])
def test_missing_name_or_version_is_skipped_silently(tmp_path: Path, document: object) -> None:
    assert _extract(tmp_path, json.dumps(document).encode()) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"just a string"', "not a JSON object"),
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"name": "\xff\xfe", "version": "1"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"name": ["x"], "version": "1"}', "invalid 'name'"),
        (b'{"name": "x", "version": 1}', "invalid 'version'"),
        (b'{"name": "x\\u001b[2J", "version": "1"}', "invalid 'name'"),
        (b'{"name": "../../etc", "version": "1"}', "invalid 'name'"),
    ],
)
def test_bad_package_json(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _extract(tmp_path, data)


def test_over_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm, "MAX_SIZE", 100)
    with pytest.raises(LimitExceeded):
        _extract(tmp_path, json.dumps({"name": "x", "version": "1", "readme": "r" * 200}).encode())
