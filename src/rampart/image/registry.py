"""Images pulled from an OCI/Docker registry (Distribution API v2) as an ImageSource.

``parse_reference`` reads ``host[:port]/repo[:tag][@sha256:...]`` and Docker Hub short names.
``RegistryClient`` speaks HTTPS (plain HTTP only when asked), answers Bearer and Basic challenges with the
credentials saved for that registry host, and follows redirects itself: a redirect to another origin is
fetched with no Authorization header, and if that host asks for credentials the download is refused.
``RegistrySource`` resolves manifest lists and OCI indexes by platform, checks every manifest and blob
against its digest, and keeps layers in the on-disk LayerCache.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urljoin

import httpx

from rampart.image.cache import LayerCache
from rampart.image.credentials import Credential, Credentials, load_credentials, normalise_host
from rampart.image.manifests import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    layer_refs,
    pick,
)
from rampart.image.source import (
    MAX_JSON_BLOB,
    DigestMismatch,
    ImageError,
    LayerRef,
    Platform,
    digest_hex,
    read_json_blob,
    verifying,
)

ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
MAX_REDIRECTS = 5
RETRIES = 3
RETRIED = frozenset({429, 503})
MAX_RETRY_DELAY = 30.0
MAX_NESTING = 4
CHUNK = 1 << 16

_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_PARAM = re.compile(r'(\w+)="([^"]*)"')
_PATH_ENDINGS = (".tar", ".tar.gz", ".tgz", ".zip", ".json")


class RegistryError(ImageError):
    """The registry could not be reached or refused a request."""


class Unauthorized(RegistryError):
    """The registry wants credentials that were not given or were refused."""


@dataclass(frozen=True)
class Reference:
    """An image in a registry: host, repository and a tag or digest."""

    host: str
    repository: str
    tag: str = "latest"
    digest: str = ""

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        """The tag or digest the manifest is asked for by."""
        return self.digest or self.tag

    def __str__(self) -> str:
        return f"{self.host}/{self.repository}" + (f"@{self.digest}" if self.digest else f":{self.tag}")


def parse_reference(text: str) -> Reference:
    """``text`` as a registry reference, or ImageError saying why it is not one."""
    name, _, digest = text.strip().partition("@")
    if digest:
        digest_hex(digest)
    tag = ""
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ImageError(f"bad image reference {text[:200]!r}: malformed tag")
    host, repository = _split_host(name)
    if not _REPOSITORY.fullmatch(repository):
        raise ImageError(f"bad image reference {text[:200]!r}: malformed repository name")
    return Reference(host, repository, tag or "latest", digest)


def _split_host(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.fullmatch(first):
            raise ImageError(f"bad image reference {name[:200]!r}: malformed registry host")
        return first.lower(), rest
    if normalise_host(first) == DOCKER_HUB and sep:
        name = rest
    return DOCKER_HUB, name if "/" in name else f"library/{name}"


def looks_like_reference(text: str) -> bool:
    """Whether ``text`` reads as a registry reference rather than a (missing) local path."""
    if text.startswith(("/", ".", "~")) or text.endswith(_PATH_ENDINGS) or "\\" in text:
        return False
    try:
        parse_reference(text)
    except ImageError:
        return False
    return True


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class _ResponseStream(io.RawIOBase):
    """A streamed response body as a raw binary stream."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        super().__init__()
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_bytes(CHUNK)
        self._pending = b""
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except httpx.HTTPError as exc:
                raise RegistryError(f"{self._what}: download failed: {exc}") from None
        count = min(len(view), len(self._pending))
        view[:count], self._pending = self._pending[:count], self._pending[count:]
        return count

    def close(self) -> None:
        self._response.close()
        super().close()


