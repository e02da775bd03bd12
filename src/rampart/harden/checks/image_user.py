"""``image_user``: the image names a user other than root to run its containers as (``config.User``).

``config.User`` is ``user``, ``uid``, ``user:group`` or ``uid:gid``. It fails when unset or empty (containers
run as root), when it names root or uid 0, and when a user name has uid 0 in the image's own /etc/passwd (or
is not there at all: the container could not start). Parameters:

- ``allow_root_group`` (default true): whether a group of root/0 is acceptable; when false such a group fails.

Targets that are not images are ``na``.
"""

from __future__ import annotations

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import PASSWD, account_facts
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE, container_config, shown
from rampart.harden.model import Outcome


class ImageUserParams(Params):
    allow_root_group: bool = True


def evaluate(params: ImageUserParams, context: Context) -> Outcome:
    config = container_config(context)
    if config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    value = config.get("User")
    if value is not None and not isinstance(value, str):
        return Outcome.failed("config.User is not a string: the image config is malformed")
    if not value or not value.strip():
        return Outcome.failed("config.User is not set: containers run as root")
    user, _, group = value.strip().partition(":")
    if not params.allow_root_group and _is_root(group):
        return Outcome.failed(f"config.User {shown(value)!r}: the group is root (gid 0)")
    return _judge_user(user, value, context)


def _numeric(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_root(text: str) -> bool:
    return text == "root" or (_numeric(text) and int(text) == 0)


def _judge_user(user: str, value: str, context: Context) -> Outcome:
    if _is_root(user):
        return Outcome.failed(f"config.User {shown(value)!r}: containers run as root")
    if _numeric(user):
        return Outcome.passed(f"config.User {shown(value)!r}: uid {int(user)}")
    table = account_facts(context).passwd
    notes = table.notes[:5]
    account = next((entry for entry in table.entries if entry.name == user), None)
    if account is None:
        return Outcome.failed(f"config.User {shown(value)!r}: no such user in {PASSWD}", *notes)
    where = f"{PASSWD}:{account.line}"
    if account.uid == 0:
        return Outcome.failed(f"config.User {shown(value)!r}: {where} gives the user uid 0 (root)", *notes)
    return Outcome.passed(f"config.User {shown(value)!r}: uid {account.uid} ({where})", *notes)


CHECK = CheckType("image_user", ImageUserParams, evaluate, "the image runs its containers as a non-root user")
