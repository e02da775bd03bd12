"""How a session's process ended: an exit code or a signal, and the single code a client exits with."""

from __future__ import annotations

from dataclasses import dataclass

# The code reported when the end is unknown (neither an exit code nor a signal).
UNKNOWN_EXIT = 255


@dataclass(frozen=True)
class ExitStatus:
    """Exactly one of ``code`` (normal exit) and ``signal`` (killed by that signal) is set, normally."""

    code: int | None
    signal: int | None

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        """From `subprocess` convention: negative means killed by that signal."""
        if returncode < 0:
            return cls(code=None, signal=-returncode)
        return cls(code=returncode, signal=None)

    def exit_code_for_client(self) -> int:
        """The shell convention: the exit code, or 128 + the signal number."""
        if self.code is not None:
            return self.code
        if self.signal is not None:
            return 128 + self.signal
        return UNKNOWN_EXIT

    def as_event(self) -> dict[str, object]:
        """The ``exit`` event sent on the control stream."""
        return {"type": "exit", "code": self.code, "signal": self.signal}
