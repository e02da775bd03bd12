"""``ApiClient``: one method per REST endpoint of the rampart server (``/api/v1``), synchronous, on httpx.

Every failure is a ClientError in one line: ``server said 403: <detail>`` for error statuses
(an ApiError carrying the status), a plain sentence for connection, timeout and TLS problems.
Responses are size-capped while they are read and their JSON is checked against the shapes
in ``rampart.client.models``. The bearer token never appears in a message or a repr.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from rampart import __version__
from rampart.audit.events import AuditEvent
from rampart.client.config import mask
from rampart.client.models import (
    CaInfo,
    FimChange,
    FimChangesPage,
    FimHost,
    Finding,
    FindingsPage,
    FleetSummary,
    HardenHost,
    HardenRuleCount,
    HardenRuleStatus,
    HardenRun,
    HardenRunsPage,
    Host,
    HostPackage,
    HostSummary,
    Image,
    ImageFinding,
    ImageFindingsPage,
    ImagePackage,
    JoinTokenInfo,
    LoginResult,
    NewJoinToken,
    NewToken,
    Registry,
    RegistryScan,
    RematchResult,
    Repository,
    TokenInfo,
    TotpEnrolment,
    UserInfo,
    WhoAmI,
    list_of,
)
from rampart.client.trust import check_pin, check_server_url, tls_context
from rampart.errors import ApiError, AuditError, ClientError
from rampart.report.escape import safe_text

MAX_RESPONSE_BYTES = 64 << 20
MAX_AUDIT_LINE = 1 << 20
PAGE_SIZE = 500
MAX_FINDINGS = 2_000_000
MAX_DETAIL = 300
SCAN_TIMEOUT = 30 * 60.0
API_PREFIX = "/api/v1"
_SPACE = re.compile(r"\s+")
T = TypeVar("T")


@dataclass(frozen=True)
class FindingQuery:
    """The filters of ``GET /findings``; empty fields are not sent."""

    severities: tuple[str, ...] = ()
    host: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    package: str | None = None
    advisory: str | None = None
    fixable: bool = False
    status: str = "open"

    def params(self) -> list[tuple[str, str]]:
        params = [("status", self.status)]
        if self.severities:
            params.append(("severity", ",".join(self.severities)))
        params += [(name, value) for name, value in (("host", self.host), ("package", self.package)) if value]
        if self.advisory:
            params.append(("advisory", self.advisory))
        params += [("tag", f"{k}={v}") for k, v in self.tags]
        if self.fixable:
            params.append(("fixable", "true"))
        return params


@dataclass(frozen=True)
class ImageFindingQuery:
    """The filters of ``GET /images/findings``; empty fields are not sent, ``fixable`` None means either."""

    severities: tuple[str, ...] = ()
    image: str | None = None
    registry: str | None = None
    package: str | None = None
    advisory: str | None = None
    fixable: bool | None = None
    status: str = "open"

    def params(self) -> list[tuple[str, str]]:
        params = [("status", self.status)]
        if self.severities:
            params.append(("severity", ",".join(self.severities)))
        fields = (
            ("image", self.image),
            ("registry", self.registry),
            ("package", self.package),
            ("advisory", self.advisory),
        )
        params += [(name, value) for name, value in fields if value]
        if self.fixable is not None:
            params.append(("fixable", "true" if self.fixable else "false"))
        return params


@dataclass(frozen=True)
class FimChangeQuery:
    """The filters of ``GET /fim/changes``; empty fields are not sent."""

    host: str | None = None
    status: str = "open"
    cause: str | None = None

    def params(self) -> list[tuple[str, str]]:
        params = [("status", self.status)]
        return params + [
            (name, value) for name, value in (("host", self.host), ("cause", self.cause)) if value
        ]


class ApiClient:
    """A session with one rampart server. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        server_url: str,
        token: str | None = None,
        ca_pem: str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.server = check_server_url(server_url)
        self._token = token
        self._ca_pem = ca_pem
        self._timeout = timeout
        self._transport = transport
        self._max_bytes = max_response_bytes
        self._http = self._client(verify=True)

    def __repr__(self) -> str:
        return f"ApiClient(server={self.server!r}, token={mask(self._token)})"

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _client(self, *, verify: bool) -> httpx.Client:
        headers = {"User-Agent": f"rampart/{__version__}", "Accept": "application/json"}
        return httpx.Client(
            base_url=self.server + API_PREFIX,
            # Unverified only for fetching the public CA certificate, which is then checked against a pin.
            verify=tls_context(self._ca_pem) if verify else False,
            timeout=self._timeout,
            headers=headers,
            follow_redirects=False,
            transport=self._transport,
        )

    # --- auth -------------------------------------------------------------------------------

    def fetch_pinned_ca(self, pin: str) -> str:
        """``GET /ca`` without trusting the connection, then trust the CA only if it matches ``pin``."""
        with self._client(verify=False) as http:
            info = CaInfo.from_json(self._call("GET", "/ca", auth=False, http=http))
        return check_pin(info.certificate_pem, pin)

    def ca(self) -> CaInfo:
        """``GET /ca`` over a verified connection."""
        return CaInfo.from_json(self._call("GET", "/ca", auth=False))

    def login(self, username: str, password: str, totp: str | None = None) -> LoginResult:
        """Log in; ``totp`` is the current code for a user with a second factor."""
        body = {"username": username, "password": password}
        if totp is not None:
            body["totp"] = totp
        return LoginResult.from_json(self._call("POST", "/auth/login", json=body, auth=False))

    def logout(self) -> None:
        self._call("POST", "/auth/logout", expect=(200, 204))

    def whoami(self) -> WhoAmI:
        return WhoAmI.from_json(self._call("GET", "/auth/whoami"))

    # --- users and tokens -------------------------------------------------------------------

    def users(self) -> list[UserInfo]:
        return list_of(self._call("GET", "/users"), "users", UserInfo.from_json)

    def create_user(
        self, name: str, password: str, roles: Sequence[str], tags: Mapping[str, str]
    ) -> UserInfo:
        body = {"name": name, "password": password, "roles": list(roles), "tags": dict(tags)}
        return UserInfo.from_json(self._call("POST", "/users", json=body, expect=(200, 201)))

    def update_user(
        self,
        name: str,
        *,
        password: str | None = None,
        roles: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        disabled: bool | None = None,
    ) -> UserInfo:
        body: dict[str, object] = {"password": password, "tags": tags, "disabled": disabled}
        body["roles"] = None if roles is None else list(roles)
        body = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in body.items() if v is not None}
        return UserInfo.from_json(self._call("PATCH", f"/users/{_segment(name)}", json=body))

    def delete_user(self, name: str) -> None:
        self._call("DELETE", f"/users/{_segment(name)}", expect=(200, 204))

    def enroll_totp(self, name: str) -> TotpEnrolment:
        """A new TOTP secret for ``name`` (off until confirmed with a code)."""
        answer = self._call("POST", f"/users/{_segment(name)}/totp", expect=(200, 201))
        return TotpEnrolment.from_json(answer)

    def confirm_totp(self, name: str, code: str) -> None:
        """Turn on the enrolled TOTP secret by showing one current code."""
        self._call("POST", f"/users/{_segment(name)}/totp/confirm", json={"code": code}, expect=(200, 204))

    def reset_totp(self, name: str) -> None:
        """Remove a user's TOTP second factor (admin)."""
        self._call("DELETE", f"/users/{_segment(name)}/totp", expect=(200, 204))

    def tokens(self) -> list[TokenInfo]:
        return list_of(self._call("GET", "/tokens"), "tokens", TokenInfo.from_json)

    def create_token(self, name: str, scopes: Sequence[str], expires_in: int) -> NewToken:
        body = {"name": name, "scopes": list(scopes), "expires_in": expires_in}
        return NewToken.from_json(self._call("POST", "/tokens", json=body, expect=(200, 201)))

    def revoke_token(self, token_id: str) -> None:
        self._call("DELETE", f"/tokens/{_segment(token_id)}", expect=(200, 204))

    def join_tokens(self) -> list[JoinTokenInfo]:
        return list_of(self._call("GET", "/join-tokens"), "join tokens", JoinTokenInfo.from_json)

    def create_join_token(self, tags: Mapping[str, str], expires_in: int) -> NewJoinToken:
        body = {"tags": dict(tags), "expires_in": expires_in}
        return NewJoinToken.from_json(self._call("POST", "/join-tokens", json=body, expect=(200, 201)))

    def revoke_join_token(self, token_id: str) -> None:
        self._call("DELETE", f"/join-tokens/{_segment(token_id)}", expect=(200, 204))

    # --- hosts ------------------------------------------------------------------------------

    def hosts(
        self, *, tags: Sequence[tuple[str, str]] = (), stale: bool | None = None, status: str | None = None
    ) -> list[Host]:
        """Hosts matching every filter; the server takes one tag, any further ones are applied here."""
        params = [("tag", f"{k}={v}") for k, v in tags[:1]]
        if stale is not None:
            params.append(("stale", "true" if stale else "false"))
        if status:
            params.append(("status", status))
        hosts = list_of(self._call("GET", "/hosts", params=params), "hosts", Host.from_json)
        return [h for h in hosts if all(h.tags.get(k) == v for k, v in tags)]

    def host(self, host_id: str) -> Host:
        return Host.from_json(self._call("GET", f"/hosts/{_segment(host_id)}"))

    def revoke_host(self, host_id: str) -> Host:
        return Host.from_json(self._call("POST", f"/hosts/{_segment(host_id)}/revoke"))

    def scan_host(self, host_id: str) -> str:
        """Ask the host's agent to scan now; returns the job id."""
        answer = self._call("POST", f"/hosts/{_segment(host_id)}/scan", expect=(200, 202))
        from rampart.client.shape import as_object

        return as_object(answer, "scan").text("job_id")

    def host_packages(self, host_id: str) -> list[HostPackage]:
        answer = self._call("GET", f"/hosts/{_segment(host_id)}/packages")
        return list_of(answer, "packages", HostPackage.from_json)

    # --- findings ---------------------------------------------------------------------------

    def findings_page(self, query: FindingQuery, *, limit: int = PAGE_SIZE, offset: int = 0) -> FindingsPage:
        params = [*query.params(), ("limit", str(limit)), ("offset", str(offset))]
        return FindingsPage.from_json(self._call("GET", "/findings", params=params))

    def iter_findings(self, query: FindingQuery, *, page_size: int = PAGE_SIZE) -> Iterator[Finding]:
        """Every finding matching ``query``, fetching page after page until the total is reached."""

        def fetch(offset: int) -> tuple[int, Sequence[Finding]]:
            page = self.findings_page(query, limit=page_size, offset=offset)
            return page.total, page.items

        return _every_page(fetch)

    def findings(self, query: FindingQuery, *, page_size: int = PAGE_SIZE) -> list[Finding]:
        return list(self.iter_findings(query, page_size=page_size))

    def fleet_summary(self) -> FleetSummary:
        return FleetSummary.from_json(self._call("GET", "/findings/summary", params=[("by", "fleet")]))

    def host_summaries(self) -> list[HostSummary]:
        answer = self._call("GET", "/findings/summary", params=[("by", "host")])
        return list_of(answer, "summary", HostSummary.from_json)

    def rematch(self) -> RematchResult:
        return RematchResult.from_json(self._call("POST", "/advisories/rematch"))

    # --- file integrity ---------------------------------------------------------------------

    def fim_hosts(self) -> list[FimHost]:
        """Each visible host's latest file integrity check and its changes by cause."""
        return list_of(self._call("GET", "/fim/hosts"), "fim hosts", FimHost.from_json)

    def fim_changes_page(
        self, query: FimChangeQuery, *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> FimChangesPage:
        params = [*query.params(), ("limit", str(limit)), ("offset", str(offset))]
        return FimChangesPage.from_json(self._call("GET", "/fim/changes", params=params))

    def fim_changes(self, query: FimChangeQuery, *, page_size: int = PAGE_SIZE) -> list[FimChange]:
        """Every changed path matching ``query``, page after page (the ones needing review first)."""

        def fetch(offset: int) -> tuple[int, Sequence[FimChange]]:
            page = self.fim_changes_page(query, limit=page_size, offset=offset)
            return page.total, page.items

        return list(_every_page(fetch))

    def accept_fim_changes(
        self, host: str, reason: str, *, paths_b64: Sequence[str] = (), all_open: bool = False
    ) -> list[FimChange]:
        """Accept a host's changes (named by base64 of their paths, or every open one) in their state now."""
        body: dict[str, object] = {"host": host, "reason": reason}
        if all_open:
            body["all_open"] = True
        else:
            body["paths_b64"] = list(paths_b64)
        answer = self._call("POST", "/fim/changes/accept", json=body)
        return list_of(answer, "accepted changes", FimChange.from_json)

    def request_fim_check(self, host: str) -> str:
        """Ask the host's agent to check its files now; returns the job id."""
        answer = self._call("POST", f"/hosts/{_segment(host)}/fim/check", expect=(200, 202))
        from rampart.client.shape import as_object

        return as_object(answer, "fim check").text("job_id")

    # --- hardening ---------------------------------------------------------------------------

    def harden_hosts(self, profile: str | None = None) -> list[HardenHost]:
        """Each visible host's newest hardening score per profile (hosts without a run listed empty)."""
        params = [("profile", profile)] if profile else []
        answer = self._call("GET", "/harden/hosts", params=params)
        return list_of(answer, "harden hosts", HardenHost.from_json)

    def harden_rules(self, status: str = "fail", profile: str | None = None) -> list[HardenRuleCount]:
        """Rules in ``status`` across the visible fleet, with how many hosts, worst first."""
        params = [("status", status), *([("profile", profile)] if profile else [])]
        answer = self._call("GET", "/harden/rules", params=params)
        return list_of(answer, "harden rules", HardenRuleCount.from_json)

    def harden_runs_page(
        self, host: str, profile: str | None = None, *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> HardenRunsPage:
        params = [
            *([("profile", profile)] if profile else []),
            ("limit", str(limit)),
            ("offset", str(offset)),
        ]
        answer = self._call("GET", f"/harden/hosts/{_segment(host)}/runs", params=params)
        return HardenRunsPage.from_json(answer)

    def harden_runs(
        self, host: str, profile: str | None = None, *, limit: int | None = None, page_size: int = PAGE_SIZE
    ) -> list[HardenRun]:
        """The host's runs, newest first (at most ``limit``; None: every one), page after page."""
        runs: list[HardenRun] = []
        while limit is None or len(runs) < limit:
            size = page_size if limit is None else min(page_size, limit - len(runs))
            page = self.harden_runs_page(host, profile, limit=size, offset=len(runs))
            runs.extend(page.items)
            if not page.items or len(runs) >= page.total:
                break
        return runs if limit is None else runs[:limit]

    def harden_results(
        self, host: str, profile: str | None = None, status: str | None = None, *, changed: bool = False
    ) -> list[HardenRuleStatus]:
        """The host's latest rule statuses; ``changed``: only rules whose status changed (transitions)."""
        fields = (("profile", profile), ("status", status))
        params = [(name, value) for name, value in fields if value]
        if changed:
            params.append(("changed", "true"))
        answer = self._call("GET", f"/harden/hosts/{_segment(host)}/results", params=params)
        return list_of(answer, "harden results", HardenRuleStatus.from_json)

    def request_harden_run(self, host: str, profile: str | None = None) -> str:
        """Ask the host's agent to run a hardening profile now (None: its own); returns the job id."""
        body = {"profile": profile} if profile else {}
        path = f"/harden/hosts/{_segment(host)}/request"
        answer = self._call("POST", path, json=body, expect=(200, 202))
        from rampart.client.shape import as_object

        return as_object(answer, "harden request").text("job_id")

    # --- registries and images --------------------------------------------------------------

    def registries(self) -> list[Registry]:
        return list_of(self._call("GET", "/registries"), "registries", Registry.from_json)

    def add_registry(self, name: str, host: str, insecure: bool = False, platform: str = "") -> Registry:
        """Register a registry (``host[:port]``; ``platform`` like ``linux/amd64`` picks from indexes)."""
        body = {"name": name, "host": host, "insecure": insecure, "platform": platform}
        return Registry.from_json(self._call("POST", "/registries", json=body, expect=(200, 201)))

    def remove_registry(self, name: str) -> None:
        self._call("DELETE", f"/registries/{_segment(name)}", expect=(200, 204))

    def add_repository(self, registry: str, name: str, tags: Sequence[str] = ("*",)) -> Repository:
        """Follow a repository of ``registry``: the tags matching any of the glob patterns ``tags``."""
        body = {"name": name, "tags": list(tags)}
        path = f"/registries/{_segment(registry)}/repositories"
        return Repository.from_json(self._call("POST", path, json=body, expect=(200, 201)))

    def remove_repository(self, registry: str, name: str) -> None:
        path = f"/registries/{_segment(registry)}/repositories/{_segments(name)}"
        self._call("DELETE", path, expect=(200, 204))

    def scan_registry(self, name: str, repository: str | None = None) -> RegistryScan:
        """Poll a registry (or one of its repositories) now; the server answers when it is done."""
        params = [("repository", repository)] if repository else []
        path = f"/registries/{_segment(name)}/scan"
        return RegistryScan.from_json(self._call("POST", path, params=params, read_timeout=SCAN_TIMEOUT))

    def images(self, *, registry: str | None = None, reference: str | None = None) -> list[Image]:
        """Scanned images, of one registry or with one exact reference (``host/repo:tag``)."""
        params = [(k, v) for k, v in (("registry", registry), ("reference", reference)) if v]
        return list_of(self._call("GET", "/images", params=params), "images", Image.from_json)

    def image(self, image_id: str) -> Image:
        return Image.from_json(self._call("GET", f"/images/{_segment(image_id)}"))

    def image_packages(self, image_id: str) -> list[ImagePackage]:
        answer = self._call("GET", f"/images/{_segment(image_id)}/packages")
        return list_of(answer, "packages", ImagePackage.from_json)

    def image_findings_page(
        self, query: ImageFindingQuery, *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> ImageFindingsPage:
        params = [*query.params(), ("limit", str(limit)), ("offset", str(offset))]
        return ImageFindingsPage.from_json(self._call("GET", "/images/findings", params=params))

    def iter_image_findings(
        self, query: ImageFindingQuery, *, page_size: int = PAGE_SIZE
    ) -> Iterator[ImageFinding]:
        """Every image finding matching ``query``, page after page until the total is reached."""

        def fetch(offset: int) -> tuple[int, Sequence[ImageFinding]]:
            page = self.image_findings_page(query, limit=page_size, offset=offset)
            return page.total, page.items

        return _every_page(fetch)

    def image_findings(self, query: ImageFindingQuery, *, page_size: int = PAGE_SIZE) -> list[ImageFinding]:
        return list(self.iter_image_findings(query, page_size=page_size))

    def audit_events(self, *, after: int | None = None, limit: int | None = None) -> Iterator[AuditEvent]:
        """``GET /audit`` as a stream of checked events (JSON lines, each at most 1 MiB)."""
        params = [(k, str(v)) for k, v in (("after", after), ("limit", limit)) if v is not None]
        request = self._request("GET", "/audit", params=params, json=None, auth=True, http=self._http)
        response = self._send(self._http, request)
        try:
            self._check_status(response, (200,))
            for number, line in enumerate(_lines(response, MAX_AUDIT_LINE), start=1):
                yield _audit_event(line, number)
        except httpx.HTTPError as error:
            raise self._transport_error(error, request) from None
        finally:
            response.close()

    # --- plumbing ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json: object = None,
        auth: bool = True,
        expect: tuple[int, ...] = (200,),
        http: httpx.Client | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        client = http or self._http
        # One slow call (a synchronous registry scan) waits longer for its answer; connecting does not.
        timeout = None if read_timeout is None else httpx.Timeout(self._timeout, read=read_timeout)
        request = self._request(
            method, path, params=params, json=json, auth=auth, http=client, timeout=timeout
        )
        response = self._send(client, request)
        try:
            self._check_status(response, expect)
            body = self._read(response)
        except httpx.HTTPError as error:
            raise self._transport_error(error, request) from None
        finally:
            response.close()
        return None if response.status_code == 204 or not body else _decode(body, response.status_code)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None,
        json: object,
        auth: bool,
        http: httpx.Client,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request:
        headers = {}
        if auth:
            if not self._token:
                raise ClientError("not logged in: run `rampart login` or set RAMPART_TOKEN")
            headers["Authorization"] = f"Bearer {self._token}"
        query = httpx.QueryParams(tuple(params or ()))
        return http.build_request(
            method,
            path,
            params=query,
            json=json,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    def _send(self, http: httpx.Client, request: httpx.Request) -> httpx.Response:
        try:
            return http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise self._transport_error(error, request) from None

    def _transport_error(self, error: httpx.HTTPError, request: httpx.Request) -> ClientError:
        reason = self._scrub(_one_line(str(error)) or type(error).__name__)
        if isinstance(error, httpx.TimeoutException):
            return ClientError(f"{self.server} did not answer within {self._waited(error, request):g} s")
        if _is_tls(error):
            return ClientError(
                f"TLS verification of {self.server} failed ({reason}); trust its CA with "
                "`rampart login --ca FILE` or `--ca-sha256 HEX`"
            )
        if isinstance(error, httpx.ConnectError):
            return ClientError(f"cannot connect to {self.server}: {reason}")
        return ClientError(f"request to {self.server} failed: {reason}")

    def _waited(self, error: httpx.TimeoutException, request: httpx.Request) -> float:
        """The timeout that ran out: the request's own one for its phase, else the client's."""
        phase = {httpx.ConnectTimeout: "connect", httpx.WriteTimeout: "write", httpx.PoolTimeout: "pool"}
        limits = request.extensions.get("timeout") or {}
        waited = limits.get(phase.get(type(error), "read"))
        return float(waited) if isinstance(waited, int | float) else self._timeout

    def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> ApiError:
        return ApiError(0, f"the server's response is larger than {self._max_bytes:,} bytes; refused")

    def _check_status(self, response: httpx.Response, expect: tuple[int, ...]) -> None:
        if response.status_code in expect:
            return
        status = response.status_code
        body = self._read_error_body(response)
        detail = self._scrub(_detail(body) or f"{response.reason_phrase or 'error'} (no JSON detail)")
        raise ApiError(status, f"server said {status}: {detail}{_hint(status, response)}")

    def _read_error_body(self, response: httpx.Response) -> bytes:
        try:
            return self._read(response)
        except ApiError:
            return b""

    def _scrub(self, text: str) -> str:
        """One safe line, shortened, with the bearer token (should a server echo it) removed."""
        text = safe_text(_one_line(text))
        if self._token:
            text = text.replace(self._token, mask(self._token))
        return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _segment(value: str) -> str:
    """One URL path segment; an empty or dot segment could address another resource."""
    if value in ("", ".", ".."):
        raise ClientError(f"not a valid name or id: {value!r}")
    return quote(value, safe="")


def _segments(path: str) -> str:
    """A name with slashes (a repository: ``team/app``) as path segments, each one quoted."""
    return "/".join(_segment(part) for part in path.split("/"))


def _every_page(fetch: Callable[[int], tuple[int, Sequence[T]]]) -> Iterator[T]:
    """The items of page after page (``fetch(offset)`` gives the total and one page) up to the total."""
    offset = 0
    while offset < MAX_FINDINGS:
        total, items = fetch(offset)
        yield from items
        offset += len(items)
        if not items or offset >= total:
            return
    raise ClientError(f"the server reports more than {MAX_FINDINGS:,} findings; narrow the filters")


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _is_tls(error: BaseException) -> bool:
    import ssl

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _decode(body: bytes, status: int) -> Any:
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(status, f"server sent a {status} response that is not JSON") from None


def _detail(body: bytes) -> str | None:
    """The one-line ``detail`` of an error body: a string, or FastAPI's list of validation errors."""
    import orjson

    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    detail = document.get("detail") if isinstance(document, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_validation_item(item) for item in detail[:3]) or None
    return None


def _validation_item(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)
    location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    message = str(item.get("msg", "invalid"))
    return f"{location}: {message}" if location else message


def _hint(status: int, response: httpx.Response) -> str:
    if status == 401:
        return " (log in again with `rampart login`)"
    retry = response.headers.get("retry-after", "")
    if status == 429 and retry.isdigit():
        return f" (retry after {int(retry)} s)"
    return ""


def _lines(response: httpx.Response, limit: int) -> Iterator[bytes]:
    """Non-empty lines of a streamed body; a line longer than ``limit`` is an error."""
    pending = b""
    for chunk in response.iter_bytes():
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
        if len(pending) > limit:
            raise ApiError(0, f"the server sent an audit line longer than {limit:,} bytes; refused")
    if pending.strip():
        yield pending


def _audit_event(line: bytes, number: int) -> AuditEvent:
    import orjson

    from rampart.audit.codec import from_record

    try:
        return from_record(orjson.loads(line))
    except orjson.JSONDecodeError:
        raise ApiError(0, f"audit line {number} from the server is not JSON") from None
    except AuditError as error:
        raise ApiError(0, f"audit line {number} from the server is malformed: {error.message}") from None
