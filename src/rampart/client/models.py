"""The API's wire types as frozen dataclasses, each read strictly from JSON by ``from_json``.

``to_json`` turns any of them (or lists of them) back into plain JSON values for ``--format json``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from rampart.client.shape import Reader, as_list, as_object
from rampart.model import Severity

T = TypeVar("T")


def to_json(value: object) -> Any:
    """Plain JSON values for a model, a list of models, or anything already plain."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class UserInfo:
    """A user as ``/auth/login`` and ``/users`` describe it."""

    name: str
    roles: tuple[str, ...]
    tags: dict[str, str]
    disabled: bool = False
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, value: object, what: str = "user") -> UserInfo:
        r = as_object(value, what)
        return cls(
            r.text("name"),
            r.texts("roles"),
            r.tags("tags"),
            r.flag("disabled", False),
            r.opt_time("created_at"),
        )


@dataclass(frozen=True)
class LoginResult:
    """``POST /auth/login``: a new token (never shown in a repr) and who it belongs to."""

    token: str = field(repr=False)
    expires_at: datetime
    user: UserInfo
    mfa: bool = False

    @classmethod
    def from_json(cls, value: object) -> LoginResult:
        r = as_object(value, "login")
        user = UserInfo.from_json(r.obj("user").data, "login.user")
        return cls(r.text("token"), r.time("expires_at"), user, r.flag("mfa", False))


@dataclass(frozen=True)
class TotpEnrolment:
    """``POST /users/{name}/totp``: a new TOTP secret and its otpauth URI, seen this once (never in a repr)."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)

    @classmethod
    def from_json(cls, value: object) -> TotpEnrolment:
        r = as_object(value, "totp enrolment")
        return cls(r.text("secret"), r.text("uri"))


@dataclass(frozen=True)
class TokenRef:
    """The token a request was made with, as ``/auth/whoami`` reports it."""

    id: str
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True)
class WhoAmI:
    """``GET /auth/whoami``."""

    name: str
    roles: tuple[str, ...]
    tags: dict[str, str]
    token: TokenRef
    mfa: bool = False

    @classmethod
    def from_json(cls, value: object) -> WhoAmI:
        r = as_object(value, "whoami")
        t = r.obj("token")
        token = TokenRef(t.text("id"), t.text("name"), t.texts("scopes"), t.time("expires_at"))
        return cls(r.text("name"), r.texts("roles"), r.tags("tags"), token, r.flag("mfa", False))


@dataclass(frozen=True)
class TokenInfo:
    """One of the caller's API tokens (no secret)."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_json(cls, value: object, what: str = "token") -> TokenInfo:
        r = as_object(value, what)
        return cls(
            r.text("id"),
            r.text("name"),
            r.texts("scopes"),
            r.opt_time("created_at"),
            r.time("expires_at"),
            r.opt_time("revoked_at"),
            r.opt_time("last_used_at"),
        )


@dataclass(frozen=True)
class NewToken:
    """``POST /tokens``: the only time the secret is seen."""

    id: str
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime
    token: str = field(repr=False)

    @classmethod
    def from_json(cls, value: object) -> NewToken:
        r = as_object(value, "token")
        return cls(r.text("id"), r.text("name"), r.texts("scopes"), r.time("expires_at"), r.text("token"))


@dataclass(frozen=True)
class JoinTokenInfo:
    """A join token as listed (no secret)."""

    id: str
    tags: dict[str, str]
    expires_at: datetime
    created_by: str | None = None
    created_at: datetime | None = None
    used_at: datetime | None = None
    host_id: str | None = None

    @classmethod
    def from_json(cls, value: object, what: str = "join token") -> JoinTokenInfo:
        r = as_object(value, what)
        return cls(
            r.text("id"),
            r.tags("tags"),
            r.time("expires_at"),
            r.opt_text("created_by"),
            r.opt_time("created_at"),
            r.opt_time("used_at"),
            r.opt_text("host_id"),
        )


@dataclass(frozen=True)
class NewJoinToken:
    """``POST /join-tokens``: the one-time enrolment secret, shown once."""

    id: str
    expires_at: datetime
    tags: dict[str, str]
    token: str = field(repr=False)

    @classmethod
    def from_json(cls, value: object) -> NewJoinToken:
        r = as_object(value, "join token")
        return cls(r.text("id"), r.time("expires_at"), r.tags("tags"), r.text("token"))


