"""A test double for ApiClient: canned answers, recorded calls, no network.

CLI tests inject it through the one seam, ``rampart.cli.remote.use_client_factory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rampart.cli.remote import use_client_factory
from rampart.client.config import Connection
from rampart.client.models import (
    Finding,
    Host,
    HostPackage,
    Image,
    ImageFinding,
    ImagePackage,
    JoinTokenInfo,
    LoginResult,
    NewJoinToken,
    NewToken,
    Registry,
    RegistryScan,
    Repository,
    RepositoryScan,
    TokenInfo,
    TokenRef,
    TotpEnrolment,
    UserInfo,
    WhoAmI,
)
from rampart.errors import ApiError, RampartError
from unit.client.samples import (
    NOW,
    repository_json,
    sample_findings,
    sample_fleet_summary,
    sample_host_summaries,
    sample_hosts,
    sample_image_findings,
    sample_image_packages,
    sample_images,
    sample_registries,
    scan_json,
)

SECRET = "rpt_0123456789abcdef_" + "s" * 43
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class FakeApi:
    """Answers every ApiClient method from canned data; ``fail`` makes the named method raise."""

    hosts_list: list[Host] = field(default_factory=sample_hosts)
    findings_list: list[Finding] = field(default_factory=sample_findings)
    registries_list: list[Registry] = field(default_factory=sample_registries)
    images_list: list[Image] = field(default_factory=sample_images)
    image_findings_list: list[ImageFinding] = field(default_factory=sample_image_findings)
    scan_result: RegistryScan = field(
        default_factory=lambda: RegistryScan((RepositoryScan.from_json(scan_json()),))
    )
    fail: dict[str, RampartError] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    closed: int = 0
    server: str = "https://rampart.example:8443"
    totp_code: str | None = None  # when set, login wants exactly this code

    def __enter__(self) -> FakeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed += 1

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if name in self.fail:
            raise self.fail[name]

    def called(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for n, a, k in self.calls if n == name]

    def fetch_pinned_ca(self, pin: str) -> str:
        self._record("fetch_pinned_ca", pin)
        return "-----BEGIN CERTIFICATE-----\npinned\n-----END CERTIFICATE-----\n"

    def login(self, username: str, password: str, totp: str | None = None) -> LoginResult:
        self._record("login", username, password, **({} if totp is None else {"totp": totp}))
        if self.totp_code is not None and totp != self.totp_code:
            detail = "a TOTP code is required" if totp is None else "invalid TOTP code"
            raise ApiError(401, f"server said 401: {detail} (log in again with `rampart login`)")
        return LoginResult(
            SECRET,
            NOW + timedelta(hours=12),
            UserInfo(username, ("viewer",), {"team": "payments"}),
            self.totp_code is not None,
        )

    def enroll_totp(self, name: str) -> TotpEnrolment:
        self._record("enroll_totp", name)
        return TotpEnrolment(
            TOTP_SECRET, f"otpauth://totp/rampart:{name}?secret={TOTP_SECRET}&issuer=rampart"
        )

    def confirm_totp(self, name: str, code: str) -> None:
        self._record("confirm_totp", name, code)

    def reset_totp(self, name: str) -> None:
        self._record("reset_totp", name)

    def logout(self) -> None:
        self._record("logout")

    def whoami(self) -> WhoAmI:
        self._record("whoami")
        return WhoAmI(
            "alice", ("admin",), {"team": "payments"}, TokenRef("0123456789abcdef", "login", ("read",), NOW)
        )

    def users(self) -> list[UserInfo]:
        self._record("users")
        return [
            UserInfo("alice", ("admin",), {}, False, NOW),
            UserInfo("bob\x1b[31m", ("viewer",), {"team": "x"}, True, NOW),
        ]

    def create_user(self, name: str, password: str, roles: Sequence[str], tags: dict[str, str]) -> UserInfo:
        self._record("create_user", name, password, list(roles), dict(tags))
        return UserInfo(name, tuple(roles), dict(tags), False, NOW)

    def update_user(self, name: str, **changes: Any) -> UserInfo:
        self._record("update_user", name, **changes)
        return UserInfo(
            name, tuple(changes.get("roles") or ("viewer",)), changes.get("tags") or {}, False, NOW
        )

    def delete_user(self, name: str) -> None:
        self._record("delete_user", name)

    def tokens(self) -> list[TokenInfo]:
        self._record("tokens")
        return [TokenInfo("0123456789abcdef", "ci", ("read",), NOW, NOW + timedelta(days=1), None, None)]

    def create_token(self, name: str, scopes: Sequence[str], expires_in: int) -> NewToken:
        self._record("create_token", name, list(scopes), expires_in)
        return NewToken("0123456789abcdef", name, tuple(scopes), NOW, SECRET)

    def revoke_token(self, token_id: str) -> None:
        self._record("revoke_token", token_id)

    def join_tokens(self) -> list[JoinTokenInfo]:
        self._record("join_tokens")
        return [JoinTokenInfo("j1", {"env": "prod"}, NOW, "alice", NOW, None, None)]

    def create_join_token(self, tags: dict[str, str], expires_in: int) -> NewJoinToken:
        self._record("create_join_token", dict(tags), expires_in)
        return NewJoinToken("j1", NOW, dict(tags), "rpj_eyJ2IjoxfQ")

    def revoke_join_token(self, token_id: str) -> None:
        self._record("revoke_join_token", token_id)

    def hosts(self, **filters: Any) -> list[Host]:
        self._record("hosts", **filters)
        return self.hosts_list

    def host(self, host_id: str) -> Host:
        self._record("host", host_id)
        return next(h for h in self.hosts_list if h.id == host_id)

    def revoke_host(self, host_id: str) -> Host:
        self._record("revoke_host", host_id)
        return self.host(host_id)

    def scan_host(self, host_id: str) -> str:
        self._record("scan_host", host_id)
        return "job-1"

    def host_packages(self, host_id: str) -> list[HostPackage]:
        self._record("host_packages", host_id)
        return [HostPackage("Debian:12", "openssl", "3.0.11-1~deb12u1", "openssl")]

    def findings(self, query: Any) -> list[Finding]:
        self._record("findings", query)
        return self.findings_list

    def fleet_summary(self) -> Any:
        self._record("fleet_summary")
        return sample_fleet_summary()

    def host_summaries(self) -> Any:
        self._record("host_summaries")
        return sample_host_summaries()

    def registries(self) -> list[Registry]:
        self._record("registries")
        return self.registries_list

    def add_registry(self, name: str, host: str, insecure: bool = False, platform: str = "") -> Registry:
        self._record("add_registry", name, host, insecure=insecure, platform=platform)
        return Registry(name, host, insecure, platform, "alice", NOW, ())

    def remove_registry(self, name: str) -> None:
        self._record("remove_registry", name)

    def add_repository(self, registry: str, name: str, tags: Sequence[str]) -> Repository:
        self._record("add_repository", registry, name, list(tags))
        return Repository.from_json(
            repository_json(registry=registry, name=name, tags=list(tags), polled_at=None, images=0)
        )

    def remove_repository(self, registry: str, name: str) -> None:
        self._record("remove_repository", registry, name)

    def scan_registry(self, name: str, repository: str | None = None) -> RegistryScan:
        self._record("scan_registry", name, repository)
        return self.scan_result

    def images(self, **filters: Any) -> list[Image]:
        self._record("images", **filters)
        reference = filters.get("reference")
        return [i for i in self.images_list if reference is None or i.reference == reference]

    def image(self, image_id: str) -> Image:
        self._record("image", image_id)
        return next(i for i in self.images_list if i.id == image_id)

    def image_packages(self, image_id: str) -> list[ImagePackage]:
        self._record("image_packages", image_id)
        return sample_image_packages()

    def image_findings(self, query: Any) -> list[ImageFinding]:
        self._record("image_findings", query)
        return self.image_findings_list


@contextmanager
def injected(fake: FakeApi) -> Iterator[FakeApi]:
    """Run CLI commands against ``fake``; each connection the CLI resolved is recorded."""

    def factory(connection: Connection) -> Any:
        fake.connections.append(connection)
        return fake

    with use_client_factory(factory):
        yield fake


Factory = Callable[[Connection], Any]
