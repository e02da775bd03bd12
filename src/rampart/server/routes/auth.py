"""Login, logout and whoami: password logins issue a short-lived API token.

A user with a confirmed TOTP second factor must also send a current code; such a login's token is
marked ``mfa``. A wrong or missing code counts as a failed login (audited, rate limited).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from rampart.auth import totp
from rampart.auth.passwords import dummy_verify, verify_password
from rampart.auth.tokens import hash_secret, issue_api_token, scopes_for_roles
from rampart.server.deps import Authenticated, State, client_address
from rampart.server.schemas import LoginRequest, LoginResponse, TokenInfo, UserOut, WhoAmI
from rampart.store import tokens as token_store
from rampart.store import users as user_store

router = APIRouter(prefix="/auth", tags=["auth"])
LOGIN_LIFETIME = timedelta(hours=12)


TOTP_REQUIRED = "a TOTP code is required"
TOTP_INVALID = "invalid TOTP code"


def _refuse_login(
    state: State, username: str, address: str, why: str, message: str = "wrong user name or password"
) -> HTTPException:
    state.audit.append(
        username[:64] or "-",
        "auth.login.failure",
        f"user:{username[:64] or '-'}",
        "failure",
        {"address": address, "why": why},
    )
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message)


def _second_factor(state: State, user: Any, code: str | None, address: str) -> bool:
    """True when the login passed a second factor; 401 when the user has one and the code is missing or wrong."""
    if not user.totp_confirmed or user.totp_secret is None:
        return False
    if not code:
        raise _refuse_login(state, user.name, address, "no TOTP code", TOTP_REQUIRED)
    counter = totp.verify(user.totp_secret, code, user.totp_last_counter, state.clock())
    if counter is None:
        raise _refuse_login(state, user.name, address, "bad TOTP code", TOTP_INVALID)
    with state.session() as session:
        fresh = user_store.record_totp_counter(session, user.name, counter)
    if not fresh:  # a concurrent login spent this step first
        raise _refuse_login(state, user.name, address, "TOTP code already used", TOTP_INVALID)
    return True


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
    """Exchange a user name and password (and a TOTP code, once enrolled) for a 12-hour token."""
    address = client_address(request)
    _check_rate(state, body.username, address)
    with state.session() as session:
        user = user_store.get_user(session, body.username)
    if user is None:
        dummy_verify()
        raise _refuse_login(state, body.username, address, "unknown user")
    if user.disabled or not verify_password(user.password_hash, body.password):
        raise _refuse_login(state, body.username, address, "disabled" if user.disabled else "bad password")
    mfa = _second_factor(state, user, body.totp, address)
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
            mfa=mfa,
        )
    state.audit.append(
        user.name,
        "auth.login.success",
        f"user:{user.name}",
        "success",
        {"address": address, "via": issued.id, "mfa": mfa},
    )
    out = UserOut(name=user.name, roles=list(user.roles), tags=dict(user.tags), created_at=user.created_at)
    return LoginResponse(token=issued.wire, expires_at=expires, user=out, mfa=mfa)


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
    """The caller's name, roles, tags and token, and whether its login passed a second factor."""
    token = TokenInfo(
        id=caller.token_id,
        name=caller.token_name,
        scopes=sorted(caller.scopes),
        created_at=caller.created_at,
        expires_at=caller.expires_at,
    )
    principal = caller.principal
    return WhoAmI(
        name=principal.name,
        roles=list(principal.roles),
        tags=dict(principal.tags),
        token=token,
        mfa=caller.mfa,
    )
