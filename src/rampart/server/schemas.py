"""Request and response bodies of the REST API: strict pydantic models with size limits.

Every request model forbids unknown fields and bounds every string, list and mapping, so a hostile
client gets a 422 naming the bad field, never a 5xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rampart.model import Severity

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
TagKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
TagValue = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=32)]
Role = Literal["admin", "operator", "auditor", "viewer"]
Scope = Literal["read", "write", "admin", "audit"]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Pem = Annotated[str, StringConstraints(min_length=1, max_length=16384)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
Lifetime = Annotated[int, Field(ge=60, le=31_536_000)]


class ErrorOut(BaseModel):
    """Every error answer: one line saying what was wrong."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "bad request"),
        (401, "authentication required or failed"),
        (403, "not allowed"),
        (404, "not found"),
        (409, "conflict"),
        (413, "request body too large"),
        (422, "invalid request"),
        (429, "rate limited"),
    )
}


class Strict(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


TotpCode = Annotated[str, StringConstraints(max_length=64)]


class LoginRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Password
    totp: TotpCode | None = None


class UserOut(BaseModel):
    name: str
    roles: list[str]
    tags: dict[str, str]
    disabled: bool = False
    created_at: datetime | None = None


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut
    mfa: bool = False


class TotpEnrolment(BaseModel):
    secret: str
    uri: str


class TotpConfirm(Strict):
    code: TotpCode


class TokenInfo(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime | None = None
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class WhoAmI(BaseModel):
    name: str
    roles: list[str]
    tags: dict[str, str]
    token: TokenInfo
    mfa: bool = False


class UserCreate(Strict):
    name: Name
    password: Password
    roles: Annotated[list[Role], Field(max_length=4)] = ["viewer"]
    tags: Tags = {}


class UserUpdate(Strict):
    password: Password | None = None
    roles: Annotated[list[Role], Field(max_length=4)] | None = None
    tags: Tags | None = None
    disabled: bool | None = None


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,64}$")]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=4)]
    expires_in: Lifetime = 30 * 86400


class TokenIssued(TokenInfo):
    token: str


class JoinTokenCreate(Strict):
    tags: Tags = {}
    expires_in: Annotated[int, Field(ge=60, le=30 * 86400)] = 3600


class JoinTokenInfo(BaseModel):
    id: str
    tags: dict[str, str]
    created_by: str
    created_at: datetime | None = None
    expires_at: datetime
    used_at: datetime | None = None
    host_id: str | None = None


class JoinTokenIssued(JoinTokenInfo):
    token: str


class CaInfo(BaseModel):
    certificate_pem: str
    sha256: str


class EnrollRequest(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    csr_pem: Pem
    hostname: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")]
    os_id: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{0,64}$")] = ""
    os_version: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{0,64}$")] = ""
    os_pretty: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{0,128}$")] = ""
    agent_version: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,64}$")]


class EnrollResponse(BaseModel):
    host_id: str
    certificate_pem: str
    ca_pem: str
    expires_at: datetime
    link_url: str


class OsOut(BaseModel):
    id: str
    version: str
    pretty: str


HostStatus = Literal["online", "offline", "stale", "revoked", "new"]


class HostOut(BaseModel):
    id: str
    hostname: str
    os: OsOut
    agent_version: str
    tags: dict[str, str]
    enrolled_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    connected: bool
    status: HostStatus
    packages: int
    open_findings: int


class ScanQueued(BaseModel):
    job_id: str


class PackageOut(BaseModel):
    ecosystem: str
    name: str
    version: str
    source_name: str | None = None


class VulnerabilityOut(BaseModel):
    """What a host's and an image's findings share: the package, the advisory, when it was seen."""

    ecosystem: str
    package: str
    version: str
    vulnerability_id: str
    aliases: list[str]
    severity: str
    fixed_versions: list[str]
    summary: str
    status: Literal["open", "fixed"]
    first_seen_at: datetime
    last_seen_at: datetime
    fixed_at: datetime | None

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_name(cls, value: object) -> object:
        return value.name if isinstance(value, Severity) else value


class FindingOut(VulnerabilityOut):
    host_id: str
    hostname: str


class FindingPage(BaseModel):
    total: int
    items: list[FindingOut]


class FleetSummary(BaseModel):
    """Open findings of the visible hosts, and beside them those of the visible registry images."""

    hosts: int
    open: dict[str, int]
    fixable: int
    images: int = 0
    images_open: dict[str, int] = Field(default_factory=dict)
    images_fixable: int = 0


class HostSummary(BaseModel):
    host_id: str
    hostname: str
    open: dict[str, int]
    fixable: int


class RematchOut(BaseModel):
    hosts: int
    packages: int
    opened: int
    closed: int
    seconds: float
    images: int = 0


RegistryHost = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$",
        max_length=255,
    ),
]
RepositoryName = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$",
        max_length=255,
    ),
]
TagPattern = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-*?\[\]!]{1,128}$")]
PlatformText = Annotated[
    str, StringConstraints(pattern=r"^([a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?)?$", max_length=64)
]


class RegistryCreate(Strict):
    """A registry to scan: its name here, its host[:port], plain HTTP or not, the platform to pick from indexes."""

    name: Name
    host: RegistryHost
    insecure: bool = False
    platform: PlatformText = ""


class RepositoryCreate(Strict):
    """A repository of a registry, and the tags to scan (glob patterns; every tag by default)."""

    name: RepositoryName
    tags: Annotated[list[TagPattern], Field(min_length=1, max_length=32)] = ["*"]


class RepositoryOut(BaseModel):
    registry: str
    name: str
    tags: list[str]
    created_by: str
    created_at: datetime
    polled_at: datetime | None
    error: str
    images: int


class RegistryOut(BaseModel):
    name: str
    host: str
    insecure: bool
    platform: str
    created_by: str
    created_at: datetime
    repositories: list[RepositoryOut]


class RepositoryScanOut(BaseModel):
    """What one poll of a repository did: tags listed and matched, images scanned, unchanged, removed, failed."""

    registry: str
    repository: str
    tags: int
    scanned: int
    unchanged: int
    removed: int
    failed: int
    errors: list[str]


class RegistryScanOut(BaseModel):
    repositories: list[RepositoryScanOut]


class ImageOut(BaseModel):
    id: str
    reference: str
    registry: str
    repository: str
    tag: str
    digest: str
    os: OsOut
    layers: list[str]
    notes: list[str]
    first_seen_at: datetime
    scanned_at: datetime | None
    error: str
    packages: int
    open: dict[str, int]
    fixable: int


class ImagePackageOut(PackageOut):
    layer: str
    location: str


class ImageFindingOut(VulnerabilityOut):
    image_id: str
    reference: str
    layer: str


class ImageFindingPage(BaseModel):
    total: int
    items: list[ImageFindingOut]
