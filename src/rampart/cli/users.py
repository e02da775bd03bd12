"""``rampart users``: list, create, update and delete users (admin only on the server); ``users totp``:
enrol, confirm and reset a TOTP second factor."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TagOption,
    TokenOption,
    colour,
    confirm,
    emit,
    emit_json,
    open_client,
    parse_tags,
    read_password,
    wants_json,
    width,
)

app = typer.Typer(help="Users of the rampart server.", no_args_is_help=True)
totp_app = typer.Typer(help="A TOTP second factor for logins.", no_args_is_help=True)
app.add_typer(totp_app, name="totp")


class Role(enum.StrEnum):
    """The roles a user may hold."""

    ADMIN = "admin"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    VIEWER = "viewer"


NameArgument = Annotated[str, typer.Argument(help="User name ([a-z0-9_.-], 1-64 characters).")]
RoleOption = Annotated[
    list[Role] | None, typer.Option("--role", help="A role (repeatable).", show_default=False)
]


@app.command("list")
def list_command(
    server: ServerOption = None, token: TokenOption = None, output: FormatOption = OutputFormat.AUTO
) -> None:
    """List users with their roles and tags."""
    with open_client(server, token) as client:
        users = client.users()
    if wants_json(output):
        emit_json(users)
        return
    from rampart.report.fleet_table import render_users

    emit(render_users(users, width=width(), color=colour()))


@app.command("create")
def create_command(
    name: NameArgument,
    role: RoleOption = None,
    tag: TagOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Create a user (password typed twice at a prompt, or $RAMPART_PASSWORD)."""
    roles = [r.value for r in role or [Role.VIEWER]]
    tags = parse_tags(tag)
    password = read_password(f"password for {name}", twice=True)
    with open_client(server, token) as client:
        user = client.create_user(name, password, roles, tags)
    _show(user, "created", output)


@app.command("update")
def update_command(
    name: NameArgument,
    role: RoleOption = None,
    tag: TagOption = None,
    clear_tags: Annotated[bool, typer.Option("--clear-tags", help="Remove every tag.")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Set a new password (prompt or $RAMPART_PASSWORD).")
    ] = False,
    disabled: Annotated[
        bool | None,
        typer.Option(
            "--disable/--enable", help="Lock the user out, or let them in again.", show_default=False
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Change a user's roles, tags (replaced as a whole), password or disabled state."""
    from rampart.errors import UsageError

    tags = {} if clear_tags else (parse_tags(tag) if tag else None)
    if clear_tags and tag:
        raise UsageError("give --tag or --clear-tags, not both")
    secret = read_password(f"new password for {name}", twice=True) if password else None
    roles = [r.value for r in role] if role else None
    if roles is None and tags is None and secret is None and disabled is None:
        raise UsageError(
            "nothing to change: give --role, --tag, --clear-tags, --password, --disable or --enable"
        )
    with open_client(server, token) as client:
        user = client.update_user(name, password=secret, roles=roles, tags=tags, disabled=disabled)
    _show(user, "updated", output)


@app.command("delete")
def delete_command(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a user."""
    from rampart.report.escape import safe_text

    confirm(f"Delete user {safe_text(name)}?", yes)
    with open_client(server, token) as client:
        client.delete_user(name)
    emit(f"deleted user {safe_text(name)}\n")


def _show(user: object, verb: str, output: OutputFormat) -> None:
    from rampart.client.models import UserInfo
    from rampart.report.escape import safe_text
    from rampart.report.fleet_table import tags_text

    assert isinstance(user, UserInfo)
    if wants_json(output):
        emit_json(user)
    else:
        emit(
            f"{verb} user {safe_text(user.name)}: roles {', '.join(user.roles) or '-'}; tags {tags_text(user.tags) or '-'}\n"
        )


@totp_app.command("enroll")
def totp_enroll_command(
    name: Annotated[
        str | None, typer.Argument(help="User name (default: yourself).", show_default=False)
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Make a new TOTP secret and print it once; it takes effect after `rampart users totp confirm CODE`."""
    from rampart.report.escape import safe_text

    with open_client(server, token) as client:
        who = name or client.whoami().name
        enrolment = client.enroll_totp(who)
    if wants_json(output):
        emit_json({"user": who, "secret": enrolment.secret, "uri": enrolment.uri})
        return
    emit(
        f"TOTP secret for {safe_text(who)} (shown this once; add it to an authenticator app):\n"
        f"  uri     {safe_text(enrolment.uri)}\n"
        f"  secret  {safe_text(enrolment.secret)}\n"
        "then turn it on with: rampart users totp confirm CODE\n"
    )


@totp_app.command("confirm")
def totp_confirm_command(
    code: Annotated[str, typer.Argument(help="The current 6-digit code from your authenticator app.")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Turn on your enrolled TOTP secret; logins then need a code (`rampart login --totp CODE`)."""
    from rampart.report.escape import safe_text

    with open_client(server, token) as client:
        who = client.whoami().name
        client.confirm_totp(who, code.strip())
    emit(f"TOTP second factor on for {safe_text(who)}\n")


@totp_app.command("reset")
def totp_reset_command(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Remove a user's TOTP second factor (admin); they log in with the password alone until they enrol again."""
    from rampart.report.escape import safe_text

    confirm(f"Remove the TOTP second factor of {safe_text(name)}?", yes)
    with open_client(server, token) as client:
        client.reset_totp(name)
    emit(f"TOTP second factor removed for {safe_text(name)}\n")