@dataclass(frozen=True)
class HostOs:
    """The operating system a host reported."""

    id: str | None
    version: str | None
    pretty: str | None


@dataclass(frozen=True)
class Host:
    """An enrolled host as ``/hosts`` lists it."""

    id: str
    hostname: str
    os: HostOs
    agent_version: str | None
    tags: dict[str, str]
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    revoked_at: datetime | None
    connected: bool
    status: str
    packages: int | None = None
    open_findings: int | None = None

    @classmethod
    def from_json(cls, value: object, what: str = "host") -> Host:
        r = as_object(value, what)
        return cls(
            r.text("id"),
            r.text("hostname"),
            _host_os(r.opt_obj("os")),
            r.opt_text("agent_version"),
            r.tags("tags"),
            r.opt_time("enrolled_at"),
            r.opt_time("last_seen_at"),
            r.opt_time("revoked_at"),
            r.flag("connected", False),
            r.text("status"),
            _opt_int(r, "packages"),
            _opt_int(r, "open_findings"),
        )


def _host_os(r: Reader | None) -> HostOs:
    if r is None:
        return HostOs(None, None, None)
    return HostOs(r.opt_text("id"), r.opt_text("version"), r.opt_text("pretty"))


def _opt_int(r: Reader, key: str) -> int | None:
    return None if r.data.get(key) is None else r.integer(key)


@dataclass(frozen=True)
class HostPackage:
    """One package in a host's latest inventory."""

    ecosystem: str
    name: str
    version: str
    source_name: str | None

    @classmethod
    def from_json(cls, value: object, what: str = "package") -> HostPackage:
        r = as_object(value, what)
        return cls(r.text("ecosystem"), r.text("name"), r.text("version"), r.opt_text("source_name"))


@dataclass(frozen=True)
class Finding:
    """One vulnerability on one package on one host."""

    host_id: str
    hostname: str
    ecosystem: str
    package: str
    version: str
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: Severity
    fixed_versions: tuple[str, ...]
    summary: str
    status: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    fixed_at: datetime | None

    @classmethod
    def from_json(cls, value: object, what: str = "finding") -> Finding:
        r = as_object(value, what)
        return cls(host_id=r.text("host_id"), hostname=r.text("hostname"), **_vulnerability_fields(r))


def _vulnerability_fields(r: Reader) -> dict[str, Any]:
    """What a host's and an image's findings share: the package, the advisory, when it was seen."""
    return {
        "ecosystem": r.text("ecosystem"),
        "package": r.text("package"),
        "version": r.text("version"),
        "vulnerability_id": r.text("vulnerability_id"),
        "aliases": r.texts("aliases", optional=True),
        "severity": _severity(r),
        "fixed_versions": r.texts("fixed_versions", optional=True),
        "summary": r.opt_text("summary") or "",
        "status": r.text("status"),
        "first_seen_at": r.opt_time("first_seen_at"),
        "last_seen_at": r.opt_time("last_seen_at"),
        "fixed_at": r.opt_time("fixed_at"),
    }


def _severity(r: Reader) -> Severity:
    name = r.text("severity").upper()
    return Severity.__members__.get(name, Severity.UNKNOWN)


def _page(value: object, what: str, item: str, read: Callable[[object, str], T]) -> tuple[int, tuple[T, ...]]:
    """A listing page's total and its items, each read by ``read`` (named ``item N`` in errors)."""
    r = as_object(value, what)
    items = as_list(r.data.get("items"), f"{what}.items")
    return r.integer("total"), tuple(read(v, f"{item} {i}") for i, v in enumerate(items))


@dataclass(frozen=True)
class FindingsPage:
    """One page of ``GET /findings``."""

    total: int
    items: tuple[Finding, ...]

    @classmethod
    def from_json(cls, value: object) -> FindingsPage:
        total, items = _page(value, "findings page", "finding", Finding.from_json)
        return cls(total, items)


@dataclass(frozen=True)
class FleetSummary:
    """``GET /findings/summary?by=fleet``: the hosts' totals and, beside them, the registry images' (which
    an older server does not send: they read as none)."""

    hosts: int
    open: dict[str, int]
    fixable: int
    images: int = 0
    images_open: dict[str, int] = field(default_factory=dict)
    images_fixable: int = 0

    @classmethod
    def from_json(cls, value: object) -> FleetSummary:
        r = as_object(value, "summary")
        return cls(
            r.integer("hosts"),
            r.counts("open"),
            r.integer("fixable"),
            _opt_int(r, "images") or 0,
            {} if r.data.get("images_open") is None else r.counts("images_open"),
            _opt_int(r, "images_fixable") or 0,
        )