class RegistryClient:
    """Distribution API v2 requests to one registry, with its auth challenges and redirects handled."""

    def __init__(
        self,
        host: str,
        credential: Credential | None = None,
        insecure: bool = False,
        transport: httpx.BaseTransport | None = None,
        verify: Any = True,
    ) -> None:
        self.host = host
        self.base = f"{'http' if insecure else 'https'}://{host}"
        self.credential = credential
        self.insecure = insecure
        timeout = httpx.Timeout(60.0, connect=15.0)
        self._http = httpx.Client(transport=transport, verify=verify, timeout=timeout, follow_redirects=False)
        self._authorization: str | None = None

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, accept: str, scope: str) -> httpx.Response:
        """The streamed response to ``GET path``, after auth and redirects; RegistryError unless 2xx."""
        response = self._authorised(self.base + path, accept, scope)
        response = self._follow(response, accept, scope)
        if response.status_code >= 300:
            self._fail(response, path)
        return response

    def _send(self, url: str, accept: str, authorization: str | None = None) -> httpx.Response:
        """GET ``url``; a 429 or 503 is retried after its Retry-After (capped), a few times, then returned."""
        headers = {"Accept": accept}
        if authorization:
            headers["Authorization"] = authorization
        for attempt in range(RETRIES + 1):
            try:
                response = self._http.send(self._http.build_request("GET", url, headers=headers), stream=True)
            except httpx.HTTPError as exc:
                raise _transport_error(httpx.URL(url).netloc.decode(), exc) from None
            if response.status_code not in RETRIED or attempt == RETRIES:
                return response
            response.close()
            time.sleep(retry_delay(response.headers.get("Retry-After"), attempt))
        raise AssertionError("unreachable")  # the last attempt returns above

    def _authorised(self, url: str, accept: str, scope: str) -> httpx.Response:
        response = self._send(url, accept, self._authorization)
        if response.status_code != 401:
            return response
        header = response.headers.get("WWW-Authenticate", "")
        response.close()
        self._authorization = self._answer(header, scope)
        response = self._send(url, accept, self._authorization)
        if response.status_code == 401:
            response.close()
            raise Unauthorized(f"unauthorized: {self.host} refused the credentials for {scope}")
        return response

    def _answer(self, header: str, scope: str) -> str:
        scheme, params = _challenge(header)
        if scheme == "bearer" and params.get("realm"):
            return "Bearer " + self._token(params, scope)
        if scheme == "basic" and self.credential is not None:
            return _basic(self.credential)
        raise Unauthorized(
            f"unauthorized: {self.host} wants credentials for {scope} and none are saved for it"
        )

    def _token(self, params: dict[str, str], scope: str) -> str:
        realm = httpx.URL(params["realm"])
        if realm.scheme != "https" and not (self.insecure and realm.scheme == "http"):
            raise Unauthorized(f"unauthorized: {self.host} names a token service that is not HTTPS: {realm}")
        query = {
            "scope": params.get("scope", scope),
            **({"service": params["service"]} if "service" in params else {}),
        }
        auth = None if self.credential is None else (self.credential.username, self.credential.password)
        try:
            response = self._http.get(realm, params=query, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _transport_error(realm.netloc.decode(), exc) from None
        if response.status_code in (401, 403):
            raise Unauthorized(f"unauthorized: token service {realm.host} refused access to {scope}")
        if response.status_code != 200:
            raise RegistryError(f"token service {realm.host} answered HTTP {response.status_code}")
        return _token_of(response, realm.host)

    def _follow(self, response: httpx.Response, accept: str, scope: str) -> httpx.Response:
        for _ in range(MAX_REDIRECTS):
            if not response.is_redirect:
                return response
            target = self._redirect_target(response)
            response.close()
            if _origin(target) == _origin(httpx.URL(self.base)):
                response = self._authorised(str(target), accept, scope)
                continue
            response = self._send(str(target), accept)
            if response.status_code == 401:
                response.close()
                raise Unauthorized(
                    f"unauthorized: {self.host} redirected to {target.host}, which asks for credentials; "
                    "registry credentials are never sent to another host (refused)"
                )
        response.close()
        raise RegistryError(f"{self.host}: more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("Location", "")
        target = httpx.URL(urljoin(str(response.request.url), location))
        if target.userinfo:
            raise RegistryError(
                f"{self.host}: redirect to {target.host} carries credentials in its URL (refused)"
            )
        if target.scheme != "https" and not (self.insecure and target.scheme == "http"):
            raise RegistryError(
                f"{self.host}: redirect to a non-HTTPS location {target.scheme}://{target.host}"
            )
        return target

    def _fail(self, response: httpx.Response, path: str) -> None:
        code, message = _registry_error(response)
        status = response.status_code
        response.close()
        what = f"{self.host}{path}"
        if code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN") or status == 404:
            raise RegistryError(f"{(code or 'not found').lower().replace('_', ' ')}: {what}")
        if status in (401, 403):
            raise Unauthorized(f"unauthorized: {what} ({message or code or 'denied'})")
        raise RegistryError(f"{what}: registry answered HTTP {status}" + (f": {message}" if message else ""))


def retry_delay(header: str | None, attempt: int) -> float:
    """Seconds to wait before retrying: the Retry-After seconds when given (at most MAX_RETRY_DELAY), else
    1, 2, 4... (an HTTP-date Retry-After counts as absent)."""
    try:
        asked = float(header) if header is not None else None
    except ValueError:
        asked = None
    if asked is None or not 0 <= asked < float("inf"):
        return float(min(2**attempt, MAX_RETRY_DELAY))
    return min(asked, MAX_RETRY_DELAY)


def _basic(credential: Credential) -> str:
    pair = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _registry_error(response: httpx.Response) -> tuple[str, str]:
    try:
        document = json.loads(response.read()[:MAX_JSON_BLOB])
        first = document["errors"][0]
        return str(first.get("code", ""))[:64], str(first.get("message", ""))[:200]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, httpx.HTTPError):
        return "", ""


def _token_of(response: httpx.Response, host: str) -> str:
    try:
        document = response.json()
        token = document.get("token") or document.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"token service {host} answered without a token")
    return token


