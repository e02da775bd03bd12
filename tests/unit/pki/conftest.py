"""PKI fixtures: one CA per test (EC P-256), cheap enough to make fresh."""

from __future__ import annotations

import pytest

from rampart.pki.ca import CertificateAuthority
from unit.pki.pki_helpers import NOW


@pytest.fixture
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("test CA", NOW)


@pytest.fixture
def other_ca() -> CertificateAuthority:
    return CertificateAuthority.create("another CA", NOW)