@dataclass(frozen=True)
class HostSummary:
    """One row of ``GET /findings/summary?by=host``."""

    host_id: str
    hostname: str
    open: dict[str, int]
    fixable: int

    @classmethod
    def from_json(cls, value: object, what: str = "summary row") -> HostSummary:
        r = as_object(value, what)
        return cls(r.text("host_id"), r.text("hostname"), r.counts("open"), r.integer("fixable"))


@dataclass(frozen=True)
class RematchResult:
    """``POST /advisories/rematch``."""

    hosts: int
    packages: int
    opened: int
    closed: int
    seconds: float
    images: int = 0

    @classmethod
    def from_json(cls, value: object) -> RematchResult:
        r = as_object(value, "rematch")
        return cls(
            r.integer("hosts"),
            r.integer("packages"),
            r.integer("opened"),
            r.integer("closed"),
            r.number("seconds"),
            _opt_int(r, "images") or 0,
        )


# --- registries and their images ----------------------------------------------------------------


@dataclass(frozen=True)
class Repository:
    """A repository of a registry the server scans, with the tag patterns it follows."""

    registry: str
    name: str
    tags: tuple[str, ...]
    created_by: str
    created_at: datetime
    polled_at: datetime | None
    error: str
    images: int

    @classmethod
    def from_json(cls, value: object, what: str = "repository") -> Repository:
        r = as_object(value, what)
        return cls(
            r.text("registry"),
            r.text("name"),
            r.texts("tags"),
            r.text("created_by"),
            r.time("created_at"),
            r.opt_time("polled_at"),
            r.opt_text("error") or "",
            r.integer("images"),
        )


@dataclass(frozen=True)
class Registry:
    """A container registry registered on the server, with its repositories."""

    name: str
    host: str
    insecure: bool
    platform: str
    created_by: str
    created_at: datetime
    repositories: tuple[Repository, ...]

    @classmethod
    def from_json(cls, value: object, what: str = "registry") -> Registry:
        r = as_object(value, what)
        repositories = as_list(r.data.get("repositories"), f"{what}.repositories")
        return cls(
            r.text("name"),
            r.text("host"),
            r.flag("insecure", False),
            r.opt_text("platform") or "",
            r.text("created_by"),
            r.time("created_at"),
            tuple(Repository.from_json(v, f"{what}.repositories {i}") for i, v in enumerate(repositories)),
        )


@dataclass(frozen=True)
class RepositoryScan:
    """What one poll of a repository did."""

    registry: str
    repository: str
    tags: int
    scanned: int
    unchanged: int
    removed: int
    failed: int
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors

    @classmethod
    def from_json(cls, value: object, what: str = "repository scan") -> RepositoryScan:
        r = as_object(value, what)
        return cls(
            r.text("registry"),
            r.text("repository"),
            r.integer("tags"),
            r.integer("scanned"),
            r.integer("unchanged"),
            r.integer("removed"),
            r.integer("failed"),
            r.texts("errors", optional=True),
        )


@dataclass(frozen=True)
class RegistryScan:
    """``POST /registries/{name}/scan``: one result per repository polled."""

    repositories: tuple[RepositoryScan, ...]

    @classmethod
    def from_json(cls, value: object) -> RegistryScan:
        r = as_object(value, "registry scan")
        repositories = list_of(
            r.data.get("repositories"), "registry scan.repositories", RepositoryScan.from_json
        )
        return cls(tuple(repositories))


@dataclass(frozen=True)
class Image:
    """A scanned image of a registry: one tag of one repository, at one digest."""

    id: str
    reference: str
    registry: str
    repository: str
    tag: str
    digest: str
    os: HostOs
    layers: tuple[str, ...]
    notes: tuple[str, ...]
    first_seen_at: datetime | None
    scanned_at: datetime | None
    error: str
    packages: int
    open: dict[str, int]
    fixable: int

    @classmethod
    def from_json(cls, value: object, what: str = "image") -> Image:
        r = as_object(value, what)
        return cls(
            r.text("id"),
            r.text("reference"),
            r.text("registry"),
            r.text("repository"),
            r.text("tag"),
            r.text("digest"),
            _host_os(r.opt_obj("os")),
            r.texts("layers", optional=True),
            r.texts("notes", optional=True),
            r.opt_time("first_seen_at"),
            r.opt_time("scanned_at"),
            r.opt_text("error") or "",
            r.integer("packages"),
            r.counts("open"),
            r.integer("fixable"),
        )


