"""A registry that says "too many requests" or "unavailable" is asked again after Retry-After, a few times."""

from __future__ import annotations

import httpx
import pytest

from rampart.image import registry
from rampart.image.registry import RegistryClient, RegistryError, retry_delay


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(registry.time, "sleep", slept.append)
    return slept


def client(answers: list[httpx.Response], seen: list[str]) -> RegistryClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answers.pop(0)

    return RegistryClient("reg.test", insecure=True, transport=httpx.MockTransport(handle))


def test_429_and_503_are_retried_after_the_delay_they_ask(waits: list[float]) -> None:
    seen: list[str] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(503),
        httpx.Response(200, content=b'{"tags": []}'),
    ]
    response = client(answers, seen).get(
        "/v2/team/app/tags/list", "application/json", "repository:team/app:pull"
    )
    assert response.status_code == 200 and len(seen) == 3
    assert waits == [2.0, 2.0]  # asked 2 s; then no header: 1, 2, 4... by attempt


def test_a_registry_that_keeps_refusing_is_an_error_after_the_retries(waits: list[float]) -> None:
    seen: list[str] = []
    answers = [httpx.Response(429, headers={"Retry-After": "1"}) for _ in range(registry.RETRIES + 1)]
    with pytest.raises(RegistryError, match="HTTP 429"):
        client(answers, seen).get("/v2/team/app/tags/list", "application/json", "repository:team/app:pull")
    assert len(seen) == registry.RETRIES + 1 and waits == [1.0] * registry.RETRIES


@pytest.mark.parametrize(
    ("header", "attempt", "delay"),
    [
        ("5", 0, 5.0),
        ("0", 2, 0.0),
        ("99999", 0, registry.MAX_RETRY_DELAY),
        ("-3", 1, 2.0),
        ("nan", 0, 1.0),
        ("inf", 0, 1.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 2, 4.0),
        (None, 10, registry.MAX_RETRY_DELAY),
    ],
)
def test_retry_delays_are_bounded(header: str | None, attempt: int, delay: float) -> None:
    assert retry_delay(header, attempt) == delay
