"""Docker credential helpers run for real: small ``docker-credential-*`` programs on a private PATH."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from rampart.image import helpers
from rampart.image.credentials import Credential, parse_config
from rampart.image.source import ImageError

KEYCHAIN = """#!/bin/sh
[ "$1" = get ] || exit 3
read host
case "$host" in
  ecr.example) printf '{"ServerURL": "ecr.example", "Username": "AWS", "Secret": "s3cret"}' ;;
  store.example) printf '{"ServerURL": "store.example", "Username": "bob", "Secret": "from-store"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"""


def _helper(directory: Path, name: str, script: str) -> None:
    path = directory / f"docker-credential-{name}"
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    _helper(tmp_path, "keychain", KEYCHAIN)
    return tmp_path


def _config(document: dict[str, object]) -> bytes:
    return json.dumps(document).encode()


def test_cred_helpers_win_then_entries_then_the_store(bin_dir: Path) -> None:
    auth = {"auth": "dTpw"}  # u:p
    found = parse_config(
        _config(
            {
                "credHelpers": {"ecr.example": "keychain"},
                "credsStore": "keychain",
                "auths": {"ecr.example": auth, "plain.example": auth},
            }
        ),
        "cfg",
    )
    assert found.for_host("ecr.example") == Credential("AWS", "s3cret")
    assert found.for_host("plain.example") == Credential("u", "p")
    assert found.for_host("store.example") == Credential("bob", "from-store")
    assert found.for_host("unknown.example") is None  # "credentials not found" means none


def test_a_missing_failing_or_lying_helper_is_a_one_line_error(bin_dir: Path) -> None:
    _helper(bin_dir, "broken", "#!/bin/sh\necho 'secret-ish noise' >&2\nexit 7\n")
    _helper(bin_dir, "garbage", "#!/bin/sh\necho not json\n")
    _helper(bin_dir, "empty", '#!/bin/sh\nprintf \'{"Username": "x", "Secret": ""}\'\n')
    cases = {
        "absent": "docker-credential-absent is not installed",
        "broken": "credential helper broken failed for reg.example \\(exit status 7\\)",
        "garbage": "gave no Username and Secret",
        "empty": "gave no Username and Secret",
    }
    for name, message in cases.items():
        with pytest.raises(ImageError, match=message) as caught:
            parse_config(_config({"credsStore": name}), "cfg").for_host("reg.example")
        assert "secret-ish" not in caught.value.message


def test_a_slow_or_flooding_helper_is_cut_off(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _helper(bin_dir, "slow", "#!/bin/sh\nexec sleep 30\n")
    _helper(bin_dir, "flood", "#!/bin/sh\nhead -c 200000 /dev/zero\n")
    monkeypatch.setattr(helpers, "TIMEOUT", 0.5)
    with pytest.raises(ImageError, match="did not answer within"):
        helpers.ask_helper("slow", "reg.example")
    with pytest.raises(ImageError, match="answered more than"):
        helpers.ask_helper("flood", "reg.example")


def test_helper_names_cannot_be_paths_or_options() -> None:
    assert helpers.valid_helper_name("ecr-login") and helpers.valid_helper_name("desktop.exe")
    for name in ("../x", "a/b", "-rf", "", "x y", "a" * 65):
        assert not helpers.valid_helper_name(name)
        with pytest.raises(ImageError, match="not installed"):
            helpers.ask_helper(name, "reg.example")
