"""Registry pulls against an in-process fake registry: auth flows, redirects, digests, platforms, cache."""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from rampart.image import ImageTarget, Platform
from rampart.image.cache import LayerCache
from rampart.image.credentials import Credential
from rampart.image.registry import (
    RegistryClient,
    RegistryError,
    RegistrySource,
    Unauthorized,
    looks_like_reference,
    parse_reference,
)
from rampart.image.source import DigestMismatch, ImageError, drain
from unit.image.imagebuild import INDEX, MANIFEST, Layout, digest, gz, layer

REGISTRY, AUTH, STORAGE = "reg.example", "auth.example", "storage.example"
USER = Credential("alice", "s3cret")


@dataclass
class FakeRegistry:
    """A Distribution API v2 registry answering through httpx.MockTransport."""

    layout: Layout
    tags: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    auth: str = ""  # "", "bearer" or "basic"
    redirect_blobs: bool = False
    storage_wants_auth: bool = False
    forged: dict[str, bytes] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.host == AUTH:
            return self._token(request)
        if request.url.host == STORAGE:
            return self._storage(request)
        if self.auth and not self._authorised(request):
            return httpx.Response(401, headers={"WWW-Authenticate": self._challenge()})
        return self._v2(request)

    def _challenge(self) -> str:
        if self.auth == "basic":
            return 'Basic realm="registry"'
        return f'Bearer realm="https://{AUTH}/token",service="{REGISTRY}",scope="repository:team/app:pull"'

    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header in (f"Basic {_basic(USER)}", "Bearer good-token")

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") not in (None, f"Basic {_basic(USER)}"):
            return httpx.Response(401)
        return httpx.Response(200, json={"token": "good-token"})

    def _storage(self, request: httpx.Request) -> httpx.Response:
        if self.storage_wants_auth:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="s3"'})
        return httpx.Response(200, content=self._blob(request.url.path.rsplit("/", 1)[-1]))

    def _v2(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/(.+)", request.url.path)
        if match is None or match.group(1) != "team/app":
            return _error(404, "NAME_UNKNOWN")
        kind, ref = match.group(2), match.group(3)
        if kind == "blobs" and self.redirect_blobs:
            return httpx.Response(307, headers={"Location": f"https://{STORAGE}/data/{ref}?sig=1"})
        if kind == "blobs":
            data = self._blob(ref)
            return httpx.Response(200, content=data) if data else _error(404, "BLOB_UNKNOWN")
        return self._manifest(ref)

    def _manifest(self, ref: str) -> httpx.Response:
        if ref in self.tags:
            media, data = self.tags[ref]
        elif ref.startswith("sha256:") and self._blob(ref):
            data = self._blob(ref)
            media = json.loads(data)["mediaType"]
        else:
            return _error(404, "MANIFEST_UNKNOWN")
        return httpx.Response(200, content=data, headers={"Content-Type": media})

    def _blob(self, ref: str) -> bytes:
        if ref in self.forged:
            return self.forged[ref]
        return self.layout.files.get("blobs/sha256/" + ref.removeprefix("sha256:"), b"")

    def hosts_with_auth(self) -> set[str]:
        return {r.url.host for r in self.seen if "Authorization" in r.headers}


def _basic(credential: Credential) -> str:
    return base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": code.lower()}]})


LAYER_ONE = layer([("file", "etc/os-release", b"ID=debian\nVERSION_ID=12\n"), ("dir", "var")])
LAYER_TWO = gz(layer([("file", "var/lib/dpkg/status", b"Package: zlib1g\n")]))


def single_image() -> FakeRegistry:
    out = Layout()
    described = out.image([LAYER_ONE, LAYER_TWO])
    manifest = out.files["blobs/sha256/" + described["digest"].split(":")[1]]
    return FakeRegistry(out, tags={"1.0": (MANIFEST, manifest)})


def multi_image() -> FakeRegistry:
    out = Layout()
    images = [
        out.image([layer([("file", "arch", arch.encode())])], arch)
        for arch in ("linux/amd64", "linux/arm64/v8")
    ]
    attestation = {**out.image([layer([])]), "platform": {"os": "unknown", "architecture": "unknown"}}
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [*images, attestation]})
    return FakeRegistry(out, tags={"multi": (INDEX, index.encode())})


def source(
    fake: FakeRegistry,
    tmp_path: Path,
    ref: str = "reg.example/team/app:1.0",
    credential: Credential | None = None,
    platform: Platform | None = None,
) -> RegistrySource:
    client = RegistryClient(REGISTRY, credential, transport=httpx.MockTransport(fake))
    return RegistrySource(parse_reference(ref), platform, client, LayerCache(tmp_path / "cache"))


