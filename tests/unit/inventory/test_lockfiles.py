"""Lockfiles anywhere in a tree: requirements pins, poetry.lock and package-lock.json, malformed ones per file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory import npmlock, poetry, requirements
from rampart.inventory.base import ExtractContext, Extractor
from rampart.inventory.npmlock import NpmLockExtractor
from rampart.inventory.poetry import PoetryLockExtractor
from rampart.inventory.requirements import RequirementsExtractor
from rampart.model import Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo


def run(tmp_path: Path, extractor: Extractor, rel: str, data: bytes) -> tuple[list[Package], ExtractContext]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    context = ExtractContext()
    info = FileInfo(rel, len(data), 0o100644)
    assert extractor.wants(info)
    return extractor.extract(info, DirectoryTarget(tmp_path), context), context


def pairs(packages: list[Package]) -> list[tuple[str, str]]:
    return sorted((p.name, p.version) for p in packages)


# requirements*.txt

REQUIREMENTS = b"""\
# a comment
-r base.txt
-c constraints.txt
--index-url https://example.org/simple
-e git+https://example.org/x.git#egg=x
Django==4.2.1  # pinned
Zope.Interface==5.0 ; python_version >= "3.8"
requests[security,socks]==2.31.0 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
flask>=2.0
numpy
urllib3==1.26.*
six===1.16.0
pkg @ https://example.org/pkg-1.0.tar.gz
https://example.org/other-2.0.tar.gz
attrs == 23.1.0
Django==4.2.1
"""


@pytest.mark.parametrize(
    ("path", "wanted"),
    [("requirements.txt", True), ("src/requirements-dev.txt", True), ("a/Requirements_test.txt", True),
     ("requirements.in", False), ("my-requirements.txt", False), ("requirements.txt.bak", False)],
)  # fmt: skip
def test_requirements_wants(path: str, wanted: bool) -> None:
    assert RequirementsExtractor().wants(FileInfo(path, 1, 0o100644)) is wanted


def test_requirements_only_exact_pins(tmp_path: Path) -> None:
    found, context = run(tmp_path, RequirementsExtractor(), "app/requirements.txt", REQUIREMENTS)
    assert pairs(found) == [
        ("attrs", "23.1.0"),
        ("django", "4.2.1"),
        ("requests", "2.31.0"),
        ("zope-interface", "5.0"),
    ]
    assert {(p.ecosystem, p.location, p.extractor) for p in found} == {
        ("PyPI", "/app/requirements.txt", "requirements")
    }
    assert context.errors == []
    assert found[0].purl.startswith("pkg:pypi/")


def test_requirements_bad_lines_are_per_line_errors(tmp_path: Path) -> None:
    data = "ok==1.0\nbad\x1bname==1.0\nname==1.0 extra junk==2\ncafé==1.0\nfine==2.0\n".encode()
    found, context = run(tmp_path, RequirementsExtractor(), "requirements.txt", data)
    assert pairs(found) == [("fine", "2.0"), ("ok", "1.0")]
    assert [e.message.split(":")[1].strip() for e in context.errors] == ["line 2", "line 3", "line 4"]
    assert all(e.path == "/requirements.txt" and "\n" not in e.message for e in context.errors)


def test_requirements_not_utf8_and_crlf(tmp_path: Path) -> None:
    found, _ = run(tmp_path, RequirementsExtractor(), "requirements.txt", b"a==1.0\r\n\xff\xfe\r\nb==2.0\r\n")
    assert pairs(found) == [("a", "1.0"), ("b", "2.0")]


def test_requirements_truncated_continuation(tmp_path: Path) -> None:
    found, _ = run(tmp_path, RequirementsExtractor(), "requirements.txt", b"a==1.0\nb==2.0 \\")
    assert pairs(found) == [("a", "1.0"), ("b", "2.0")]


def test_requirements_binary_and_huge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ParseError, match="binary data"):
        run(tmp_path, RequirementsExtractor(), "requirements.txt", b"a==1\n\x00\x01")
    monkeypatch.setattr(requirements, "MAX_SIZE", 100)
    with pytest.raises(LimitExceeded):
        run(tmp_path, RequirementsExtractor(), "requirements.txt", b"a==1.0\n" * 100)


# poetry.lock

POETRY = b"""\
[[package]]
name = "Requests"
version = "2.31.0"
description = "HTTP"
optional = false
python-versions = ">=3.7"
groups = ["main"]

