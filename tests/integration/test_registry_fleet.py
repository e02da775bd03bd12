"""The server scanning a real registry: Debian's ``docker-registry`` on loopback and a real `rampart server`
process, on SQLite and on PostgreSQL.

An administrator registers the registry and a repository with a tag pattern; a scan pulls each matching tag,
finds the Debian 11 packages and their advisories (with the layer that brought each package), leaves
unchanged tags alone, rescans a tag whose digest changed, forgets a deleted tag, and re-matches stored image
inventories when the advisory database changes. Credentials come from the server's docker config file.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.registry import delete_manifest, push, rootfs_entries, start_registry, tool
from fixtures.rootfs import build_debian11_rootfs
from integration.fleet import ADMIN, ADMIN_PASSWORD, Server, free_port, run_rampart, wait_for
from unit.image import imagebuild

pytestmark = pytest.mark.slow
XORG_OLD, XORG_FIXED = "2:1.20.11-1+deb11u5", "2:1.20.11-1+deb11u6"
REPO = "team/app"
USER, PASSWORD = "puller", "registry secret"


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Debian 11 fixture root filesystem as shipped, and with the xorg fix installed."""
    old = tmp_path_factory.mktemp("old")
    build_debian11_rootfs(old)
    fixed = tmp_path_factory.mktemp("fixed")
    build_debian11_rootfs(fixed)
    status = fixed / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace(XORG_OLD, XORG_FIXED))
    return {"old": old, "fixed": fixed}


def _image(root: Path, motd: bytes) -> imagebuild.Layout:
    out = imagebuild.Layout()
    base = imagebuild.gz(imagebuild.layer(rootfs_entries(root)))
    top = imagebuild.gz(imagebuild.layer([("file", "etc/motd", motd)]))
    return out.index([out.image([base, top])])


def _index_digest(image: imagebuild.Layout) -> str:
    return imagebuild.digest(image.files["index.json"])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    yield from start_registry(tmp_path / "registry")


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    docker = tmp_path / "docker-config.json"
    extra = ("--rematch-check", "0.5", "--registry-auth", str(docker), "--registry-interval", "3600")
    instance = Server(tmp_path / "server", "127.0.0.1", free_port(), database_url, extra=extra)
    instance.init()
    yield instance
    instance.stop()


