"""The accounts check: malformed databases, hashes never in evidence, each assert on a failing and passing tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks import CHECKS
from rampart.harden.checks.accounts import umask_bits
from rampart.harden.context import Context
from rampart.harden.facts.accounts import password_kind, read_accounts
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

HASH = "$6$Zq9salt$Xk1longhashvaluethatmustneverbeshown"


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["accounts"].run(params, Context(build_view(tmp_path, scenario)))


def shadow(text: str) -> dict[str, Any]:
    return {"content": text, "mode": 0o640, "gid": 42}


def test_password_kinds() -> None:
    assert [password_kind(text) for text in ("", "x", "!", "*", "!$6$abc", HASH)] == [
        "empty",
        "shadowed",
        "locked",
        "locked",
        "locked",
        "hash",
    ]


def test_malformed_passwd_lines_are_skipped_with_notes(tmp_path: Path) -> None:
    text = "root:x:0:0:root:/root:/bin/bash\nshort:x:1\nbad:x:abc:0::/:/bin/sh\nneg:x:-1:0::/:/bin/sh\n:x:5:5::/:/bin/sh\n"
    facts = read_accounts(build_view(tmp_path, {"files": {"etc/passwd": text}}))
    assert [account.name for account in facts.passwd.entries] == ["root"]
    assert facts.passwd.notes == tuple(f"/etc/passwd:{n}: malformed line skipped" for n in (2, 3, 4, 5))


def test_truncated_and_binary_files(tmp_path: Path) -> None:
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\ntrunc:x:10",
        "etc/group": b"\xff\xfe\x00\x01:x:0:\n",
        "etc/shadow": shadow("root:" + HASH),
    }
    outcome = run(tmp_path, {"files": files}, **{"assert": "uid0_only_root"})
    assert outcome.status is Status.PASS
    assert run(tmp_path / "b", {"files": files}, **{"assert": "group_gid0_only_root"}).status is Status.FAIL


def test_huge_passwd_bounded_evidence(tmp_path: Path) -> None:
    text = "root:x:0:0::/root:/bin/bash\n" + "".join(f"u{i}:x:0:0::/:/bin/sh\n" for i in range(60_000))
    outcome = run(tmp_path, {"files": {"etc/passwd": text}}, **{"assert": "uid0_only_root"})
    assert outcome.status is Status.FAIL
    assert len(outcome.evidence) <= 22
    assert "... and 59980 more" in outcome.evidence


def test_hashes_never_reach_evidence(tmp_path: Path) -> None:
    files = {
        "etc/passwd": f"root:{HASH}:0:0::/root:/bin/bash\nsvc:x:5:5::/:/usr/sbin/nologin\n",
        "etc/shadow": shadow(f"root:{HASH}:19000:0:99999:7:::\nsvc:{HASH}:19000::::::\n"),
    }
    for name in (
        "shadowed_passwords",
        "nologin_accounts_locked",
        "root_locked_or_password",
        "no_empty_passwords",
    ):
        outcome = run(tmp_path / name, {"files": files}, **{"assert": name})
        assert all("Zq9salt" not in line for line in (*outcome.evidence, outcome.reason)), name
    outcome = run(
        tmp_path / "f",
        {"files": files},
        **{"assert": "shadow_field", "field": "max_days", "op": "le", "value": 365},
    )
    assert outcome.status is Status.FAIL
    assert all("Zq9salt" not in line for line in outcome.evidence)


def test_escape_sequences_in_names_are_kept_for_the_reporters(tmp_path: Path) -> None:
    files = {"etc/passwd": "root:x:0:0::/root:/bin/bash\n\x1b[2J\x1b]0;x\x07evil:x:0:0::/:/bin/sh\n"}
    outcome = run(tmp_path, {"files": files}, **{"assert": "uid0_only_root"})
    assert outcome.status is Status.FAIL
    assert any("\x1b[2J\x1b]0;x\x07evil" in line for line in outcome.evidence)  # kept raw: reporters escape


@pytest.mark.parametrize(
    ("name", "files"),
    [
        (
            "unique_uids",
            {"etc/passwd": "root:x:0:0::/root:/bin/bash\na:x:7:7::/:/bin/sh\nb:x:7:7::/:/bin/sh\n"},
        ),
        ("unique_gids", {"etc/group": "root:x:0:\na:x:9:\nb:x:9:\n"}),
        ("unique_usernames", {"etc/passwd": "root:x:0:0::/root:/bin/bash\nroot:x:1:1::/:/bin/sh\n"}),
        ("unique_groupnames", {"etc/group": "root:x:0:\nroot:x:3:\n"}),
        ("passwd_groups_exist", {"etc/passwd": "root:x:0:0::/root:/bin/bash\na:x:1000:777::/:/bin/sh\n"}),
        ("shadow_group_empty", {"etc/group": "root:x:0:\nshadow:x:42:mallory\n"}),
        ("gid0_only_root", {"etc/passwd": "root:x:0:0::/root:/bin/bash\nops:x:9:0::/:/bin/sh\n"}),
        ("no_empty_passwords", {"etc/shadow": shadow("root::1::::::\n")}),
        ("nologin_not_in_shells", {"etc/shells": "/bin/bash\n/usr/sbin/nologin\n"}),
    ],
)
def test_each_assert_fails_on_its_problem_and_passes_on_the_base(
    tmp_path: Path, name: str, files: dict[str, Any]
) -> None:
    assert run(tmp_path / "bad", {"files": files}, **{"assert": name}).status is Status.FAIL
    base = {"files": {"etc/shells": "/bin/sh\n/bin/bash\n"}}
    assert run(tmp_path / "good", base, **{"assert": name}).status is Status.PASS


def test_missing_databases_make_it_na(tmp_path: Path) -> None:
    assert (
        run(tmp_path / "a", {"remove": ["etc/shadow"]}, **{"assert": "no_empty_passwords"}).status
        is Status.NA
    )
    assert run(tmp_path / "b", {"remove": ["etc/group"]}, **{"assert": "unique_gids"}).status is Status.NA
    assert run(tmp_path / "c", {}, **{"assert": "nologin_not_in_shells"}).status is Status.NA


def test_last_change_in_past_uses_the_given_day(tmp_path: Path) -> None:
    files = {"etc/shadow": shadow("root:*:20000:0:99999:7:::\n")}
    assert (
        run(tmp_path / "a", {"files": files}, **{"assert": "last_change_in_past", "today": 19999}).status
        is Status.FAIL
    )
    assert (
        run(tmp_path / "b", {"files": files}, **{"assert": "last_change_in_past", "today": 20000}).status
        is Status.PASS
    )


def test_shadow_field_only_judges_accounts_with_a_password(tmp_path: Path) -> None:
    files = {"etc/shadow": shadow(f"root:*:1:0:99999:7:::\nalice:{HASH}:1:1:365:7:::\n")}
    params = {"assert": "shadow_field", "field": "max_days", "op": "le", "value": 365}
    assert run(tmp_path, {"files": files}, **params).status is Status.PASS


def test_exempt_names(tmp_path: Path) -> None:
    files = {"etc/passwd": "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\n"}
    assert (
        run(tmp_path, {"files": files}, **{"assert": "uid0_only_root", "exempt": ["toor"]}).status
        is Status.PASS
    )


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        ("027", 0o027),
        ("0077", 0o077),
        ("u=rwx,g=rx,o=", 0o027),
        ("u=rwx,g=,o=", 0o077),
        ("999", None),
        ("a+rwx", None),
        ("", None),
    ],
)
def test_umask_parsing(text: str, bits: int | None) -> None:
    assert umask_bits(text) == bits


def test_home_that_is_a_link_out_of_the_root(tmp_path: Path) -> None:
    scenario = {
        "files": {"etc/passwd": "root:x:0:0::/root:/bin/bash\n"},
        "links": {"root": "/../../../../etc"},
    }
    outcome = run(tmp_path, scenario, **{"assert": "interactive_homes"})
    assert outcome.status in (Status.PASS, Status.FAIL)
    assert all(str(tmp_path) not in line for line in outcome.evidence)