def _transport_error(host: str, exc: httpx.HTTPError) -> RegistryError:
    text = str(exc)
    if "CERTIFICATE" in text or "SSL" in text or "TLS" in text:
        return RegistryError(f"TLS failure talking to {host}: {text[:200]}")
    return RegistryError(f"cannot reach registry {host}: {text[:200] or type(exc).__name__}")


class RegistrySource:
    """One image of a registry, chosen by ``platform`` when its tag names a manifest list or index."""

    def __init__(
        self,
        reference: Reference,
        platform: Platform | None = None,
        client: RegistryClient | None = None,
        cache: LayerCache | None = None,
        insecure: bool = False,
    ) -> None:
        self.reference = reference
        self.platform = platform
        self.name = str(reference)
        self.client = client or RegistryClient(
            reference.api_host, _credentials().for_host(reference.host), insecure
        )
        self.cache = cache or LayerCache()
        self._scope = f"repository:{reference.repository}:pull"
        try:
            self._manifest = self._resolve(reference.reference, reference.digest, None, 0)
            self._config_ref = descriptor(self._manifest.get("config"), f"{self.name}: manifest")
            self._config_bytes = self._fetch_small(self._config_ref["digest"], self._config_ref["size"])
            self._config = read_json_blob(self._small_blob(), f"{self.name}: config")
        except BaseException:
            self.client.close()
            raise

    def _resolve(self, ref: str, digest: str, size: int | None, depth: int) -> dict[str, Any]:
        if depth > MAX_NESTING:
            raise ImageError(f"{self.name}: image indexes nest deeper than {MAX_NESTING}")
        document = self._manifest_document(ref, digest, size)
        media = document.get("mediaType")
        if media in INDEX_TYPES or (media is None and "manifests" in document):
            entry = self._pick(document)
            return self._resolve(entry["digest"], entry["digest"], entry["size"], depth + 1)
        if document.get("schemaVersion") != 2 or media not in (*MANIFEST_TYPES, None):
            raise ImageError(f"{self.name}: unsupported manifest type {str(media)[:80]} (schema 1?)")
        return document

    def _manifest_document(self, ref: str, digest: str, size: int | None) -> dict[str, Any]:
        response = self.client.get(f"/v2/{self.reference.repository}/manifests/{ref}", ACCEPT, self._scope)
        with io.BufferedReader(_ResponseStream(response, f"{self.name}: manifest"), CHUNK) as stream:
            data = stream.read(MAX_JSON_BLOB + 1)
        if len(data) > MAX_JSON_BLOB:
            raise ImageError(f"{self.name}: manifest is larger than {MAX_JSON_BLOB} bytes")
        if digest:
            _check(data, digest, size, f"{self.name}: manifest")
        return read_json_blob(io.BytesIO(data), f"{self.name}: manifest {ref[:80]}")

    def _pick(self, index: dict[str, Any]) -> dict[str, Any]:
        listed = index.get("manifests")
        if not isinstance(listed, list) or not listed:
            raise ImageError(f"{self.name}: the image index lists no manifests")
        entries = [descriptor(e, f"{self.name}: image index") for e in listed]
        return pick(self.name, entries, self.platform)

    def _blob_response(self, digest: str) -> BinaryIO:
        response = self.client.get(f"/v2/{self.reference.repository}/blobs/{digest}", "*/*", self._scope)
        return io.BufferedReader(_ResponseStream(response, f"{self.name}: blob {digest}"), CHUNK)

    def _fetch_small(self, digest: str, size: int) -> bytes:
        if size > MAX_JSON_BLOB:
            raise ImageError(f"{self.name}: config is larger than {MAX_JSON_BLOB} bytes")
        with verifying(self._blob_response(digest), digest, size) as stream:
            return stream.read()

    def _small_blob(self) -> BinaryIO:
        return verifying(io.BytesIO(self._config_bytes), self._config_ref["digest"], self._config_ref["size"])

    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def config(self) -> dict[str, Any]:
        return self._config

    def layers(self) -> list[LayerRef]:
        return layer_refs(self.name, self._manifest)

    def open_blob(self, digest: str) -> BinaryIO:
        """The blob, from the layer cache (downloaded and verified into it first when missing)."""
        if digest == self._config_ref["digest"]:
            return self._small_blob()
        size = self._size_of(digest)
        cached = self.cache.open(digest, size)
        if cached is not None:
            return cached
        return self.cache.store(digest, size, self._blob_response(digest))

    def _size_of(self, digest: str) -> int:
        for layer in self.layers():
            if layer.digest == digest:
                return layer.size
        raise ImageError(f"{self.name}: blob {digest[:80]} is not part of this image")

    def close(self) -> None:
        self.client.close()


def _check(data: bytes, digest: str, size: int | None, what: str) -> None:
    if size is not None and len(data) != size:
        raise DigestMismatch(f"{what} {digest} holds {len(data)} bytes, not the declared {size}")
    if hashlib.sha256(data).hexdigest() != digest_hex(digest):
        raise DigestMismatch(f"{what} does not match its digest {digest}")


def _credentials() -> Credentials:
    found = load_credentials()
    for note in found.notes:
        _note(note)
    return found


def _note(text: str) -> None:
    logging.getLogger(__name__).warning("%s", text)


def open_registry_image(
    text: str, platform: Platform | None = None, insecure: bool = False, cache: LayerCache | None = None
) -> RegistrySource:
    """The image ``text`` names in its registry."""
    return RegistrySource(parse_reference(text), platform, insecure=insecure, cache=cache)


__all__ = [
    "Reference",
    "RegistryClient",
    "RegistryError",
    "RegistrySource",
    "Unauthorized",
    "looks_like_reference",
    "open_registry_image",
    "parse_reference",
]