def _call(server: Server, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with server.client(token) as client:
        client.timeout = httpx.Timeout(300)
        return client.request(method, path, **kwargs)


def _ok(answer: httpx.Response, code: int = 200) -> Any:
    assert answer.status_code == code, answer.text
    return answer.json() if answer.content else None


def _register(server: Server, admin: str, host: str, tags: list[str]) -> None:
    _ok(
        _call(server, admin, "POST", "/registries", json={"name": "local", "host": host, "insecure": True}),
        201,
    )
    body = {"name": REPO, "tags": tags}
    _ok(_call(server, admin, "POST", "/registries/local/repositories", json=body), 201)


def _scan(server: Server, token: str) -> dict[str, Any]:
    outcome = _ok(_call(server, token, "POST", "/registries/local/scan"))["repositories"]
    assert len(outcome) == 1
    return dict(outcome[0])


def _images(server: Server, token: str) -> dict[str, dict[str, Any]]:
    return {i["tag"]: i for i in _ok(_call(server, token, "GET", "/images"))}


def _xorg(server: Server, token: str, image: str, status: str = "open") -> list[dict[str, Any]]:
    params = {"image": image, "package": "xserver-xorg-core", "status": status}
    page = _ok(_call(server, token, "GET", "/images/findings", params=params))
    return [f for f in page["items"] if f["vulnerability_id"] == "CVE-2023-1393"]


def _counts(outcome: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return outcome["tags"], outcome["scanned"], outcome["unchanged"], outcome["removed"], outcome["failed"]


def test_new_changed_and_deleted_tags(
    server: Server, registry: str, roots: dict[str, Path], debian_advisories: Path
) -> None:
    shutil.copy(debian_advisories, server.data_dir / "advisories.sqlite3")
    server.start()
    admin = server.login()
    one, two = _image(roots["old"], b"one\n"), _image(roots["fixed"], b"two\n")
    push(registry, REPO, "1.0", one)
    push(registry, REPO, "2.0", two)
    push(registry, REPO, "dev", two)
    _register(server, admin, registry, ["[0-9]*"])

    assert _counts(_scan(server, admin)) == (2, 2, 0, 0, 0)  # "dev" does not match the pattern
    images = _images(server, admin)
    assert sorted(images) == ["1.0", "2.0"]
    first = images["1.0"]
    assert first["reference"] == f"{registry}/{REPO}:1.0" and first["digest"] == _index_digest(one)
    assert first["os"]["id"] == "debian" and first["os"]["version"] == "11" and first["error"] == ""
    assert first["packages"] > 0 and sum(first["open"].values()) > 0, first
    finding = _xorg(server, admin, first["reference"])[0]
    assert finding["version"] == XORG_OLD and XORG_FIXED in finding["fixed_versions"]
    assert finding["layer"] == first["layers"][0]  # the base layer brought the package
    assert _xorg(server, admin, images["2.0"]["id"]) == []
    packages = _ok(_call(server, admin, "GET", f"/images/{first['id']}/packages"))
    xorg = [p for p in packages if p["name"] == "xserver-xorg-core"]
    assert xorg and xorg[0]["version"] == XORG_OLD and xorg[0]["layer"] == first["layers"][0]

    assert _counts(_scan(server, admin)) == (2, 0, 2, 0, 0)  # nothing changed, nothing pulled again

    push(registry, REPO, "1.0", _image(roots["fixed"], b"one, fixed\n"))
    assert _counts(_scan(server, admin)) == (2, 1, 1, 0, 0)
    assert _xorg(server, admin, first["reference"]) == []
    fixed = _xorg(server, admin, first["reference"], "fixed")[0]
    assert fixed["first_seen_at"] == finding["first_seen_at"] and fixed["fixed_at"] is not None

    delete_manifest(registry, REPO, _index_digest(two))  # takes "2.0" and "dev" away
    assert _counts(_scan(server, admin)) == (1, 0, 1, 1, 0)
    assert sorted(_images(server, admin)) == ["1.0"]
    summary = _ok(_call(server, admin, "GET", "/findings/summary"))
    assert summary["images"] == 1 and summary["hosts"] == 0
    actions = [json.loads(line)["action"] for line in _call(server, admin, "GET", "/audit").text.splitlines()]
    assert {"registry.add", "registry.repository.add", "registry.scan"} <= set(actions)


def test_image_findings_follow_advisory_updates(
    server: Server, registry: str, roots: dict[str, Path], debian_advisories: Path
) -> None:
    server.start()
    admin = server.login()
    push(registry, REPO, "1.0", _image(roots["old"], b"one\n"))
    _register(server, admin, registry, ["*"])
    assert _counts(_scan(server, admin)) == (1, 1, 0, 0, 0)
    reference = f"{registry}/{REPO}:1.0"
    assert _xorg(server, admin, reference) == []  # no advisory database yet
    staged = server.data_dir / "advisories.sqlite3.new"
    shutil.copy(debian_advisories, staged)
    staged.replace(server.data_dir / "advisories.sqlite3")
    opened = wait_for(lambda: _xorg(server, admin, reference), "the re-match to open CVE-2023-1393")[0]
    assert opened["status"] == "open" and opened["version"] == XORG_OLD
    assert _counts(_scan(server, admin)) == (1, 0, 1, 0, 0)  # the re-match needed no pull


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[str]:
    binary = tool("htpasswd", "apache2-utils")
    htpasswd = tmp_path / "htpasswd"
    made = subprocess.run([binary, "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True)
    htpasswd.write_text(made.stdout)
    yield from start_registry(tmp_path / "auth-registry", htpasswd)


def test_credentials_come_from_the_servers_config_file(
    server: Server, auth_registry: str, roots: dict[str, Path], tmp_path: Path
) -> None:
    server.start()
    admin = server.login()
    push(auth_registry, REPO, "1.0", _image(roots["old"], b"one\n"), (USER, PASSWORD))
    _register(server, admin, auth_registry, ["*"])
    refused = _scan(server, admin)
    assert _counts(refused) == (0, 0, 0, 0, 1) and "unauthorized" in refused["errors"][0]
    listed = _ok(_call(server, admin, "GET", "/registries"))[0]["repositories"][0]
    assert "unauthorized" in listed["error"] and listed["polled_at"] is not None
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / "docker-config.json").write_text(json.dumps({"auths": {auth_registry: {"auth": auth}}}))
    assert _counts(_scan(server, admin)) == (1, 1, 0, 0, 0)  # read again at the next poll
    listed = _ok(_call(server, admin, "GET", "/registries"))[0]["repositories"][0]
    assert listed["error"] == "" and listed["images"] == 1


def _user(server: Server, admin: str, name: str, role: str) -> str:
    body = {"name": name, "password": "a long enough password 1", "roles": [role]}
    _ok(_call(server, admin, "POST", "/users", json=body), 201)
    return server.login(name, "a long enough password 1")


def test_who_may_register_scan_and_read(server: Server, registry: str, roots: dict[str, Path]) -> None:
    server.start()
    admin = server.login()
    viewer, operator = _user(server, admin, "vera", "viewer"), _user(server, admin, "otto", "operator")
    body = {"name": "local", "host": registry, "insecure": True}
    assert _call(server, operator, "POST", "/registries", json=body).status_code == 403
    _register(server, admin, registry, ["*"])
    push(registry, REPO, "1.0", _image(roots["old"], b"one\n"))
    assert _call(server, viewer, "POST", "/registries/local/scan").status_code == 403
    assert _counts(_scan(server, operator)) == (1, 1, 0, 0, 0)
    assert sorted(_images(server, viewer)) == ["1.0"]
    assert _call(server, viewer, "DELETE", "/registries/local").status_code == 403
    bad = {"name": "x", "host": "a host with spaces", "insecure": True}
    assert _call(server, admin, "POST", "/registries", json=bad).status_code == 422
    assert _call(server, admin, "POST", "/registries", json=body).status_code == 409
    assert _call(server, admin, "DELETE", "/registries/local").status_code == 204
    assert _images(server, admin) == {}


def test_the_server_polls_by_itself_and_the_cli_shows_it(
    tmp_path: Path, database_url: str, registry: str, roots: dict[str, Path], debian_advisories: Path
) -> None:
    extra = ("--registry-interval", "1", "--registry-auth", str(tmp_path / "none.json"))
    server = Server(tmp_path / "polling", "127.0.0.1", free_port(), database_url, extra=extra)
    server.init()
    shutil.copy(debian_advisories, server.data_dir / "advisories.sqlite3")
    server.start()
    try:
        env = {"RAMPART_CONFIG": str(tmp_path / "client.json"), "RAMPART_PASSWORD": ADMIN_PASSWORD}
        ca = server.data_dir / "pki/ca.crt"
        assert (
            run_rampart("login", "--server", server.url, "--user", ADMIN, "--ca", ca, env=env).returncode == 0
        )
        added = run_rampart("registries", "add", "local", registry, "--insecure", env=env)
        assert added.returncode == 0, added.stderr
        watched = run_rampart("registries", "add-repository", "local", REPO, "--tag", "1.*", env=env)
        assert watched.returncode == 0, watched.stderr
        push(registry, REPO, "1.0", _image(roots["old"], b"one\n"))
        reference = f"{registry}/{REPO}:1.0"
        admin = server.login()
        wait_for(lambda: _xorg(server, admin, reference), "the server's own poll to scan 1.0")
        listed = run_rampart("images", "findings", "--image", reference, "--format", "json", env=env)
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        assert any(r["vulnerability_id"] == "CVE-2023-1393" and r["reference"] == reference for r in rows)
        scanned = run_rampart("registries", "scan", "local", env=env)
        assert scanned.returncode == 0, scanned.stderr
    finally:
        server.stop()
