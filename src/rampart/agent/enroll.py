"""Enrollment: trade a join token for an identity, pinning the server's CA from the token.

The CA certificate is fetched once without verification and accepted only if its SHA-256 equals
the pin inside the join token; every later request verifies the server against that CA. The key
pair is made here and only the CSR leaves the host.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from rampart import __version__
from rampart.agent.identity import AgentIdentity, generate_key, make_csr
from rampart.auth.jointokens import parse_join_token
from rampart.errors import EnrollmentError, RampartError
from rampart.inventory.osrelease import parse_os_release
from rampart.pki.pem import fingerprint
from rampart.pki.tlsconfig import client_context

API = "/api/v1"
TIMEOUT = 30.0
MAX_RESPONSE = 256 * 1024


def enroll(
    server_url: str, join_token: str, state_dir: Path, hostname: str | None = None, os_root: Path = Path("/")
) -> AgentIdentity:
    """Enroll this host and save its identity in ``state_dir``."""
    claims = parse_join_token(join_token)
    base = server_url.rstrip("/")
    ca_pem = fetch_pinned_ca(base, claims.ca_sha256)
    key = generate_key()
    name = hostname or socket.gethostname()
    body = {
        "token": join_token,
        "csr_pem": make_csr(key, name).decode(),
        "hostname": name,
        "agent_version": __version__,
        **_os_fields(os_root),
    }
    answer = _post(base, ca_pem, body)
    identity = AgentIdentity(
        host_id=_text(answer, "host_id"),
        server_url=base,
        ca_pem=ca_pem,
        certificate_pem=_text(answer, "certificate_pem"),
        key=key,
    )
    identity.save(state_dir)
    return identity


def fetch_pinned_ca(base: str, pin: str) -> str:
    """The server's CA certificate, refused unless its fingerprint equals ``pin``."""
    answer = _get_unverified(base + API + "/ca")
    pem = _text(answer, "certificate_pem")
    try:
        actual = fingerprint(pem)
    except RampartError as error:
        raise EnrollmentError(f"the server sent an unreadable CA certificate: {error.message}") from None
    if actual != pin:
        raise EnrollmentError(f"the server's CA (sha256:{actual[:16]}...) is not the one the join token pins")
    return pem


def _get_unverified(url: str) -> Mapping[str, Any]:
    try:
        response = httpx.get(url, verify=False, timeout=TIMEOUT)  # noqa: S501 - checked against the pin
    except httpx.HTTPError as error:
        raise EnrollmentError(f"cannot reach {url}: {error}") from None
    return _json(response)


def _post(base: str, ca_pem: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        with httpx.Client(verify=client_context(ca_pem), timeout=TIMEOUT) as client:
            return _json(client.post(base + API + "/enroll", json=body))
    except httpx.HTTPError as error:
        raise EnrollmentError(f"enrollment request failed: {error}") from None


def _json(response: httpx.Response) -> Mapping[str, Any]:
    if len(response.content) > MAX_RESPONSE:
        raise EnrollmentError("the server's answer is too large")
    try:
        data = response.json()
    except ValueError:
        raise EnrollmentError(f"the server answered {response.status_code} without JSON") from None
    if response.status_code >= 400 or not isinstance(data, dict):
        detail = data.get("detail") if isinstance(data, dict) else None
        raise EnrollmentError(f"the server said {response.status_code}: {str(detail)[:200]}")
    return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise EnrollmentError(f"the server's answer lacks '{key}'")
    return value


def _os_fields(root: Path) -> dict[str, str]:
    for relative in ("etc/os-release", "usr/lib/os-release"):
        try:
            release = parse_os_release((root / relative).read_bytes()[:65536].decode("utf-8", "replace"))
        except (OSError, RampartError):
            continue
        return {
            "os_id": release.id[:64],
            "os_version": release.version_id[:64],
            "os_pretty": release.pretty_name[:128],
        }
    return {}