[[package]]
name = "pytest"
version = "7.4.0"
category = "dev"

[[package]]
name = "local-lib"
version = "0.1.0"

[package.source]
type = "directory"
url = "../local-lib"

[[package]]
name = "from-git"
version = "1.0"

[package.source]
type = "git"
url = "https://example.org/x.git"

[metadata]
lock-version = "2.0"
"""


def test_poetry(tmp_path: Path) -> None:
    found, context = run(tmp_path, PoetryLockExtractor(), "srv/poetry.lock", POETRY)
    assert pairs(found) == [("from-git", "1.0"), ("pytest", "7.4.0"), ("requests", "2.31.0")]
    assert {(p.ecosystem, p.location) for p in found} == {("PyPI", "/srv/poetry.lock")}
    assert context.errors == []


def test_poetry_bad_entries_are_per_entry_errors(tmp_path: Path) -> None:
    data = (
        b'[[package]]\nname = "ok"\nversion = "1"\n'
        b'[[package]]\nname = "no-version"\n'
        b'[[package]]\nname = "evil\\u001b[2J"\nversion = "1"\n'
        b'[[package]]\nname = "num"\nversion = 3\n'
        b'[[package]]\nname = "newline"\nversion = "1\\n"\n'
    )
    found, context = run(tmp_path, PoetryLockExtractor(), "poetry.lock", data)
    assert pairs(found) == [("ok", "1")]
    assert len(context.errors) == 4 and all("\x1b" not in e.message for e in context.errors)
    assert "package #2 no-version: has no valid version" in context.errors[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[[package]\nname = 'x'", "not valid TOML"),
        (b'[[package]]\nname = "x"\nversion = "1', "not valid TOML"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b'package = "nope"', "not an array of tables"),
        (b"a = " + b"[" * 100_000, "not valid TOML"),
    ],
)
def test_poetry_malformed(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        run(tmp_path, PoetryLockExtractor(), "poetry.lock", data)


def test_poetry_empty_and_huge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(tmp_path, PoetryLockExtractor(), "poetry.lock", b"")[0] == []
    monkeypatch.setattr(poetry, "MAX_SIZE", 50)
    with pytest.raises(LimitExceeded):
        run(tmp_path, PoetryLockExtractor(), "poetry.lock", POETRY)


# package-lock.json


def lock(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


V3 = {
    "name": "app",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "version": "1.0.0"},
        "node_modules/left-pad": {"version": "1.3.0"},
        "node_modules/@babel/core": {"version": "7.22.0", "dev": True},
        "node_modules/@babel/core/node_modules/semver": {"version": "6.3.1"},
        "node_modules/semver": {"version": "7.5.4"},
        "node_modules/alias": {"name": "real-pkg", "version": "2.0.0"},
        "node_modules/from-git": {"version": "git+ssh://git@example.org/x.git#abc"},
        "node_modules/workspace-a": {"resolved": "packages/a", "link": True},
        "packages/a": {"name": "workspace-a", "version": "0.0.1"},
        "node_modules/a/node_modules/left-pad": {"version": "1.3.0"},
    },
}


@pytest.mark.parametrize("version", [2, 3])
def test_npm_lock_v2_v3(tmp_path: Path, version: int) -> None:
    found, context = run(
        tmp_path, NpmLockExtractor(), "web/package-lock.json", lock({**V3, "lockfileVersion": version})
    )
    assert pairs(found) == [
        ("@babel/core", "7.22.0"),
        ("left-pad", "1.3.0"),
        ("real-pkg", "2.0.0"),
        ("semver", "6.3.1"),
        ("semver", "7.5.4"),
    ]
    assert {(p.ecosystem, p.location, p.extractor) for p in found} == {
        ("npm", "/web/package-lock.json", "npm-lock")
    }
    assert context.errors == []
    scoped = next(p for p in found if p.name == "@babel/core")
    assert scoped.purl == "pkg:npm/%40babel/core@7.22.0"


def test_npm_lock_v1(tmp_path: Path) -> None:
    document = {
        "lockfileVersion": 1,
        "dependencies": {
            "a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0", "dependencies": {}}}},
            "@s/c": {"version": "3.0.0-beta.1"},
            "alias": {"version": "npm:real@4.0.0"},
            "local": {"version": "file:../local"},
            "bad": "not an object",
        },
    }
    found, context = run(tmp_path, NpmLockExtractor(), "npm-shrinkwrap.json", lock(document))
    assert pairs(found) == [("@s/c", "3.0.0-beta.1"), ("a", "1.0.0"), ("b", "2.0.0"), ("real", "4.0.0")]
    assert context.errors == []


def test_npm_lock_v1_deep_nesting_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npmlock, "MAX_DEPTH", 5)
    tree: dict[str, Any] = {}
    for _ in range(10):
        tree = {"x": {"version": "1.0.0", "dependencies": tree}}
    with pytest.raises(LimitExceeded, match="nested deeper than 5"):
        run(
            tmp_path,
            NpmLockExtractor(),
            "package-lock.json",
            lock({"lockfileVersion": 1, "dependencies": tree}),
        )


def test_npm_lock_bad_names_are_per_entry_errors(tmp_path: Path) -> None:
    packages = {
        "node_modules/ok": {"version": "1.0.0"},
        "node_modules/evil\u001b[2J": {"version": "1.0.0"},
        "node_modules/caf\u00e9": {"version": "1.0.0"},
        "node_modules/../../etc": {"version": "1.0.0"},
        "node_modules/renamed": {"name": ["x"], "version": "1.0.0"},
        "node_modules/noversion": {},
        "node_modules/numeric": {"version": 1},
        "node_modules/notadict": [],
        "node_modules/trailing\n": {"version": "1.0.0"},
        "node_modules/badversion": {"version": "1.0.0\n"},
    }
    found, context = run(
        tmp_path, NpmLockExtractor(), "package-lock.json", lock({"lockfileVersion": 3, "packages": packages})
    )
    assert pairs(found) == [("ok", "1.0.0")]
    assert len(context.errors) == 5
    assert all("\x1b" not in e.message and "invalid package name" in e.message for e in context.errors)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0', "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b"\xff", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"lockfileVersion": 4, "packages": {}}', "unsupported lockfileVersion 4"),
        (b'{"lockfileVersion": "3", "packages": {}}', "unsupported lockfileVersion '3'"),
        (b'{"packages": {}}', "unsupported lockfileVersion None"),
        (b'{"lockfileVersion": 3, "packages": []}', "'packages' is not an object"),
        (b'{"lockfileVersion": 1, "dependencies": 5}', "'dependencies' is not an object"),
    ],
)
def test_npm_lock_malformed(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        run(tmp_path, NpmLockExtractor(), "package-lock.json", data)


def test_npm_lock_huge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npmlock, "MAX_SIZE", 1000)
    with pytest.raises(LimitExceeded):
        run(tmp_path, NpmLockExtractor(), "package-lock.json", lock(V3) * 10)


def test_npm_lock_wants() -> None:
    extractor = NpmLockExtractor()
    assert extractor.wants(FileInfo("a/package-lock.json", 1, 0o100644))
    assert not extractor.wants(FileInfo("a/node_modules/.package-lock.json", 1, 0o100644))
    assert not extractor.wants(FileInfo("a/package.json", 1, 0o100644))


@pytest.mark.parametrize(
    ("extractor", "rel"),
    [(RequirementsExtractor(), "a/Requirements-Dev.txt"), (PoetryLockExtractor(), "a/b/poetry.lock"),
     (NpmLockExtractor(), "a/package-lock.json")],
)  # fmt: skip
def test_walk_patterns_admit_wanted_files(extractor: Extractor, rel: str) -> None:
    directory, _, name = rel.rpartition("/")
    assert re.fullmatch(extractor.directory_pattern, directory) and re.fullmatch(extractor.name_pattern, name)
