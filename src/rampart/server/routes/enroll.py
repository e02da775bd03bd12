"""Enrollment: a host trades a join token and a CSR for a short-lived client certificate.

The private key never leaves the host; the CA sets the certificate's subject, not the CSR.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from rampart.auth.tokens import parse_join_token, secret_matches
from rampart.errors import RampartError
from rampart.server.deps import State, client_address
from rampart.server.schemas import CaInfo, EnrollRequest, EnrollResponse
from rampart.store import hosts as host_store
from rampart.store import tokens as token_store

router = APIRouter(tags=["enrollment"])


@router.get("/ca", response_model=CaInfo)
def certificate_authority(state: State) -> CaInfo:
    """The server's CA certificate and its SHA-256 fingerprint (what join tokens pin)."""
    return CaInfo(certificate_pem=state.trust_pem, sha256=state.trust_sha256)


def _refuse(state: State, address: str, why: str, code: int = status.HTTP_401_UNAUTHORIZED) -> HTTPException:
    state.audit.append("agent", "agent.enroll.failure", f"address:{address}", "failure", {"why": why})
    return HTTPException(code, f"enrollment refused: {why}")


def _claims(state: State, body: EnrollRequest, address: str) -> Any:
    if not state.limits.enroll_by_address.allow(address):
        raise _refuse(state, address, "too many attempts", status.HTTP_429_TOO_MANY_REQUESTS)
    try:
        claims = parse_join_token(body.token)
    except RampartError as error:
        raise _refuse(state, address, error.message) from None
    if claims.ca_sha256 != state.trust_sha256:
        raise _refuse(state, address, "the join token was made by another server")
    return claims


@router.post("/enroll", response_model=EnrollResponse, status_code=status.HTTP_201_CREATED)
def enroll(body: EnrollRequest, request: Request, state: State) -> EnrollResponse:
    """Register a new host with the join token's tags and sign its key."""
    address = client_address(request)
    claims, now = _claims(state, body, address), state.clock()
    host_id = "h-" + secrets.token_hex(8)
    try:
        cert_pem = state.ca.issue_agent_certificate(
            body.csr_pem.encode(), host_id, now, state.config.agent_cert_lifetime
        )
        cert = state.ca.verify_agent_certificate(cert_pem, now)
    except RampartError as error:
        raise _refuse(state, address, error.message, status.HTTP_400_BAD_REQUEST) from None
    with state.session() as session:
        tags = _consume(session, claims, now, host_id)
        if tags is not None:
            host_store.add_host(
                session,
                host_id=host_id,
                hostname=body.hostname,
                os_id=body.os_id,
                os_version=body.os_version,
                os_pretty=body.os_pretty,
                agent_version=body.agent_version,
                tags=tags,
                enrolled_at=now,
                public_key_pem=public_pem(cert.public_key),
                cert_serial=cert.serial_hex,
                cert_expires_at=cert.not_after,
            )
    if tags is None:
        raise _refuse(state, address, "the join token is unknown, expired or already used")
    state.audit.append(
        f"host:{host_id}",
        "agent.enroll",
        f"host:{host_id}",
        "success",
        {"hostname": body.hostname, "address": address, "join": claims.id},
    )
    return EnrollResponse(
        host_id=host_id,
        certificate_pem=cert_pem.decode(),
        ca_pem=state.trust_pem,
        expires_at=cert.not_after,
        link_url=state.config.base_url.replace("https://", "wss://", 1) + "/api/v1/agent/link",
    )


def _consume(session: Any, claims: Any, now: Any, host_id: str) -> dict[str, str] | None:
    """The join token's tags once it is spent for `host_id`; None when it is unknown, expired or used."""
    row = token_store.get_join_token(session, claims.id)
    if row is None or not secret_matches(row.secret_hash, claims.secret):
        return None
    if not token_store.consume_join_token(session, claims.id, now, host_id):
        return None
    return dict(row.tags)


def public_pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    encoded: bytes = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode()
