"""Which servers the client will talk to and which certificates it trusts.

TLS verification is always on: the system trust store, or exactly the CA the user trusted at login
(``--ca FILE`` or a ``--ca-sha256`` pin checked against ``GET /ca``). TLS 1.2 is the minimum.
Plain ``http://`` is accepted only for loopback addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import ssl

import httpx

from rampart.errors import ClientError, UsageError

MAX_PEM_BYTES = 64 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


def check_server_url(url: str) -> str:
    """The server's base URL without a trailing slash; refuses anything but https (or loopback http)."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        raise UsageError(f"not a server URL: {url!r}") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise UsageError(f"the server URL must look like https://host[:port], not {url!r}")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise UsageError("the server URL must not carry a user, password, query or fragment")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise UsageError(f"refusing plain http:// to {parsed.host}: use https:// (http is for loopback only)")
    return str(parsed).rstrip("/")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """A verifying client context: the system store, or only ``ca_pem`` when given."""
    try:
        context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    except (ssl.SSLError, ValueError):
        raise ClientError(
            "the stored server CA is not a valid certificate; run rampart login again"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def check_ca_pem(text: str) -> str:
    """One CA certificate in PEM, re-serialised; anything else is refused with a clear message."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    if len(text) > MAX_PEM_BYTES:
        raise ClientError("the CA certificate is larger than 64 KiB")
    try:
        certificates = x509.load_pem_x509_certificates(text.encode("utf-8", "replace"))
    except ValueError:
        raise ClientError("the CA is not a PEM certificate") from None
    if len(certificates) != 1:
        raise ClientError(f"expected one CA certificate, found {len(certificates)}")
    if not _is_ca(certificates[0]):
        raise ClientError("the certificate is not a CA (basicConstraints CA:TRUE missing)")
    return certificates[0].public_bytes(Encoding.PEM).decode("ascii")


def _is_ca(certificate: object) -> bool:
    from cryptography import x509

    assert isinstance(certificate, x509.Certificate)
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def ca_fingerprint(ca_pem: str) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    certificate = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def parse_pin(pin: str) -> str:
    """A ``--ca-sha256`` pin as 64 lower-case hex digits; ``sha256:`` prefix and colons allowed."""
    text = pin.strip().lower().removeprefix("sha256:").replace(":", "")
    if not _HEX.fullmatch(text):
        raise UsageError("--ca-sha256 takes the 64 hex digits of the CA's SHA-256 (e.g. sha256:ab12...)")
    return text


def check_pin(ca_pem: str, pin: str) -> str:
    """``ca_pem`` re-serialised when its fingerprint equals the pin; a ClientError otherwise."""
    checked = check_ca_pem(ca_pem)
    actual = ca_fingerprint(checked)
    if not hmac.compare_digest(actual, parse_pin(pin)):
        raise ClientError(
            f"the server's CA does not match --ca-sha256 (it is sha256:{actual}); not trusting it"
        )
    return checked