@dataclass(frozen=True)
class ImagePackage:
    """One package of an image, with the layer that brought it and where it was found."""

    ecosystem: str
    name: str
    version: str
    source_name: str | None
    layer: str
    location: str

    @classmethod
    def from_json(cls, value: object, what: str = "package") -> ImagePackage:
        r = as_object(value, what)
        return cls(
            r.text("ecosystem"),
            r.text("name"),
            r.text("version"),
            r.opt_text("source_name"),
            r.opt_text("layer") or "",
            r.opt_text("location") or "",
        )


@dataclass(frozen=True)
class ImageFinding:
    """One vulnerability on one package of one registry image."""

    image_id: str
    reference: str
    ecosystem: str
    package: str
    version: str
    layer: str
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: Severity
    fixed_versions: tuple[str, ...]
    summary: str
    status: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    fixed_at: datetime | None

    @classmethod
    def from_json(cls, value: object, what: str = "image finding") -> ImageFinding:
        r = as_object(value, what)
        return cls(
            image_id=r.text("image_id"),
            reference=r.text("reference"),
            layer=r.opt_text("layer") or "",
            **_vulnerability_fields(r),
        )


@dataclass(frozen=True)
class ImageFindingsPage:
    """One page of ``GET /images/findings``."""

    total: int
    items: tuple[ImageFinding, ...]

    @classmethod
    def from_json(cls, value: object) -> ImageFindingsPage:
        total, items = _page(value, "image findings page", "image finding", ImageFinding.from_json)
        return cls(total, items)


@dataclass(frozen=True)
class FimHost:
    """A host's latest file integrity check (``checked_at`` None before the first) and its changes."""

    host_id: str
    hostname: str
    checked_at: datetime | None
    baseline_created: str
    baseline_digest: str
    key_id: str
    entries: int
    unreadable: int
    refused: str
    open: dict[str, int]
    accepted: int

    @classmethod
    def from_json(cls, value: object, what: str = "fim host") -> FimHost:
        r = as_object(value, what)
        return cls(
            r.text("host_id"),
            r.text("hostname"),
            r.opt_time("checked_at"),
            r.text("baseline_created"),
            r.text("baseline_digest"),
            r.text("key_id"),
            r.integer("entries"),
            r.integer("unreadable"),
            r.text("refused"),
            r.counts("open"),
            r.integer("accepted"),
        )


