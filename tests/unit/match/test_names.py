"""Ecosystem and name normalisation: what the matcher treats as the same."""

from __future__ import annotations

import pytest

from rampart.match.names import normalize_ecosystem


@pytest.mark.parametrize(
    ("given", "compared"),
    [
        ("Ubuntu:22.04:LTS", "Ubuntu:22.04"),
        ("Ubuntu:22.04", "Ubuntu:22.04"),
        ("Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9"),
        ("Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9"),
        ("Red Hat:enterprise_linux:9", "Red Hat:enterprise_linux:9"),
        ("Debian:11", "Debian:11"),
        ("AlmaLinux:9", "AlmaLinux:9"),
        ("PyPI", "PyPI"),
    ],
)
def test_normalize_ecosystem(given: str, compared: str) -> None:
    assert normalize_ecosystem(given) == compared