def test_anonymous_pull_reads_the_image_and_caches_layers(tmp_path: Path) -> None:
    fake = single_image()
    with ImageTarget(source(fake, tmp_path)) as image:
        assert image.read_bytes("var/lib/dpkg/status", 100) == b"Package: zlib1g\n"
        assert image.layer_of("etc/os-release") == digest(LAYER_ONE)
    assert fake.hosts_with_auth() == set()
    cached = {p.name for p in (tmp_path / "cache" / "sha256").iterdir()}
    assert cached == {digest(LAYER_ONE)[7:], digest(LAYER_TWO)[7:]}
    fake.seen.clear()
    with ImageTarget(source(fake, tmp_path)) as image:
        assert image.read_bytes("etc/os-release", 100).startswith(b"ID=debian")
    assert not [r for r in fake.seen if "/blobs/" in r.url.path and digest(LAYER_ONE) in r.url.path]


def test_index_is_resolved_by_platform(tmp_path: Path) -> None:
    fake = multi_image()
    arm = source(fake, tmp_path, "reg.example/team/app:multi", platform=Platform.parse("linux/arm64"))
    assert ImageTarget(arm).read_bytes("arch", 100) == b"linux/arm64/v8"
    default = source(fake, tmp_path, "reg.example/team/app:multi")
    assert ImageTarget(default).read_bytes("arch", 100) == b"linux/amd64"


def test_missing_platform_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ImageError, match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)"
    ):
        source(multi_image(), tmp_path, "reg.example/team/app:multi", platform=Platform.parse("linux/s390x"))


