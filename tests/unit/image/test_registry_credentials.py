"""Docker-style registry credentials: where they are read from and which host gets them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from rampart.image.credentials import Credential, load_credentials, parse_config
from rampart.image.source import ImageError


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _write(directory: Path, document: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(document))
    return directory / "config.json"


def test_entries_are_bound_to_their_exact_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": _auth("hubuser", "hubpw")},
            "reg.example:5000": {"username": "bob", "password": "pw:with:colons"},
            "http://Other.Example/v2/": {"auth": _auth("carol", "c")},
        }
    }
    monkeypatch.setenv("DOCKER_CONFIG", str(_write(tmp_path / "docker", config).parent))
    found = load_credentials()
    assert found.for_host("registry-1.docker.io") == Credential("hubuser", "hubpw")
    assert found.for_host("reg.example:5000") == Credential("bob", "pw:with:colons")
    assert found.for_host("other.example") == Credential("carol", "c")
    assert found.for_host("reg.example") is None
    assert found.for_host("evil.example") is None
    assert "pw" not in repr(found.for_host("reg.example:5000"))


def test_home_config_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    _write(tmp_path / ".docker", {"auths": {"reg.example": {"auth": _auth("a", "b")}}})
    assert load_credentials().for_host("reg.example") == Credential("a", "b")


def test_missing_file_means_no_credentials(tmp_path: Path) -> None:
    assert load_credentials(tmp_path / "nope.json").by_host == {}


def test_helpers_are_kept_and_malformed_entries_skipped() -> None:
    document = {
        "credsStore": "desktop",
        "credHelpers": {"ecr.example": "ecr-login", "bad.example": "../../bin/sh", "num.example": 3},
        "auths": {
            "bad.example": {"auth": "%%%not base64"},
            "nocolon.example": {"auth": base64.b64encode(b"justauser").decode()},
            "list.example": ["x"],
            "good.example": {"auth": _auth("u", "p")},
            "empty.example": {},
        },
    }
    found = parse_config(json.dumps(document).encode(), "cfg")
    assert found.by_host == {"good.example": Credential("u", "p")}
    assert (found.store, found.helpers) == ("desktop", {"ecr.example": "ecr-login"})
    assert found.notes[0] == "cfg: credHelpers entry for 'bad.example' is not a helper name; ignored"
    assert len(found.notes) == 5


@pytest.mark.parametrize("data", [b"{", b"[]", b'{"auths": "x"', b"\xff\xfe"])
def test_malformed_files_are_one_line_errors(data: bytes) -> None:
    with pytest.raises(ImageError, match=r"^cfg: registry credentials file is not"):
        parse_config(data, "cfg")


def test_non_object_auths_is_ignored() -> None:
    assert parse_config(b'{"auths": ["x"]}', "cfg").by_host == {}


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(ImageError, match="larger than"):
        load_credentials(path)
