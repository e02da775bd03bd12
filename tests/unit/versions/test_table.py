"""The scheme table: every scheme module is listed, and ecosystem names with releases resolve."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import rampart.versions
from rampart.versions import table
from rampart.versions.base import KeyedScheme, UnsupportedEcosystem
from rampart.versions.dpkg import DPKG
from rampart.versions.golang import GO
from rampart.versions.pep440 import PEP440
from rampart.versions.semver import SEMVER

NOT_SCHEMES = {"base", "table"}


def test_every_scheme_module_is_in_the_table() -> None:
    listed = {scheme.key.__module__ for scheme in table.SCHEMES.values()}  # type: ignore[attr-defined]
    modules = {m.name for m in pkgutil.iter_modules(rampart.versions.__path__)} - NOT_SCHEMES
    assert modules, "no scheme modules found"
    missing = {f"rampart.versions.{m}" for m in modules} - listed
    assert missing == set(), f"scheme modules missing from versions.table.SCHEMES: {sorted(missing)}"


def test_every_scheme_module_defines_a_scheme() -> None:
    for info in pkgutil.iter_modules(rampart.versions.__path__):
        if info.name in NOT_SCHEMES:
            continue
        module = importlib.import_module(f"rampart.versions.{info.name}")
        assert any(isinstance(value, KeyedScheme) for value in vars(module).values()), info.name


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("Debian:11", DPKG),
        ("Debian", DPKG),
        ("Ubuntu:22.04:LTS", DPKG),
        ("PyPI", PEP440),
        ("npm", SEMVER),
        ("Go", GO),
    ],
)
def test_scheme_for(ecosystem: str, scheme: object) -> None:
    assert table.scheme_for(ecosystem) is scheme


def test_unknown_ecosystem_raises() -> None:
    with pytest.raises(UnsupportedEcosystem, match="Hackage"):
        table.scheme_for("Hackage")


def test_semver_ranges_use_semver_outside_semver_ecosystems() -> None:
    assert table.scheme_for_range("PyPI", "SEMVER") is SEMVER
    assert table.scheme_for_range("PyPI", "ECOSYSTEM") is PEP440
    assert table.scheme_for_range("Go", "SEMVER") is GO
    assert table.scheme_for_range("npm", "SEMVER") is SEMVER
