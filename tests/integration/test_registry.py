"""Images pulled from Debian's real ``docker-registry`` on loopback: anonymous, with htpasswd auth, and
with blob downloads redirected to a separate storage host that must never see the credentials.

Images are pushed by the test itself with plain Distribution API uploads, then scanned through
ImageTarget; the packages must equal those of the same image read from an OCI layout directory.
"""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.registry import push, rootfs_entries, start_registry, tool
from fixtures.rootfs import DEBIAN11_EXPECTED, build_debian11_rootfs
from integration.cli import rampart as cli_rampart
from rampart.image import ImageTarget, Platform, open_image
from rampart.image.registry import Unauthorized
from rampart.inventory.collect import collect_inventory
from rampart.target.base import Target
from unit.image import imagebuild

pytestmark = pytest.mark.slow
USER, PASSWORD = "alice", "correct horse"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    yield from start_registry(tmp_path)


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    binary = tool("htpasswd", "apache2-utils")
    path = tmp_path / "htpasswd"
    done = subprocess.run([binary, "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True)
    path.write_text(done.stdout)
    return path


@pytest.fixture
def auth_registry(tmp_path: Path, htpasswd: Path) -> Iterator[str]:
    yield from start_registry(tmp_path, htpasswd)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> imagebuild.Layout:
    """A two-platform image whose amd64 variant is a small Debian 11 root filesystem."""
    root = tmp_path_factory.mktemp("rootfs")
    build_debian11_rootfs(root)
    base = imagebuild.layer(rootfs_entries(root))
    extra = imagebuild.gz(imagebuild.layer([("file", "etc/motd", b"hello\n")]))
    out = imagebuild.Layout()
    amd = out.image([imagebuild.gz(base), extra])
    arm = out.image([imagebuild.layer([("file", "etc/hostname", b"arm\n")])], "linux/arm64/v8")
    return out.index([amd, arm])


def _packages(target: Target) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, p.name, p.version) for p in collect_inventory(target, workers=0).packages}


def _layout_packages(image: imagebuild.Layout, tmp_path: Path) -> set[tuple[str, str, str]]:
    with open_image(image.write_dir(tmp_path / "layout")) as local:
        return _packages(local)


@pytest.fixture
def layer_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAMPART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return tmp_path / "cache" / "layers"


def test_anonymous_registry_gives_the_same_packages_as_the_layout(
    registry: str, image: imagebuild.Layout, layer_cache: Path, tmp_path: Path
) -> None:
    push(registry, "team/debian", "11", image)
    with open_image(f"{registry}/team/debian:11", insecure=True) as pulled:
        assert isinstance(pulled, ImageTarget)
        found = _packages(pulled)
    assert found == _layout_packages(image, tmp_path)
    assert found == DEBIAN11_EXPECTED
    assert len(list((layer_cache / "sha256").iterdir())) == 2
    with open_image(f"{registry}/team/debian:11", Platform.parse("linux/arm64"), insecure=True) as arm:
        assert arm.read_bytes("etc/hostname", 10) == b"arm\n"


def test_registry_errors_are_one_line(registry: str, image: imagebuild.Layout, layer_cache: Path) -> None:
    push(registry, "team/debian", "11", image)
    with pytest.raises(Exception, match=r"manifest unknown: .*/v2/team/debian/manifests/12"):
        open_image(f"{registry}/team/debian:12", insecure=True)
    with pytest.raises(
        Exception, match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)"
    ):
        open_image(f"{registry}/team/debian:11", Platform.parse("linux/s390x"), insecure=True)
    with pytest.raises(Exception, match=f"^TLS failure talking to {registry}"):
        open_image(f"{registry}/team/debian:11")


def _docker_config(directory: Path, host: str, user: str, password: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_htpasswd_registry_uses_the_saved_credentials(
    auth_registry: str, image: imagebuild.Layout, layer_cache: Path, tmp_path: Path
) -> None:
    push(auth_registry, "team/debian", "11", image, (USER, PASSWORD))
    with pytest.raises(Unauthorized, match="none are saved for it"):
        open_image(f"{auth_registry}/team/debian:11", insecure=True)
    _docker_config(tmp_path / "docker", "other.example:5000", USER, PASSWORD)
    with pytest.raises(Unauthorized, match="none are saved for it"):
        open_image(f"{auth_registry}/team/debian:11", insecure=True)
    _docker_config(tmp_path / "docker", auth_registry, USER, "wrong")
    with pytest.raises(Unauthorized, match="refused the credentials"):
        open_image(f"{auth_registry}/team/debian:11", insecure=True)
    _docker_config(tmp_path / "docker", f"http://{auth_registry}", USER, PASSWORD)
    with open_image(f"{auth_registry}/team/debian:11", insecure=True) as pulled:
        assert _packages(pulled) == _layout_packages(image, tmp_path)


class _Storage(http.server.BaseHTTPRequestHandler):
    """Blob storage on another host: serves the registry's files, remembers every request's headers."""

    root: Path
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        path = (self.root / self.path.split("?")[0].lstrip("/")).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[tuple[str, type[_Storage]]]:
    handler = type("Storage", (_Storage,), {"root": (tmp_path / "data").resolve(), "seen": []})
    (tmp_path / "data").mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_blob_redirect_to_another_host_never_carries_credentials(
    tmp_path: Path,
    htpasswd: Path,
    storage: tuple[str, type[_Storage]],
    image: imagebuild.Layout,
    layer_cache: Path,
) -> None:
    base, handler = storage
    for host in start_registry(tmp_path, htpasswd, redirect=base):
        push(host, "team/debian", "11", image, (USER, PASSWORD))
        _docker_config(tmp_path / "docker", host, USER, PASSWORD)
        with open_image(f"{host}/team/debian:11", insecure=True) as pulled:
            assert _packages(pulled) == _layout_packages(image, tmp_path)
    assert handler.seen, "the blobs were fetched from the storage host"
    assert all("Authorization" not in headers for headers in handler.seen)


def test_the_cli_inventories_an_image_from_the_registry(
    registry: str, image: imagebuild.Layout, layer_cache: Path, tmp_path: Path
) -> None:
    push(registry, "team/cli", "11", image)
    reference = f"{registry}/team/cli:11"
    cache = Path(str(layer_cache)).parent
    done = cli_rampart("sbom", "image", reference, "--insecure", "--format", "cyclonedx", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    names = {c["name"] for c in json.loads(done.stdout)["components"] if c.get("type") == "library"}
    assert {name for _, name, _ in DEBIAN11_EXPECTED} <= names
    refused = cli_rampart("sbom", "image", reference, cache_dir=cache)  # HTTPS only without --insecure
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
