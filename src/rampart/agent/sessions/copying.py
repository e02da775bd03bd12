"""File copy to and from a host as the session's user, so the user's own permissions decide.

The path is passed as an argument to a fixed script, never parsed by a shell. A download streams the
file on stdout. An upload writes stdin to a temporary file beside the destination and renames it into
place only when stdin ended normally; ending the process with a signal (``terminate``) removes the
temporary file, so a failed upload never leaves a partial file. A replaced file keeps its mode; a new
file gets the user's default mode. A symbolic link at the destination is replaced, not followed.
"""

from __future__ import annotations

import hashlib
import posixpath

from rampart.agent.sessions.execute import ExecProcess
from rampart.agent.sessions.runas import LoginUser
from rampart.errors import SessionRefused

MAX_PATH_BYTES = 4096
SHELL = "/bin/sh"

DOWNLOAD_SCRIPT = """
f=$1
fail() { echo "$2" >&2; exit "$1"; }
missing() {
  d=$(dirname -- "$f")
  while [ "$d" != / ] && [ ! -e "$d" ]; do d=$(dirname -- "$d"); done
  if [ -d "$d" ] && [ ! -x "$d" ]; then fail 1 "permission denied"; fi
  fail 2 "no such file"
}
if [ ! -e "$f" ]; then missing; fi
if [ -d "$f" ]; then fail 2 "is a directory"; fi
if [ ! -f "$f" ]; then fail 2 "not a regular file"; fi
if [ ! -r "$f" ]; then fail 1 "permission denied"; fi
exec cat -- "$f"
"""

UPLOAD_SCRIPT = """
d=$1
t=
fail() { [ -n "$t" ] && rm -f -- "$t"; echo "$1" >&2; exit 1; }
trap 'fail "upload interrupted"' HUP INT TERM
if [ -d "$d" ]; then fail "is a directory"; fi
mode=$(printf '%o' $(( 0666 & ~0$(umask) )))
umask 077
name=$(mktemp -u -- "$d.rampart-XXXXXXXX") || fail "cannot create a file in the destination directory"
t=$name
{ set -C; true > "$t"; } 2>/dev/null || { t=; fail "cannot create a file in the destination directory"; }
set +C
cat > "$t" || fail "cannot write the file"
if [ -e "$d" ]; then chmod --reference="$d" -- "$t"; else chmod -- "$mode" "$t"; fi || fail "cannot set the mode"
sync -- "$t" 2>/dev/null
mv -fT -- "$t" "$d" || fail "cannot replace the destination"
"""


def resolve_path(user: LoginUser, path: str) -> str:
    """The absolute path meant (relative paths start at the user's home); refuses unusable paths."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise SessionRefused("invalid path")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise SessionRefused("invalid path") from None
    if size > MAX_PATH_BYTES:
        raise SessionRefused("path too long")
    return path if path.startswith("/") else posixpath.join(user.home, path)


async def start_download(user: LoginUser, path: str) -> ExecProcess:
    """Stream the file at ``path`` on stdout, read as ``user``; stderr says why when it cannot."""
    target = resolve_path(user, path)
    return await ExecProcess.start_argv(user, [SHELL, "-c", DOWNLOAD_SCRIPT, "rampart-download", target])


async def start_upload(user: LoginUser, path: str) -> ExecProcess:
    """Write stdin to ``path`` as ``user``; the file appears only after stdin is closed normally."""
    target = resolve_path(user, path)
    if target.endswith("/"):
        raise SessionRefused("the upload path names a directory")
    return await ExecProcess.start_argv(user, [SHELL, "-c", UPLOAD_SCRIPT, "rampart-upload", target])


class Sha256Counter:
    """Counts bytes and hashes them as they pass, for the ``copied`` event."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.byte_count = 0

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.byte_count += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def as_event(self) -> dict[str, object]:
        """The ``copied`` event sent on the control stream."""
        return {"type": "copied", "bytes": self.byte_count, "sha256": self.hexdigest()}


MAX_MESSAGE_CHARS = 200


def failure_message(stderr: bytes) -> str:
    """One printable line out of a failed copy's stderr (its last non-empty line), for the ``error`` event."""
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines()]
    last = next((line for line in reversed(lines) if line), "copy failed")
    clean = "".join(ch if ch.isprintable() else "?" for ch in last)
    return clean[:MAX_MESSAGE_CHARS]
