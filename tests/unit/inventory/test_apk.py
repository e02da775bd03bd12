"""apk extractor: an installed database built by the tests, origins, ecosystems, malformed and huge input."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import LimitExceeded
from rampart.inventory import apk
from rampart.inventory.apk import ApkExtractor, ecosystem_for, parse_record
from rampart.inventory.base import ExtractContext
from rampart.model import OsRelease, Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo
from unit.inventory.apk_helpers import database, stanza

INSTALLED = "lib/apk/db/installed"
ALPINE = OsRelease("alpine", "3.19.1")


def _extract(
    tmp_path: Path, data: bytes, os: OsRelease | None = ALPINE
) -> tuple[list[Package], ExtractContext]:
    path = tmp_path / INSTALLED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    context = ExtractContext(os=os)
    info = FileInfo(INSTALLED, len(data), 0o100644)
    return ApkExtractor().extract(info, DirectoryTarget(tmp_path), context), context


def _good() -> list[str]:
    return [
        stanza("musl", "1.2.4_git20230717-r4", license="MIT"),
        stanza("libcrypto3", "3.1.4-r5", origin="openssl", license="Apache-2.0"),
        stanza("libssl3", "3.1.4-r5", origin="openssl", license="Apache-2.0"),
        stanza("busybox-binsh", "1.36.1-r15", origin="busybox", arch="aarch64", files=()),
        stanza("alpine-baselayout-data", "3.4.3-r2", origin=""),  # no o: line
    ]


def test_wants() -> None:
    wants = ApkExtractor().wants
    info = lambda p: FileInfo(p, 1, 0o100644)  # noqa: E731
    assert wants(info("lib/apk/db/installed"))
    assert not wants(info("lib/apk/db/triggers"))
    assert not wants(info("srv/lib/apk/db/installed"))


def test_installed_database(tmp_path: Path) -> None:
    packages, context = _extract(tmp_path, database(*_good()).encode())
    assert context.errors == []
    got = [(p.name, p.version, p.source_name, p.source_version) for p in packages]
    assert got == [
        ("musl", "1.2.4_git20230717-r4", "musl", "1.2.4_git20230717-r4"),
        ("libcrypto3", "3.1.4-r5", "openssl", "3.1.4-r5"),
        ("libssl3", "3.1.4-r5", "openssl", "3.1.4-r5"),
        ("busybox-binsh", "1.36.1-r15", "busybox", "1.36.1-r15"),
        ("alpine-baselayout-data", "3.4.3-r2", "alpine-baselayout-data", "3.4.3-r2"),
    ]
    assert all(
        p.ecosystem == "Alpine:v3.19" and p.location == "/" + INSTALLED and p.extractor == "apk"
        for p in packages
    )


def test_record_fields() -> None:
    record = parse_record(stanza("libssl3", "3.1.4-r5", origin="openssl", arch="armv7", license="Apache-2.0"))
    assert record == apk.ApkRecord("libssl3", "3.1.4-r5", "armv7", "Apache-2.0", "openssl")


def test_crlf_and_extra_blank_lines(tmp_path: Path) -> None:
    text = "\n\n" + "\n\n\n".join(_good()[:2]) + "\n\n"
    packages, context = _extract(tmp_path, text.replace("\n", "\r\n").encode())
    assert [p.name for p in packages] == ["musl", "libcrypto3"] and context.errors == []


@pytest.mark.parametrize(
    ("os_release", "ecosystem"),
    [
        (OsRelease("alpine", "3.19.1"), "Alpine:v3.19"),
        (OsRelease("alpine", "3.20.0_alpha20240315"), "Alpine:v3.20"),
        (OsRelease("alpine", "3"), "Alpine"),
        (OsRelease("alpine", ""), "Alpine"),
        (OsRelease("postmarketos", "v23.12", id_like=("alpine",)), "Alpine"),
        (OsRelease("wolfi", "20230201"), "Wolfi"),
        (OsRelease("chainguard", "20230214"), "Chainguard"),
        (None, "Alpine"),
    ],
)
def test_ecosystem_for(os_release: OsRelease | None, ecosystem: str) -> None:
    assert ecosystem_for(os_release) == ecosystem


MALFORMED = [
    ("P:nover\nA:x86_64\n", "no P: (name) or no V: (version)"),
    ("V:1.0-r0\n", "no P: (name) or no V: (version)"),
    ("P:bad\nV:1.0-r0\nthis is not a field\n", "not 'X:value'"),
    ("P:bad\nV:1.0-r0\nPP:x\n", "not 'X:value'"),
    ("P:bin\x00ary\nV:1.0-r0\n", "binary data"),
    ("P:bad\nV:1.0 beta\n", "not a valid apk version"),
    ("P:bad\nV:1.0-r\n", "not a valid apk version"),
    ("P:../../etc\nV:1.0-r0\n", "invalid package name"),
    ("P:ok\nV:1.0-r0\no:bad origin\n", "invalid package name"),
    ("P:x\nV:" + "9" * 5000 + "\n", "not a valid apk version"),
]


@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_malformed_stanza_reason(text: str, reason: str) -> None:
    result = parse_record(text.rstrip("\n"))
    assert isinstance(result, str) and reason in result and "\n" not in result


def test_malformed_stanzas_are_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    good = _good()
    text = database(good[0], *(t for t, _ in MALFORMED), good[1])
    packages, context = _extract(tmp_path, text.encode())
    assert [p.name for p in packages] == ["musl", "libcrypto3"]
    [error] = context.errors
    assert error.path == "/" + INSTALLED
    assert error.message.startswith(f"{len(MALFORMED)} malformed stanza(s) skipped; first: stanza 2: no P:")


def test_truncated_database_keeps_whole_stanzas(tmp_path: Path) -> None:
    data = database(*_good()).encode()
    cut = data[: data.index(b"P:libssl3") + 5]  # ends inside the third stanza's P: line
    packages, context = _extract(tmp_path, cut)
    assert [p.name for p in packages] == ["musl", "libcrypto3"]
    assert "stanza 3: no P: (name) or no V: (version)" in context.errors[0].message


def test_invalid_utf8_is_read_with_replacement(tmp_path: Path) -> None:
    text = stanza("musl", "1.2.4-r4").replace("T:the musl package", "T:caf\xe9").encode("latin-1")
    packages, context = _extract(tmp_path, text)
    assert [p.name for p in packages] == ["musl"] and context.errors == []


def test_file_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apk, "MAX_SIZE", 1024)
    with pytest.raises(LimitExceeded):
        _extract(tmp_path, database(*_good()).encode())


def test_stanza_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apk, "MAX_STANZAS", 3)
    with pytest.raises(LimitExceeded, match="more than 3 package stanzas"):
        _extract(tmp_path, database(*_good()).encode())


def test_large_database(tmp_path: Path) -> None:
    stanzas = [stanza(f"pkg{i}", f"1.{i}.0-r{i % 7}", files=("usr/lib", "usr/bin")) for i in range(5000)]
    packages, context = _extract(tmp_path, database(*stanzas).encode())
    assert len(packages) == 5000 and context.errors == []
    assert packages[4999].version == "1.4999.0-r1"
