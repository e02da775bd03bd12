"""User administration: list, create, update and delete users (admin only, by policy)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from rampart.auth.passwords import check_password_policy, hash_password
from rampart.errors import RampartError
from rampart.policy.authorizer import Resource
from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, State, audit_write, authorize
from rampart.server.schemas import UserCreate, UserOut, UserUpdate
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