def test_bearer_token_flow_sends_credentials_to_the_realm_only(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth, fake.redirect_blobs = "bearer", True
    with ImageTarget(source(fake, tmp_path, credential=USER)) as image:
        assert image.read_bytes("var/lib/dpkg/status", 100) == b"Package: zlib1g\n"
    token_requests = [r for r in fake.seen if r.url.host == AUTH]
    assert token_requests[0].headers["Authorization"] == f"Basic {_basic(USER)}"
    assert token_requests[0].url.params["scope"] == "repository:team/app:pull"
    assert token_requests[0].url.params["service"] == REGISTRY
    assert fake.hosts_with_auth() == {REGISTRY, AUTH}
    assert [r for r in fake.seen if r.url.host == STORAGE], "blobs came through the redirect"


def test_anonymous_bearer_token_sends_no_credentials(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth = "bearer"
    source(fake, tmp_path).config()
    assert all("Authorization" not in r.headers for r in fake.seen if r.url.host == AUTH)


def test_redirect_target_never_gets_authorization(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth, fake.redirect_blobs = "basic", True
    image = source(fake, tmp_path, credential=USER)
    drain(image.open_blob(digest(LAYER_ONE)))
    storage = [r for r in fake.seen if r.url.host == STORAGE]
    assert storage and all("Authorization" not in r.headers for r in storage)


def test_redirect_target_asking_for_credentials_is_refused(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth, fake.redirect_blobs = "basic", True
    image = source(fake, tmp_path, credential=USER)
    fake.storage_wants_auth = True
    with pytest.raises(Unauthorized, match="never sent to another host"):
        image.open_blob(digest(LAYER_ONE))
    assert STORAGE not in fake.hosts_with_auth()


def test_redirect_with_credentials_in_the_url_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://user:pw@evil.example/x"})

    client = RegistryClient(REGISTRY, USER, transport=httpx.MockTransport(handler))
    with pytest.raises(RegistryError, match="carries credentials"):
        client.get("/v2/team/app/blobs/sha256:" + "0" * 64, "*/*", "repository:team/app:pull")


def test_redirect_to_plain_http_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://storage.example/x"})

    client = RegistryClient(REGISTRY, None, transport=httpx.MockTransport(handler))
    with pytest.raises(RegistryError, match="non-HTTPS"):
        client.get("/v2/team/app/manifests/1", "*/*", "repository:team/app:pull")


def test_basic_auth(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth = "basic"
    assert source(fake, tmp_path, credential=USER).config()["architecture"] == "amd64"
    assert fake.hosts_with_auth() == {REGISTRY}


def test_missing_and_wrong_credentials_are_unauthorized(tmp_path: Path) -> None:
    fake = single_image()
    fake.auth = "basic"
    with pytest.raises(Unauthorized, match="none are saved for it"):
        source(fake, tmp_path)
    with pytest.raises(Unauthorized, match="refused the credentials"):
        source(fake, tmp_path, credential=Credential("alice", "wrong"))
    fake.auth = "bearer"
    with pytest.raises(Unauthorized, match=r"token service auth\.example refused"):
        source(fake, tmp_path, credential=Credential("alice", "wrong"))


def test_token_realm_must_be_https(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.example/t"'})

    client = RegistryClient(REGISTRY, USER, transport=httpx.MockTransport(handler))
    with pytest.raises(Unauthorized, match="not HTTPS"):
        client.get("/v2/team/app/manifests/1", "*/*", "repository:team/app:pull")


def test_manifest_unknown(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"manifest unknown: reg.example/v2/team/app/manifests/nope"):
        source(single_image(), tmp_path, "reg.example/team/app:nope")
    with pytest.raises(RegistryError, match="name unknown"):
        source(single_image(), tmp_path, "reg.example/other/app:1.0")


def test_blob_with_wrong_bytes_is_a_digest_mismatch_and_is_not_cached(tmp_path: Path) -> None:
    fake = single_image()
    fake.forged[digest(LAYER_ONE)] = LAYER_ONE[:-1] + b"x"
    image = source(fake, tmp_path)
    with pytest.raises(DigestMismatch, match="does not match its digest"):
        image.open_blob(digest(LAYER_ONE))
    assert not list((tmp_path / "cache" / "sha256").iterdir())


def test_damaged_layer_fails_the_image_with_a_digest_mismatch(tmp_path: Path) -> None:
    fake = single_image()
    fake.forged[digest(LAYER_TWO)] = LAYER_TWO + b"\0" * 512
    with pytest.raises(DigestMismatch, match="larger than its declared"):
        ImageTarget(source(fake, tmp_path))


def test_manifest_by_digest_is_verified(tmp_path: Path) -> None:
    fake = single_image()
    wanted = digest(fake.tags["1.0"][1])
    fake.forged[wanted] = fake.tags["1.0"][1].replace(b"schemaVersion", b"schemaversion")
    with pytest.raises(DigestMismatch, match="manifest"):
        source(fake, tmp_path, f"reg.example/team/app@{wanted}")


def test_tampered_cache_file_is_fetched_again(tmp_path: Path) -> None:
    fake = single_image()
    image = source(fake, tmp_path)
    drain(image.open_blob(digest(LAYER_ONE)))
    cached = tmp_path / "cache" / "sha256" / digest(LAYER_ONE)[7:]
    cached.write_bytes(b"tampered")
    with image.open_blob(digest(LAYER_ONE)) as stream:
        assert stream.read() == LAYER_ONE
    assert cached.read_bytes() == LAYER_ONE


def test_cache_is_kept_under_its_cap(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "c", max_bytes=len(LAYER_ONE) + 10)
    for data in (LAYER_TWO, LAYER_ONE):
        drain(cache.store(digest(data), len(data), io.BytesIO(data)))
    assert [p.name for p in (tmp_path / "c" / "sha256").iterdir()] == [digest(LAYER_ONE)[7:]]


def test_tls_failure_is_one_clear_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    client = RegistryClient(REGISTRY, None, transport=httpx.MockTransport(handler))
    with pytest.raises(RegistryError, match=r"^TLS failure talking to reg\.example: "):
        client.get("/v2/", "*/*", "")


def test_unreachable_registry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = RegistryClient(REGISTRY, None, transport=httpx.MockTransport(handler))
    with pytest.raises(RegistryError, match=r"cannot reach registry reg\.example"):
        client.get("/v2/", "*/*", "")


def test_schema1_and_malformed_manifests_are_refused(tmp_path: Path) -> None:
    fake = single_image()
    fake.tags["old"] = ("application/vnd.docker.distribution.manifest.v1+prettyjws", b'{"schemaVersion": 1}')
    fake.tags["bad"] = (MANIFEST, b'{"schemaVersion": 2, "config": {')
    fake.tags["huge"] = (MANIFEST, b" " * (4 * 1024 * 1024 + 1))
    with pytest.raises(ImageError, match="unsupported manifest type"):
        source(fake, tmp_path, "reg.example/team/app:old")
    with pytest.raises(ImageError, match="not valid JSON"):
        source(fake, tmp_path, "reg.example/team/app:bad")
    with pytest.raises(ImageError, match="larger than"):
        source(fake, tmp_path, "reg.example/team/app:huge")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("debian", ("docker.io", "library/debian", "latest", "")),
        ("debian:12", ("docker.io", "library/debian", "12", "")),
        ("docker.io/grafana/loki:3", ("docker.io", "grafana/loki", "3", "")),
        ("localhost:5000/team/app", ("localhost:5000", "team/app", "latest", "")),
        ("Reg.Example/a/b:v1@sha256:" + "a" * 64, ("reg.example", "a/b", "v1", "sha256:" + "a" * 64)),
    ],
)
def test_parse_reference(text: str, expected: tuple[str, ...]) -> None:
    ref = parse_reference(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == expected


def test_docker_hub_uses_its_api_host() -> None:
    assert parse_reference("alpine").api_host == "registry-1.docker.io"


@pytest.mark.parametrize(
    "text",
    ["./image", "/tmp/x", "image.tar", "app.tar.gz", "Upper/Case", "a/b@sha256:short", "x:bad tag", ""],
)
def test_not_references(text: str) -> None:
    assert not looks_like_reference(text)


def test_missing_local_path_is_still_reported_as_missing(tmp_path: Path) -> None:
    from rampart.image import open_image

    with pytest.raises(ImageError, match="does not exist"):
        open_image(tmp_path / "missing.tar")
