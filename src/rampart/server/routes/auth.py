"""Login, logout and whoami: password logins issue a short-lived API token."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from rampart.auth.passwords import dummy_verify, verify_password
from rampart.auth.tokens import hash_secret, issue_api_token, scopes_for_roles
from rampart.server.deps import Authenticated, State, client_address
from rampart.server.schemas import LoginRequest, LoginResponse, TokenInfo, UserOut, WhoAmI
from rampart.store import tokens as token_store
from rampart.store import users as user_store

router = APIRouter(prefix="/auth", tags=["auth"])
LOGIN_LIFETIME = timedelta(hours=12)


def _refuse_login(state: State, username: str, address: str, why: str) -> HTTPException:
    state.audit.append(
        username[:64] or "-",
        "auth.login.failure",
        f"user:{username[:64] or '-'}",
        "failure",
        {"address": address, "why": why},
    )
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")


def _check_rate(state: State, username: str, address: str) -> None:
    limits = state.limits
    if not (limits.login_by_address.allow(address) and limits.login_by_user.allow(username)):
        state.audit.append(
            username[:64],
            "auth.login.failure",
            f"user:{username[:64]}",
            "deny",
            {"address": address, "why": "rate limited"},
        )
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many login attempts; wait a minute")


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, state: State) -> LoginResponse:
    """Exchange a user name and password for a 12-hour token."""
    address = client_address(request)
    _check_rate(state, body.username, address)
    with state.session() as session:
        user = user_store.get_user(session, body.username)
    if user is None:
        dummy_verify()
        raise _refuse_login(state, body.username, address, "unknown user")
    if user.disabled or not verify_password(user.password_hash, body.password):
        raise _refuse_login(state, body.username, address, "disabled" if user.disabled else "bad password")
    issued, now = issue_api_token(), state.clock()
    expires = now + LOGIN_LIFETIME
    with state.session() as session:
        token_store.add_api_token(
            session,
            issued.id,
            user.name,
            "login",
            hash_secret(issued.secret),
            sorted(scopes_for_roles(user.roles)),
            now,
            expires,
        )
    state.audit.append(
        user.name,
        "auth.login.success",
        f"user:{user.name}",
        "success",
        {"address": address, "via": issued.id},
    )
    out = UserOut(name=user.name, roles=list(user.roles), tags=dict(user.tags), created_at=user.created_at)
    return LoginResponse(token=issued.wire, expires_at=expires, user=out)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: Authenticated, state: State) -> Response:
    """Revoke the token this request presented."""
    with state.session() as session:
        token_store.revoke_api_token(session, caller.token_id, state.clock())
    state.audit.append(
        caller.name,
        "auth.logout",
        f"user:{caller.name}",
        "success",
        {"address": caller.address, "via": caller.token_id},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/whoami", response_model=WhoAmI)
def whoami(caller: Authenticated) -> WhoAmI:
    """The caller's name, roles, tags and token."""
    token = TokenInfo(
        id=caller.token_id,
        name=caller.token_name,
        scopes=sorted(caller.scopes),
        created_at=caller.created_at,
        expires_at=caller.expires_at,
    )
    principal = caller.principal
    return WhoAmI(name=principal.name, roles=list(principal.roles), tags=dict(principal.tags), token=token)
