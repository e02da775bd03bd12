"""Tag lists and tag digests from a registry: pagination, hostile answers, caps (against a mock transport)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import httpx
import pytest

from rampart.image import catalog
from rampart.image.catalog import list_tags, tag_digest, valid_tag
from rampart.image.registry import RegistryClient, RegistryError

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> RegistryClient:
    return RegistryClient("registry.test", insecure=True, transport=httpx.MockTransport(handler))


def pages(*documents: object, link_to: str | None = None) -> Handler:
    """Answer the n-th request with the n-th document, linking each page to the next."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        index = len(seen) - 1
        headers = {}
        if index + 1 < len(documents):
            headers["Link"] = f'<{link_to or "/v2/team/app/tags/list"}?n=2&last=x{index}>; rel="next"'
        return httpx.Response(200, content=json.dumps(documents[index]).encode(), headers=headers)

    return handle


def test_tags_are_collected_across_pages_sorted_and_deduplicated() -> None:
    handler = pages(
        {"name": "team/app", "tags": ["2.0", "1.0"]}, {"name": "team/app", "tags": ["1.0", "latest"]}
    )
    assert list_tags(client(handler), "team/app") == catalog.TagList(("1.0", "2.0", "latest"), 0)


def test_names_that_are_not_tags_are_skipped_and_counted() -> None:
    hostile = ["ok", "../../etc", "-dash", "a" * 129, 7, None, "x\ny", ".hidden", "fine_1.2-3"]
    found = list_tags(client(pages({"tags": hostile})), "team/app")
    assert found == catalog.TagList(("fine_1.2-3", "ok"), 7)


def test_a_repository_without_tags_lists_none() -> None:
    assert list_tags(client(pages({"name": "team/app", "tags": None})), "team/app").tags == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "is not JSON"),
        (b"[1, 2]", "has no 'tags' list"),
        (b'{"tags": "1.0"}', "has no 'tags' list"),
    ],
)
def test_malformed_tag_lists_are_one_line_errors(body: bytes, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        list_tags(client(lambda _: httpx.Response(200, content=body)), "team/app")


def test_a_next_page_on_another_host_or_path_is_refused() -> None:
    for target in ("https://evil.test/v2/team/app/tags/list", "/v2/other/tags/list"):
        handler = pages({"tags": ["1"]}, {"tags": ["2"]}, link_to=target)
        with pytest.raises(RegistryError, match="links its next page elsewhere"):
            list_tags(client(handler), "team/app")


def test_a_huge_page_and_too_many_tags_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    huge = b'{"tags": ["' + b"a" * catalog.MAX_PAGE_BYTES + b'"]}'
    with pytest.raises(RegistryError, match="larger than"):
        list_tags(client(lambda _: httpx.Response(200, content=huge)), "team/app")
    monkeypatch.setattr(catalog, "MAX_TAGS", 3)
    handler = pages({"tags": ["1", "2"]}, {"tags": ["3", "4"]})
    with pytest.raises(RegistryError, match="more than 3 tags"):
        list_tags(client(handler), "team/app")


def test_an_unknown_repository_is_a_registry_error() -> None:
    answer = {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}
    with pytest.raises(RegistryError, match="name unknown"):
        list_tags(client(lambda _: httpx.Response(404, json=answer)), "team/app")


def test_a_tag_digest_is_the_hash_of_the_bytes_sent_never_the_header() -> None:
    body = b'{"schemaVersion": 2, "manifests": []}'

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/team/app/manifests/1.0"
        assert "application/vnd.oci.image.index.v1+json" in request.headers["Accept"]
        return httpx.Response(200, content=body, headers={"Docker-Content-Digest": "sha256:" + "0" * 64})

    assert tag_digest(client(handle), "team/app", "1.0") == "sha256:" + hashlib.sha256(body).hexdigest()


def test_valid_tags_follow_the_distribution_grammar() -> None:
    assert all(valid_tag(t) for t in ("latest", "1.0", "_x", "A-b.c_d", "a" * 128))
    assert not any(valid_tag(t) for t in ("", ".x", "-x", "a/b", "a:b", "a" * 129, "é"))
