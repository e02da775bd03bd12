"""TOTP: RFC 6238 codes, the ±1 step window, replay refusal and malformed codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from rampart.auth import totp

# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8-digit codes; ours are their last 6 digits.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
SECRET = totp.new_secret()
NOW = datetime(2024, 5, 6, 12, 0, 10, tzinfo=UTC)
STEP = totp.counter_at(NOW)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("seconds", "code"), RFC_VECTORS)
def test_rfc_6238_vectors(seconds: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, totp.counter_at(_at(seconds))) == code[-6:]
    assert totp.verify(RFC_SECRET, code[-6:], 0, _at(seconds)) == seconds // 30


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    secrets = {totp.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for s in secrets)


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri(SECRET, "alice")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/rampart:alice")
    assert query["secret"] == [SECRET] and query["issuer"] == ["rampart"]
    assert urlsplit(totp.provisioning_uri(SECRET, "a b", issuer="acme")).path == "/acme:a%20b"
    assert pyotp.parse_uri(uri).now() == pyotp.TOTP(SECRET).now()


def test_valid_code_returns_its_counter() -> None:
    assert totp.verify(SECRET, totp.code_at(SECRET, STEP), 0, NOW) == STEP


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_either_side_is_accepted(offset: int) -> None:
    assert totp.verify(SECRET, totp.code_at(SECRET, STEP + offset), 0, NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3, 100])
def test_codes_outside_the_window_are_refused(offset: int) -> None:
    assert totp.verify(SECRET, totp.code_at(SECRET, STEP + offset), 0, NOW) is None


def test_window_edges_follow_the_clock() -> None:
    start = _at(STEP * 30)
    code = totp.code_at(SECRET, STEP)
    assert totp.verify(SECRET, code, 0, start - timedelta(seconds=30)) == STEP  # next step, just in window
    assert totp.verify(SECRET, code, 0, start - timedelta(seconds=31)) is None
    assert totp.verify(SECRET, code, 0, start + timedelta(seconds=59)) == STEP  # previous step, still in
    assert totp.verify(SECRET, code, 0, start + timedelta(seconds=60)) is None


def test_wrong_code_is_refused() -> None:
    code = totp.code_at(SECRET, STEP)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert totp.verify(SECRET, wrong, 0, NOW) is None


def test_replayed_and_older_codes_are_refused() -> None:
    code = totp.code_at(SECRET, STEP)
    counter = totp.verify(SECRET, code, 0, NOW)
    assert counter == STEP
    assert totp.verify(SECRET, code, counter, NOW) is None
    assert totp.verify(SECRET, totp.code_at(SECRET, STEP - 1), counter, NOW) is None
    assert totp.verify(SECRET, totp.code_at(SECRET, STEP + 1), counter, NOW) == STEP + 1


def test_surrounding_spaces_are_tolerated() -> None:
    assert totp.verify(SECRET, f" {totp.code_at(SECRET, STEP)}\n", 0, NOW) == STEP


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "abcdef",
        "12 345",
        "１２３４５６",  # full-width digits
        "٠١٢٣٤٥",  # Arabic-Indic digits
        "123456\x00",
        "-12345",
        "+12345",
        "1" * 1000,
        "0" * 10_000_000,
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert totp.verify(SECRET, code, 0, NOW) is None


def test_malformed_code_never_matches_even_if_its_digits_would() -> None:
    code = totp.code_at(SECRET, STEP)
    for variant in (code + "0", code[:5], code.replace(code[0], "x", 1), f"{code[:3]} {code[3:]}"):
        assert totp.verify(SECRET, variant, 0, NOW) is None