@dataclass(frozen=True)
class FimAttribute:
    """One attribute of a changed path, before and now, as display text."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class FimChange:
    """One changed path of a host: ``path`` is escaped display text, ``path_b64`` the exact bytes."""

    host_id: str
    hostname: str
    path: str
    path_b64: str
    change: str
    cause: str
    package: str | None
    note: str | None
    attributes: tuple[FimAttribute, ...]
    fingerprint: str
    status: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    resolved_at: datetime | None
    accepted_by: str | None
    accepted_at: datetime | None
    accepted_reason: str | None

    @classmethod
    def from_json(cls, value: object, what: str = "fim change") -> FimChange:
        r = as_object(value, what)
        attributes = as_list(r.data.get("attributes"), f"{what}.attributes")
        return cls(
            r.text("host_id"),
            r.text("hostname"),
            r.text("path"),
            r.text("path_b64"),
            r.text("change"),
            r.text("cause"),
            r.opt_text("package"),
            r.opt_text("note"),
            tuple(_fim_attribute(a, f"{what}.attributes {i}") for i, a in enumerate(attributes)),
            r.text("fingerprint"),
            r.text("status"),
            r.opt_time("first_seen_at"),
            r.opt_time("last_seen_at"),
            r.opt_time("resolved_at"),
            r.opt_text("accepted_by"),
            r.opt_time("accepted_at"),
            r.opt_text("accepted_reason"),
        )


def _fim_attribute(value: object, what: str) -> FimAttribute:
    r = as_object(value, what)
    return FimAttribute(r.text("name"), r.text("before"), r.text("after"))


@dataclass(frozen=True)
class FimChangesPage:
    """One page of ``GET /fim/changes``."""

    total: int
    items: tuple[FimChange, ...]

    @classmethod
    def from_json(cls, value: object) -> FimChangesPage:
        total, items = _page(value, "fim changes page", "fim change", FimChange.from_json)
        return cls(total, items)


@dataclass(frozen=True)
class HardenRun:
    """One hardening run of a host under a profile (``error``: the agent could not make it)."""

    id: str
    profile: str
    profile_title: str
    benchmark: str
    target_kind: str
    job_id: str | None
    started: datetime
    received_at: datetime
    duration_seconds: float
    score: float
    passed: int
    failed: int
    na: int
    errors: int
    manual: int
    error: str | None

    @classmethod
    def from_json(cls, value: object, what: str = "harden run") -> HardenRun:
        r = as_object(value, what)
        return cls(
            r.text("id"),
            r.text("profile"),
            r.text("profile_title"),
            r.text("benchmark"),
            r.text("target_kind"),
            r.opt_text("job_id"),
            r.time("started"),
            r.time("received_at"),
            r.number("duration_seconds"),
            r.number("score"),
            r.integer("passed"),
            r.integer("failed"),
            r.integer("na"),
            r.integer("errors"),
            r.integer("manual"),
            r.opt_text("error"),
        )


def _opt_run(r: Reader, key: str) -> HardenRun | None:
    value = r.data.get(key)
    return None if value is None else HardenRun.from_json(value, f"{r.what}.{key}")


@dataclass(frozen=True)
class HardenHost:
    """A host under one profile: its newest run (None: none yet) and a later attempt that failed."""

    host_id: str
    hostname: str
    profile: str | None
    run: HardenRun | None
    last_error: HardenRun | None

    @classmethod
    def from_json(cls, value: object, what: str = "harden host") -> HardenHost:
        r = as_object(value, what)
        return cls(
            r.text("host_id"),
            r.text("hostname"),
            r.opt_text("profile"),
            _opt_run(r, "run"),
            _opt_run(r, "last_error"),
        )


@dataclass(frozen=True)
class HardenRuleCount:
    """A rule across the fleet: how many hosts have it in the asked status, and the first of them."""

    rule: str
    title: str
    section: str
    severity: str
    cis: tuple[str, ...]
    hosts: int
    hostnames: tuple[str, ...]

    @classmethod
    def from_json(cls, value: object, what: str = "harden rule") -> HardenRuleCount:
        r = as_object(value, what)
        return cls(
            r.text("rule"),
            r.text("title"),
            r.text("section"),
            r.text("severity"),
            r.texts("cis"),
            r.integer("hosts"),
            r.texts("hostnames"),
        )


@dataclass(frozen=True)
class HardenRunsPage:
    """One page of ``GET /harden/hosts/{host}/runs``."""

    total: int
    items: tuple[HardenRun, ...]

    @classmethod
    def from_json(cls, value: object) -> HardenRunsPage:
        total, items = _page(value, "harden runs page", "harden run", HardenRun.from_json)
        return cls(total, items)


@dataclass(frozen=True)
class HardenRuleStatus:
    """A rule's latest status on a host under a profile, and when (from what) it last changed."""

    profile: str
    rule: str
    title: str
    section: str
    cis: tuple[str, ...]
    severity: str
    status: str
    evidence: tuple[str, ...]
    reason: str
    run_id: str
    checked_at: datetime
    previous_status: str | None
    changed_at: datetime

    @classmethod
    def from_json(cls, value: object, what: str = "harden result") -> HardenRuleStatus:
        r = as_object(value, what)
        return cls(
            r.text("profile"),
            r.text("rule"),
            r.text("title"),
            r.text("section"),
            r.texts("cis"),
            r.text("severity"),
            r.text("status"),
            r.texts("evidence"),
            r.text("reason"),
            r.text("run_id"),
            r.time("checked_at"),
            r.opt_text("previous_status"),
            r.time("changed_at"),
        )


@dataclass(frozen=True)
class CaInfo:
    """``GET /ca``: the server's CA certificate and the digest the server claims for it."""

    certificate_pem: str
    sha256: str

    @classmethod
    def from_json(cls, value: object) -> CaInfo:
        r = as_object(value, "ca")
        return cls(r.text("certificate_pem"), r.text("sha256"))


def list_of(value: object, what: str, build: Callable[[object, str], T]) -> list[T]:
    """Every element of a JSON array through ``build(element, name)``."""
    return [build(v, f"{what} {i}") for i, v in enumerate(as_list(value, what))]
