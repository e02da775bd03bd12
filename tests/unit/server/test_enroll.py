"""Enrollment: one-time, expiring, CA-pinned join tokens and strict CSR checks."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rampart.auth.tokens import issue_join_token
from rampart.server.ratelimit import RateLimiter
from unit.server.server_helpers import Api, csr_pem


def _refusals(api: Api) -> list[str]:
    return [str(e.details["why"]) for e in api.audit() if e.action == "agent.enroll.failure"]


def test_enroll_returns_a_certificate_and_the_host_carries_the_tags(api: Api) -> None:
    response = api.enroll(api.join_token({"team": "red"}), "web-1")
    assert response.status_code == 201
    body = response.json()
    assert body["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert body["ca_pem"] == api.call("GET", "/ca").json()["certificate_pem"]
    assert body["link_url"].endswith("/api/v1/agent/link")
    host = api.call("GET", f"/hosts/{body['host_id']}", api.admin_token).json()
    assert (host["hostname"], host["tags"], host["status"]) == ("web-1", {"team": "red"}, "new")
    assert any(e.action == "agent.enroll" and e.target == f"host:{body['host_id']}" for e in api.audit())


def test_a_join_token_enrolls_only_once(api: Api) -> None:
    token = api.join_token()
    assert api.enroll(token, "one").status_code == 201
    second = api.enroll(token, "two")
    assert second.status_code == 401
    assert "already used" in second.json()["detail"]
    assert [h["hostname"] for h in api.call("GET", "/hosts", api.admin_token).json()] == ["one"]
    used = api.call("GET", "/join-tokens", api.admin_token).json()[0]
    assert used["used_at"] is not None and used["host_id"] is not None


def test_an_expired_join_token_is_refused(api: Api) -> None:
    token = api.join_token(expires_in=60)
    api.clock.advance(timedelta(seconds=61))
    assert api.enroll(token).status_code == 401
    assert api.call("GET", "/hosts", api.admin_token).json() == []


def test_a_deleted_join_token_is_refused(api: Api) -> None:
    token = api.join_token()
    token_id = api.call("GET", "/join-tokens", api.admin_token).json()[0]["id"]
    assert api.call("DELETE", f"/join-tokens/{token_id}", api.admin_token).status_code == 204
    assert api.enroll(token).status_code == 401


def test_a_join_token_pinning_another_ca_is_refused(api: Api) -> None:
    foreign = issue_join_token("ab" * 32).wire
    response = api.enroll(foreign)
    assert response.status_code == 401
    assert "another server" in response.json()["detail"]
    assert "another server" in _refusals(api)[-1]


def test_a_forged_secret_is_refused(api: Api) -> None:
    real = api.join_token()
    token_id = api.call("GET", "/join-tokens", api.admin_token).json()[0]["id"]
    forged = issue_join_token(api.state.trust_sha256)
    payload = json.loads(base64.urlsafe_b64decode(forged.wire[4:] + "=="))
    payload["id"] = token_id
    wire = "rpj_" + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert api.enroll(wire).status_code == 401
    assert api.enroll(real).status_code == 201


@pytest.mark.parametrize(
    ("csr", "code"),
    [
        ("garbage", 400),
        ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", 400),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\n" + "A" * 20_000 + "\n-----END CERTIFICATE REQUEST-----\n",
            422,
        ),
        (csr_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), 400),
        (csr_pem(ec.generate_private_key(ec.SECP384R1())), 400),
    ],
    ids=["garbage", "bad-der", "oversized", "rsa", "p384"],
)
def test_a_bad_csr_is_a_one_line_4xx_and_keeps_the_join_token(api: Api, csr: str, code: int) -> None:
    token = api.join_token()
    response = api.enroll(token, csr=csr)
    assert response.status_code == code
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(detail) <= 300
    assert api.enroll(token).status_code == 201


@pytest.mark.parametrize(
    "token", ["", "rpj_", "rpj_!!!!", "rpt_" + "a" * 60, "rpj_" + "A" * 1020, "rpj_e30", "x" * 1025]
)
def test_malformed_join_tokens_are_refused(api: Api, token: str) -> None:
    response = api.enroll(token)
    assert response.status_code in (401, 422)
    assert token[4:] not in response.json()["detail"] or len(token) <= 4


def test_enrollment_is_rate_limited(api: Api) -> None:
    api.state.limits.enroll_by_address = RateLimiter(burst=1, per_minute=0.0)
    assert api.enroll("rpj_e30").status_code == 401
    assert api.enroll(api.join_token()).status_code == 429
