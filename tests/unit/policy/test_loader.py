"""Loading policy files: an operator's own policies, and clear errors for malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import PolicyError
from rampart.policy import Authorizer, Principal, host
from rampart.policy.loader import DEFAULT_POLICY, DEFAULT_SCHEMA, packaged

VIEWER = Principal("vera", {"viewer"}, {})


def _write(tmp_path: Path, text: str | bytes, name: str = "policy.cedar") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_shipped_files_are_package_data() -> None:
    assert "@id(" in packaged(DEFAULT_POLICY)
    assert "entity Host" in packaged(DEFAULT_SCHEMA)


def test_own_policy_file_is_used(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '@id("only-one-host")\npermit (principal, action == Action::"host.read", resource == Host::"h-1");\n',
    )
    authz = Authorizer.from_files(path)
    assert authz.authorize(VIEWER, "host.read", host("h-1")).policies == ("only-one-host",)
    assert not authz.authorize(VIEWER, "host.read", host("h-2")).allowed
    assert authz.filter_allowed(VIEWER, "host.read", [host("h-2"), host("h-1"), host("h-3")]) == [host("h-1")]


def test_own_schema_file_is_used(tmp_path: Path) -> None:
    schema = _write(tmp_path, packaged(DEFAULT_SCHEMA), "s.cedarschema")
    policy = _write(tmp_path, packaged(DEFAULT_POLICY))
    assert Authorizer.from_files(policy, schema).authorize(VIEWER, "host.read", host("h-1")).allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no policies"),
        ("// only a comment\n", "holds no policies"),
        ("permit (principal, action", "cannot parse"),
        ("permit (principal, action, resource);", "policy number 1 has no @id"),
        (
            '@id("a") permit (principal, action, resource);\npermit (principal, action, resource);',
            "policy number 2 has no @id",
        ),
        ('@id("") permit (principal, action, resource);', "policy number 1 has no @id"),
        (
            '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
            "duplicate policy @id 'a'",
        ),
        (
            '@id("typo") permit (principal, action, resource) when { principal.rolez.contains("x") };',
            "policy 'typo' fails validation",
        ),
        (
            '@id("t") permit (principal, action == Action::"host.fly", resource);',
            "policy 't' fails validation",
        ),
        ('@id("tpl") permit (principal == ?principal, action, resource);', "templates are not supported"),
        (
            '@id("x") permit (principal, action, resource) when { '
            + "(" * 5000
            + "true"
            + ")" * 5000
            + " };",
            "nested deeper",
        ),
        (
            '@id("x") permit (principal, action, resource) when { ' + "[" * 5000 + "]" * 5000 + " };",
            "nested deeper",
        ),
    ],
)
def test_malformed_policy_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as caught:
        Authorizer.from_files(_write(tmp_path, text))
    assert "\n" not in caught.value.message


def test_brackets_in_strings_and_comments_do_not_count(tmp_path: Path) -> None:
    text = "// ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((\n"
    text += '@id("x(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((") permit (principal, action, resource);'
    assert Authorizer.from_files(_write(tmp_path, text)).authorize(VIEWER, "host.read", host("h-1")).allowed


def test_deeply_nested_schema_is_refused(tmp_path: Path) -> None:
    schema = _write(tmp_path, "entity A = " + "{ a: " * 2000 + "String" + "}" * 2000 + ";", "s.cedarschema")
    with pytest.raises(PolicyError, match="nested deeper"):
        Authorizer.from_files(_write(tmp_path, packaged(DEFAULT_POLICY)), schema)


def test_oversized_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="larger than"):
        Authorizer.from_files(_write(tmp_path, "// x\n" * 300_000))
    with pytest.raises(PolicyError, match="not UTF-8"):
        Authorizer.from_files(_write(tmp_path, b"\xff\xfe\x00"))


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        Authorizer.from_files(tmp_path / "nope.cedar")
    with pytest.raises(PolicyError, match="cannot read"):
        Authorizer.from_files(_write(tmp_path, packaged(DEFAULT_POLICY)), tmp_path / "nope.cedarschema")


def test_malformed_schema(tmp_path: Path) -> None:
    schema = _write(tmp_path, "entity User = {", "s.cedarschema")
    with pytest.raises(PolicyError, match=r"schema for .* is invalid"):
        Authorizer.from_files(_write(tmp_path, packaged(DEFAULT_POLICY)), schema)
