"""ApiClient's registry and image methods against httpx.MockTransport: paths (repository names kept as quoted
segments), query parameters, bodies, the long read timeout of a scan, paging, shapes and error mapping."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from rampart.client.api import SCAN_TIMEOUT, ImageFindingQuery
from rampart.client.models import FleetSummary, Image, Registry, RematchResult
from rampart.errors import ApiError, ClientError
from unit.client.samples import (
    DIGEST,
    IMAGE_A,
    LAYER,
    image_finding_json,
    image_json,
    image_package_json,
    registry_json,
    repository_json,
    scan_json,
)
from unit.client.test_api import answer, client


class Recorder:
    """A MockTransport handler that records every request and answers with a canned response."""

    def __init__(self, status: int = 200, body: object = None) -> None:
        self.status = status
        self.body = body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status == 204:
            return httpx.Response(204)
        return httpx.Response(self.status, json=self.body)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def raw_path(self) -> str:
        return self.last.url.raw_path.decode().partition("?")[0]

    def params(self) -> list[tuple[str, str]]:
        return list(self.last.url.params.multi_items())

    def body_json(self) -> Any:
        return json.loads(self.last.content)


# --- registries --------------------------------------------------------------------------------


def test_registries_are_listed_with_their_repositories() -> None:
    handler = Recorder(body=[registry_json(), registry_json(name="hub", repositories=[])])
    registries = client(handler).registries()
    assert (handler.last.method, handler.raw_path()) == ("GET", "/api/v1/registries")
    assert [r.name for r in registries] == ["local", "hub"]
    local = registries[0]
    assert (local.host, local.insecure, local.platform) == ("127.0.0.1:5000", True, "linux/amd64")
    repository = local.repositories[0]
    assert (repository.registry, repository.name, repository.tags) == ("local", "team/app", ("1.*", "latest"))
    assert repository.images == 2 and repository.polled_at is not None and repository.error == ""


def test_add_registry_posts_the_whole_body() -> None:
    handler = Recorder(201, registry_json(repositories=[]))
    registry = client(handler).add_registry("local", "127.0.0.1:5000", insecure=True, platform="linux/amd64")
    assert (handler.last.method, handler.raw_path()) == ("POST", "/api/v1/registries")
    assert handler.body_json() == {
        "name": "local",
        "host": "127.0.0.1:5000",
        "insecure": True,
        "platform": "linux/amd64",
    }
    assert registry.name == "local" and registry.repositories == ()
    client(handler).add_registry("hub", "registry.example.org")
    assert handler.body_json() == {
        "name": "hub",
        "host": "registry.example.org",
        "insecure": False,
        "platform": "",
    }


def test_a_taken_registry_name_is_the_servers_409() -> None:
    with pytest.raises(ApiError) as error:
        client(answer(409, {"detail": "registry local exists"})).add_registry("local", "h")
    assert error.value.status == 409 and error.value.message == "server said 409: registry local exists"


def test_remove_registry_quotes_the_name() -> None:
    handler = Recorder(204)
    client(handler).remove_registry("my reg/x")
    assert (handler.last.method, handler.raw_path()) == ("DELETE", "/api/v1/registries/my%20reg%2Fx")
    with pytest.raises(ApiError, match=r"^server said 404: no such registry$"):
        client(answer(404, {"detail": "no such registry"})).remove_registry("gone")


def test_add_repository_posts_name_and_tag_patterns() -> None:
    handler = Recorder(201, repository_json(polled_at=None, images=0))
    added = client(handler).add_repository("local", "team/app", ["1.*", "latest"])
    assert (handler.last.method, handler.raw_path()) == ("POST", "/api/v1/registries/local/repositories")
    assert handler.body_json() == {"name": "team/app", "tags": ["1.*", "latest"]}
    assert added.polled_at is None and added.images == 0
    client(handler).add_repository("local", "app")
    assert handler.body_json() == {"name": "app", "tags": ["*"]}


def test_add_repository_errors() -> None:
    with pytest.raises(ApiError, match=r"^server said 409: repository already there$"):
        client(answer(409, {"detail": "repository already there"})).add_repository("local", "team/app")
    with pytest.raises(ApiError) as error:
        client(answer(404, {"detail": "no such registry"})).add_repository("nope", "team/app")
    assert error.value.status == 404


def test_remove_repository_keeps_slashes_as_segments_and_quotes_each() -> None:
    handler = Recorder(204)
    api = client(handler)
    api.remove_repository("local", "team/app")
    assert handler.raw_path() == "/api/v1/registries/local/repositories/team/app"
    api.remove_repository("my reg", "a/b c/d?e#f")
    assert handler.raw_path() == "/api/v1/registries/my%20reg/repositories/a/b%20c/d%3Fe%23f"
    assert [r.method for r in handler.requests] == ["DELETE", "DELETE"]


@pytest.mark.parametrize("name", ["", "team/../admin", "team//app", "./app", "team/app/", "/app", ".."])
def test_repository_names_that_could_address_something_else_are_refused(name: str) -> None:
    handler = Recorder(204)
    with pytest.raises(ClientError, match="not a valid name"):
        client(handler).remove_repository("local", name)
    assert handler.requests == []


def test_scan_registry_waits_long_for_this_call_only() -> None:
    handler = Recorder(
        body={"repositories": [scan_json(), scan_json(repository="base", failed=1, errors=["x"])]}
    )
    api = client(handler)
    result = api.scan_registry("local", "team/app")
    request = handler.last
    assert (request.method, handler.raw_path()) == ("POST", "/api/v1/registries/local/scan")
    assert handler.params() == [("repository", "team/app")]
    assert request.extensions["timeout"]["read"] == SCAN_TIMEOUT == 1800
    assert request.extensions["timeout"]["connect"] == 5.0
    assert [r.repository for r in result.repositories] == ["team/app", "base"]
    assert [r.ok for r in result.repositories] == [True, False]
    assert result.repositories[1].errors == ("x",)

    api.scan_registry("local")
    assert handler.params() == []
    handler.body = []  # an ordinary call afterwards keeps the client's timeout
    api.registries()
    assert handler.last.extensions["timeout"]["read"] == 5.0


def test_a_scan_that_outlasts_its_timeout_says_how_long_it_waited() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ClientError, match=r"did not answer within 1800 s$"):
        client(slow).scan_registry("local")
    with pytest.raises(ClientError, match=r"did not answer within 5 s$"):
        client(slow).registries()


def test_scan_registry_errors() -> None:
    with pytest.raises(ApiError) as error:
        client(answer(403, {"detail": "operator role required"})).scan_registry("local")
    assert error.value.status == 403 and error.value.message == "server said 403: operator role required"
    with pytest.raises(ApiError, match=r"unexpected response: registry scan\.repositories 0"):
        client(answer(200, {"repositories": [{"registry": "local"}]})).scan_registry("local")


# --- images ------------------------------------------------------------------------------------


def test_images_with_filters() -> None:
    handler = Recorder(body=[image_json()])
    api = client(handler)
    (image,) = api.images()
    assert (handler.last.method, handler.raw_path(), handler.params()) == ("GET", "/api/v1/images", [])
    assert image.id == IMAGE_A and image.digest == DIGEST and image.layers[0] == LAYER
    assert image.os.pretty == "Alpine Linux v3.19" and image.open == {"CRITICAL": 1, "HIGH": 2}
    api.images(registry="local", reference="127.0.0.1:5000/team/app:1.0")
    assert handler.params() == [("registry", "local"), ("reference", "127.0.0.1:5000/team/app:1.0")]
    api.images(reference="127.0.0.1:5000/team/app:1.0")
    assert handler.params() == [("reference", "127.0.0.1:5000/team/app:1.0")]


def test_image_and_its_packages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if path == f"/api/v1/images/{IMAGE_A}":
            return httpx.Response(200, json=image_json())
        if path == f"/api/v1/images/{IMAGE_A}/packages":
            return httpx.Response(200, json=[image_package_json(), image_package_json(source_name=None)])
        return httpx.Response(404, json={"detail": f"no route {path}"})

    api = client(handler)
    assert api.image(IMAGE_A).reference == "127.0.0.1:5000/team/app:1.0"
    packages = api.image_packages(IMAGE_A)
    assert (packages[0].name, packages[0].layer, packages[0].location) == (
        "libcrypto3",
        LAYER,
        "lib/apk/db/installed",
    )
    assert packages[1].source_name is None
    with pytest.raises(ApiError, match=r"^server said 404: no route /api/v1/images/a%2Fb$"):
        api.image("a/b")


def test_image_findings_query_parameters() -> None:
    query = ImageFindingQuery(
        ("HIGH", "CRITICAL"),
        "127.0.0.1:5000/team/app:1.0",
        "local",
        "libcrypto3",
        "CVE-2024-0727",
        False,
        "all",
    )
    assert query.params() == [
        ("status", "all"),
        ("severity", "HIGH,CRITICAL"),
        ("image", "127.0.0.1:5000/team/app:1.0"),
        ("registry", "local"),
        ("package", "libcrypto3"),
        ("advisory", "CVE-2024-0727"),
        ("fixable", "false"),
    ]
    assert ImageFindingQuery().params() == [("status", "open")]
    assert ImageFindingQuery(fixable=True).params() == [("status", "open"), ("fixable", "true")]


def test_image_findings_are_fetched_page_by_page() -> None:
    seen: list[tuple[str, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/images/findings"
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        seen.append(
            (request.url.params["offset"], request.url.params["registry"], request.url.params["status"])
        )
        items = [
            image_finding_json(vulnerability_id=f"CVE-{i}") for i in range(offset, min(offset + limit, 5))
        ]
        return httpx.Response(200, json={"total": 5, "items": items})

    found = client(handler).image_findings(ImageFindingQuery(registry="local"), page_size=2)
    assert [f.vulnerability_id for f in found] == [f"CVE-{i}" for i in range(5)]
    assert seen == [("0", "local", "open"), ("2", "local", "open"), ("4", "local", "open")]
    assert found[0].layer == LAYER and found[0].severity.name == "MEDIUM"


def test_image_findings_page_stops_on_an_early_empty_page() -> None:
    handler = Recorder(body={"total": 100, "items": []})
    assert client(handler).image_findings(ImageFindingQuery()) == [] and len(handler.requests) == 1
    page = client(Recorder(body={"total": 1, "items": [image_finding_json()]})).image_findings_page(
        ImageFindingQuery(), limit=10, offset=0
    )
    assert page.total == 1 and page.items[0].image_id == IMAGE_A


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("registries", {"registries": []}),
        ("registries", [registry_json(repositories=None)]),
        ("registries", [registry_json(insecure="yes")]),
        ("registries", [registry_json(repositories=[repository_json(images="2")])]),
        ("images", [image_json(digest=None)]),
        ("images", [image_json(open=["HIGH"])]),
        ("images", [image_json(scanned_at="yesterday")]),
        ("image_findings", {"total": 1, "items": [image_finding_json(layer=5)]}),
        ("image_findings", {"total": 1, "items": None}),
    ],
)
def test_wrong_shapes_are_clear_errors(call: str, body: object) -> None:
    api = client(answer(200, body))
    with pytest.raises(ApiError, match="unexpected response"):
        if call == "image_findings":
            api.image_findings(ImageFindingQuery())
        else:
            getattr(api, call)()


# --- summary and models ------------------------------------------------------------------------


def test_fleet_summary_with_and_without_image_totals() -> None:
    old = {"hosts": 2, "open": {"HIGH": 1}, "fixable": 1}
    summary = client(answer(200, old)).fleet_summary()
    assert (summary.images, summary.images_open, summary.images_fixable) == (0, {}, 0)
    new = {**old, "images": 4, "images_open": {"CRITICAL": 2}, "images_fixable": 1}
    summary = client(answer(200, new)).fleet_summary()
    assert (summary.images, summary.images_open, summary.images_fixable) == (4, {"CRITICAL": 2}, 1)
    with pytest.raises(ApiError, match=r"summary\.images_open"):
        FleetSummary.from_json({**old, "images_open": {"HIGH": "1"}})


def test_rematch_reports_images_when_the_server_does() -> None:
    base = {"hosts": 1, "packages": 2, "opened": 3, "closed": 4, "seconds": 0.5}
    assert RematchResult.from_json(base).images == 0
    assert RematchResult.from_json({**base, "images": 7}).images == 7


def test_registry_and_image_models_round_trip_to_json() -> None:
    from rampart.client.models import to_json

    registry = to_json(Registry.from_json(registry_json()))
    assert registry["repositories"][0]["created_at"] == "2026-11-27T09:00:00Z"
    image = to_json(Image.from_json(image_json()))
    assert image["os"] == {"id": "alpine", "version": "3.19.1", "pretty": "Alpine Linux v3.19"}
    assert image["open"] == {"CRITICAL": 1, "HIGH": 2} and image["scanned_at"] == "2026-11-28T11:00:00Z"
