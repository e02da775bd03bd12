"""Profiles and tailoring: which rules a run evaluates, in what order, with which variables.

A profile file (``rampart/harden/profiles/<id>.yml``)::

    id: debian12-l2-server
    title: Debian 12 server, CIS-style Level 2
    benchmark: debian12          # which ids of each rule's ``cis`` map the results carry
    platforms: [debian]          # os-release IDs it is written for (a warning elsewhere)
    extends: debian12-l1-server  # optional: start from that profile's rules and variables
    rules: [rule-id, ...]        # added in order
    drop: [rule-id-or-glob, ...] # removed
    variables: {sshd_max_auth_tries: 4}

A tailoring file has the same keys (``select`` is accepted for ``rules``) and ``extends`` a shipped profile.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rampart.errors import RampartError
from rampart.harden.model import Rule
from rampart.harden.ruleset import RuleSet, read_file, read_yaml

MAX_EXTENDS = 8


class ProfileError(RampartError):
    """A profile or tailoring file is malformed, or names a profile, rule or variable that does not exist."""


class _ProfileDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{1,79}$")
    title: str | None = None
    description: str = ""
    benchmark: str | None = None
    platforms: list[str] = Field(default_factory=list)
    extends: str | None = None
    rules: list[str] = Field(default_factory=list)
    select: list[str] = Field(default_factory=list)
    drop: list[str] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    benchmark: str
    rules: tuple[Rule, ...]
    description: str = ""
    platforms: tuple[str, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def shipped_profile_ids() -> list[str]:
    folder = resources.files("rampart.harden") / "profiles"
    return sorted(entry.name[:-4] for entry in folder.iterdir() if entry.name.endswith(".yml"))


def _shipped_document(profile_id: str) -> tuple[_ProfileDoc, str]:
    if profile_id not in shipped_profile_ids():
        known = ", ".join(shipped_profile_ids())
        raise ProfileError(f"no profile {profile_id!r} (rampart harden profiles lists them: {known})")
    source = f"profiles/{profile_id}.yml"
    text = (resources.files("rampart.harden") / "profiles" / f"{profile_id}.yml").read_text(encoding="utf-8")
    return _parse(text, source), source


def _parse(text: str, source: str) -> _ProfileDoc:
    document = read_yaml(text, source)
    try:
        return _ProfileDoc.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ProfileError(
            f"{source}: {where}: {first['msg']}" if where else f"{source}: {first['msg']}"
        ) from None


@dataclass
class _Building:
    """A profile being assembled from a chain of documents, base first."""

    ids: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    head: _ProfileDoc | None = None
    chain: list[_ProfileDoc] = field(default_factory=list)


def _chain(document: _ProfileDoc, source: str) -> list[_ProfileDoc]:
    chain = [document]
    while chain[0].extends:
        if len(chain) > MAX_EXTENDS:
            raise ProfileError(f"{source}: 'extends' goes deeper than {MAX_EXTENDS} profiles (a loop?)")
        chain.insert(0, _shipped_document(chain[0].extends)[0])
    return chain


def _rule_ids(chain: Sequence[_ProfileDoc], ruleset: RuleSet, source: str) -> list[str]:
    ids: list[str] = []
    for document in chain:
        for rule_id in [*document.rules, *document.select]:
            if rule_id not in ruleset.rules:
                raise ProfileError(f"{source}: no rule {rule_id!r}")
            if rule_id not in ids:
                ids.append(rule_id)
        ids = [
            rule_id
            for rule_id in ids
            if not any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in document.drop)
        ]
    return ids


def _check_variables(variables: Mapping[str, Any], rules: Sequence[Rule], source: str) -> None:
    known = {name for rule in rules for name in rule.variables}
    unknown = sorted(set(variables) - known)
    if unknown:
        raise ProfileError(f"{source}: variable {unknown[0]!r} is not used by any selected rule")


def build_profile(document: _ProfileDoc, source: str, ruleset: RuleSet) -> Profile:
    chain = _chain(document, source)
    rules = [ruleset.rules[rule_id] for rule_id in _rule_ids(chain, ruleset, source)]
    variables = {name: value for doc in chain for name, value in doc.variables.items()}
    _check_variables(document.variables, rules, source)
    named = next((doc for doc in reversed(chain) if doc.id), None)
    benchmark = next((doc.benchmark for doc in reversed(chain) if doc.benchmark), "")
    return Profile(
        id=document.id or (f"{named.id}+tailored" if named and named.id else "tailored"),
        title=document.title or next((doc.title for doc in reversed(chain) if doc.title), "") or "",
        benchmark=benchmark,
        rules=tuple(rules),
        description=document.description,
        platforms=tuple(next((doc.platforms for doc in reversed(chain) if doc.platforms), [])),
        variables=variables,
    )


def load_profile(profile_id: str | None, ruleset: RuleSet, tailoring: Path | None = None) -> Profile:
    """A shipped profile, or a tailoring file that extends one (``profile_id`` then sets what it extends)."""
    if tailoring is None:
        if not profile_id:
            raise ProfileError("name a profile with --profile (rampart harden profiles lists them)")
        document, source = _shipped_document(profile_id)
        return build_profile(document, source, ruleset)
    document = _parse(read_file(tailoring), str(tailoring))
    if profile_id and document.extends and document.extends != profile_id:
        raise ProfileError(
            f"{tailoring}: extends {document.extends!r}, not the profile {profile_id!r} asked for"
        )
    if profile_id and not document.extends:
        document = document.model_copy(update={"extends": profile_id})
    if not document.extends:
        raise ProfileError(f"{tailoring}: a tailoring file needs 'extends: <profile>' (or use --profile)")
    return build_profile(document, str(tailoring), ruleset)
