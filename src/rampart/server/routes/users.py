"""User administration: list, create, update and delete users (admin only, by policy); TOTP enrolment.

A user enrols a TOTP second factor for themself (or an admin for them), then confirms it with a
code, which turns it on; once on, only an admin may replace or remove it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from rampart.auth import totp
from rampart.auth.passwords import check_password_policy, hash_password
from rampart.errors import RampartError
from rampart.policy.authorizer import Resource
from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, Caller, State, audit_write, authorize
from rampart.server.schemas import TotpConfirm, TotpEnrolment, UserCreate, UserOut, UserUpdate
from rampart.store import users as user_store

router = APIRouter(prefix="/users", tags=["users"])


def _out(user: Any) -> UserOut:
    return UserOut(
        name=user.name,
        roles=list(user.roles),
        tags=dict(user.tags),
        disabled=user.disabled,
        created_at=user.created_at,
    )


def _checked_hash(password: str) -> str:
    try:
        check_password_policy(password)
    except RampartError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error.message) from None
    return hash_password(password)


@router.get("", response_model=list[UserOut])
def list_users(caller: Authenticated, state: State) -> list[UserOut]:
    """Every user."""
    authorize(state, caller, "user.read", FLEET)
    with state.reader() as session:
        return [_out(u) for u in user_store.list_users(session)]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, caller: Authenticated, state: State) -> UserOut:
    """Create a user with roles and tags."""
    authorize(state, caller, "user.write", Resource("User", body.name, dict(body.tags)))
    password_hash = _checked_hash(body.password)
    with state.session() as session:
        if user_store.get_user(session, body.name) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.name} already exists")
        user = user_store.create_user(
            session, body.name, password_hash, sorted(set(body.roles)), dict(body.tags), state.clock()
        )
        out = _out(user)
    audit_write(state, caller, "user.create", f"user:{body.name}", {"roles": ",".join(out.roles)})
    return out


@router.patch("/{name}", response_model=UserOut)
def update_user(name: str, body: UserUpdate, caller: Authenticated, state: State) -> UserOut:
    """Change a user's password, roles, tags or disabled flag."""
    target = _existing(state, name)
    authorize(state, caller, "user.write", Resource("User", name, dict(target.tags)))
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"password"})
    if body.password is not None:
        changes["password_hash"] = _checked_hash(body.password)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    with state.session() as session:
        out = _out(user_store.update_user(session, name, **changes))
    audit_write(state, caller, "user.update", f"user:{name}", {"fields": ",".join(sorted(changes))})
    return out


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(name: str, caller: Authenticated, state: State) -> Response:
    """Delete a user and every token they hold."""
    target = _existing(state, name)
    authorize(state, caller, "user.write", Resource("User", name, dict(target.tags)))
    if name == caller.name:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot delete yourself")
    with state.session() as session:
        user_store.delete_user(session, name)
    audit_write(state, caller, "user.delete", f"user:{name}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _existing(state: State, name: str) -> Any:
    with state.reader() as session:
        user = user_store.get_user(session, name[:64])
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    return user


def _user_resource(user: Any) -> Resource:
    return Resource("User", user.name, dict(user.tags))


@router.post("/{name}/totp", response_model=TotpEnrolment, status_code=status.HTTP_201_CREATED)
def enroll_totp(name: str, caller: Authenticated, state: State) -> TotpEnrolment:
    """A new TOTP secret (shown once), off until confirmed; replacing a confirmed one takes an admin."""
    target = _existing(state, name)
    admin_needed = target.name != caller.name or target.totp_confirmed
    action = "user.write" if admin_needed else "token.self"
    authorize(state, caller, action, _user_resource(target))
    secret = totp.new_secret()
    with state.session() as session:
        user_store.set_totp_secret(session, target.name, secret)
    audit_write(state, caller, "auth.totp.enroll", f"user:{target.name}", {"replaced": target.totp_confirmed})
    return TotpEnrolment(secret=secret, uri=totp.provisioning_uri(secret, target.name))


@router.post("/{name}/totp/confirm", status_code=status.HTTP_204_NO_CONTENT)
def confirm_totp(name: str, body: TotpConfirm, caller: Authenticated, state: State) -> Response:
    """Turn on the caller's enrolled TOTP secret by showing one current code."""
    target = _own_enrolment(state, caller, name)
    if not state.limits.login_by_user.allow(target.name):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many attempts; wait a minute")
    counter = totp.verify(target.totp_secret, body.code, target.totp_last_counter, state.clock())
    if counter is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid TOTP code")
    with state.session() as session:
        confirmed = user_store.confirm_totp(session, target.name, target.totp_secret, counter)
    if not confirmed:
        raise HTTPException(status.HTTP_409_CONFLICT, "no TOTP enrolment waiting for confirmation")
    audit_write(state, caller, "auth.totp.confirm", f"user:{target.name}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{name}/totp", status_code=status.HTTP_204_NO_CONTENT)
def reset_totp(name: str, caller: Authenticated, state: State) -> Response:
    """Remove a user's TOTP second factor (admin)."""
    target = _existing(state, name)
    authorize(state, caller, "user.write", _user_resource(target))
    with state.session() as session:
        user_store.clear_totp(session, target.name)
    audit_write(state, caller, "auth.totp.reset", f"user:{target.name}", {"was_on": target.totp_confirmed})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _own_enrolment(state: State, caller: Caller, name: str) -> Any:
    """The caller's own user row with a TOTP secret waiting for confirmation; 403/409 otherwise."""
    target = _existing(state, name)
    if target.name != caller.name:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the user themself can confirm their TOTP")
    authorize(state, caller, "token.self", _user_resource(target))
    if target.totp_secret is None or target.totp_confirmed:
        raise HTTPException(status.HTTP_409_CONFLICT, "no TOTP enrolment waiting for confirmation")
    return target
