"""`SessionSpec`: everything decided when a session was authorized, and what the agent is told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTIONS = {
    "shell": "session.shell",
    "exec": "session.exec",
    "forward": "session.forward",
    "copy": "session.copy",
}
PRIORITIES = {"shell": "interactive", "exec": "bulk", "forward": "bulk", "copy": "bulk"}


@dataclass(frozen=True)
class SessionSpec:
    """One authorized session: who, where, as whom, doing what."""

    id: str
    kind: str
    host_id: str
    hostname: str
    user: str
    token_id: str
    login: str
    allow_root: bool
    client_address: str
    policies: tuple[str, ...] = ()
    command: str | None = None
    target_host: str | None = None
    target_port: int | None = None
    direction: str | None = None
    path: str | None = None
    cols: int = 80
    rows: int = 24
    term: str = "xterm-256color"

    @property
    def action(self) -> str:
        return ACTIONS[self.kind]

    @property
    def target(self) -> str | None:
        return None if self.target_host is None else f"{self.target_host}:{self.target_port}"

    def leg_id(self, leg: int) -> str:
        """The id the agent knows a leg by: the session id, plus ``/n`` for forward connections."""
        return self.id if leg == 0 else f"{self.id}/{leg}"

    def agent_meta(self, leg: int, *, resume: bool, grace: float) -> dict[str, Any]:
        """The channel-open metadata that tells the agent what to run (see the agent's session host)."""
        meta: dict[str, Any] = {
            "id": self.leg_id(leg),
            "kind": self.kind,
            "login": self.login,
            "allow_root": self.allow_root,
            "cols": self.cols,
            "rows": self.rows,
            "term": self.term,
            "resume": resume,
            "grace": grace,
        }
        extra = {
            "command": self.command,
            "target_host": self.target_host,
            "target_port": self.target_port,
            "direction": self.direction,
            "path": self.path,
        }
        meta.update({key: value for key, value in extra.items() if value is not None})
        return meta

    def recording_header(self) -> dict[str, Any]:
        """What the recording says about the session it holds."""
        return {
            "kind": self.kind,
            "user": self.user,
            "host": self.hostname,
            "host_id": self.host_id,
            "login": self.login,
            "client_address": self.client_address,
            "command": self.command,
            "target": self.target,
            "direction": self.direction,
            "path": self.path,
            "width": self.cols,
            "height": self.rows,
            "term": self.term,
        }
