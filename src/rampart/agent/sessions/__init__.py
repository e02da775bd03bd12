"""The host side of access sessions: processes started as the chosen OS user, and outbound connections.

`runas` picks and checks the account, `environment` builds its login environment, `shell` runs a login
shell on a pty, `execute` runs one command with pipes, `copying` reads or writes one file as the user,
`forwarding` connects to a forward target, `status` describes how a process ended. Nothing here talks to
the link; the caller relays bytes and events.
"""

from __future__ import annotations

from rampart.agent.sessions.copying import Sha256Counter, failure_message, start_download, start_upload
from rampart.agent.sessions.environment import login_environment
from rampart.agent.sessions.execute import ExecProcess
from rampart.agent.sessions.forwarding import open_target
from rampart.agent.sessions.runas import LOGIN_NAME, LoginUser, require_login_shell, resolve_login
from rampart.agent.sessions.shell import ShellProcess
from rampart.agent.sessions.status import ExitStatus

__all__ = [
    "LOGIN_NAME",
    "ExecProcess",
    "ExitStatus",
    "LoginUser",
    "Sha256Counter",
    "ShellProcess",
    "failure_message",
    "login_environment",
    "open_target",
    "require_login_shell",
    "resolve_login",
    "start_download",
    "start_upload",
]
