"""File copy as the user, for real: round trips with sha256, modes, no partial files, permission errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from rampart.agent.sessions.copying import (
    MAX_PATH_BYTES,
    Sha256Counter,
    failure_message,
    resolve_path,
    start_download,
    start_upload,
)
from rampart.agent.sessions.execute import ExecProcess
from rampart.agent.sessions.runas import LoginUser
from rampart.agent.sessions.status import ExitStatus
from rampart.errors import SessionRefused
from unit.agent.sessions.session_helpers import Accounts, async_test, read_all

pytestmark = pytest.mark.timeout(120)

CONTENT = bytes(range(256)) * 1000 + b"tail without newline"


def _own(user: LoginUser, path: Path) -> Path:
    os.chown(path, user.uid, user.gid)
    return path


def _workdir(user: LoginUser, name: str) -> Path:
    """A fresh directory of the user's, inside their home."""
    directory = Path(user.home) / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return _own(user, directory)


async def _download(user: LoginUser, path: str) -> tuple[Sha256Counter, bytes, ExitStatus]:
    process = await start_download(user, path)
    counter = Sha256Counter()

    async def pump() -> None:
        while chunk := await process.read_stdout():
            counter.update(chunk)

    _, err = await asyncio.gather(pump(), read_all(process.read_stderr))
    return counter, err, await process.wait()


async def _upload(process: ExecProcess, data: bytes) -> tuple[bytes, ExitStatus]:
    for start in range(0, len(data), 30_000):
        await process.write_stdin(data[start : start + 30_000])
    await process.close_stdin()
    _, err = await asyncio.gather(read_all(process.read_stdout), read_all(process.read_stderr))
    return err, await process.wait()


def _leftovers(directory: Path) -> list[str]:
    return [entry.name for entry in directory.iterdir() if ".rampart-" in entry.name]


@async_test
async def test_upload_then_download_round_trip(accounts: Accounts) -> None:
    alice = accounts.alice
    directory = _workdir(alice, "roundtrip")
    sent = Sha256Counter()
    sent.update(CONTENT)
    err, status = await _upload(await start_upload(alice, "roundtrip/file.bin"), CONTENT)
    assert (err, status.code) == (b"", 0)
    target = directory / "file.bin"
    assert target.read_bytes() == CONTENT
    assert (target.stat().st_uid, stat.S_IMODE(target.stat().st_mode)) == (alice.uid, 0o644)
    received, err, status = await _download(alice, str(target))
    assert (err, status.code) == (b"", 0)
    assert received.hexdigest() == sent.hexdigest() == hashlib.sha256(CONTENT).hexdigest()
    assert received.byte_count == sent.byte_count == len(CONTENT)
    assert _leftovers(directory) == []


@async_test
async def test_replacing_a_file_keeps_its_mode(accounts: Accounts) -> None:
    alice = accounts.alice
    directory = _workdir(alice, "replace")
    target = directory / "notes.txt"
    target.write_bytes(b"old content that is longer than the new one")
    _own(alice, target)
    target.chmod(0o640)
    err, status = await _upload(await start_upload(alice, str(target)), b"new")
    assert (err, status.code) == (b"", 0)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@async_test
async def test_an_empty_upload_makes_an_empty_file(accounts: Accounts) -> None:
    directory = _workdir(accounts.alice, "empty")
    err, status = await _upload(await start_upload(accounts.alice, str(directory / "e")), b"")
    assert (err, status.code, (directory / "e").read_bytes()) == (b"", 0, b"")


@async_test
async def test_interrupted_upload_leaves_nothing_behind(accounts: Accounts) -> None:
    alice = accounts.alice
    directory = _workdir(alice, "interrupted")
    target = directory / "keep.txt"
    target.write_bytes(b"original")
    process = await start_upload(alice, str(target))
    await process.write_stdin(b"partial data " * 1000)
    status = await process.terminate(grace=5.0)
    await read_all(process.read_stdout)
    assert status.code != 0 or status.signal is not None
    assert target.read_bytes() == b"original"
    assert _leftovers(directory) == []


@async_test
async def test_upload_into_a_directory_the_user_cannot_write_fails_cleanly(accounts: Accounts) -> None:
    process = await start_upload(accounts.alice, "/root/rampart-upload-test")
    err, status = await _upload(process, b"data")
    assert status.code != 0
    assert failure_message(err) == "cannot create a file in the destination directory"
    assert not Path("/root/rampart-upload-test").exists()


@async_test
async def test_upload_onto_a_directory_fails(accounts: Accounts) -> None:
    directory = _workdir(accounts.alice, "ontodir")
    err, status = await _upload(await start_upload(accounts.alice, str(directory)), b"data")
    assert (status.code, failure_message(err)) == (1, "is a directory")
    assert list(directory.iterdir()) == []


@async_test
async def test_upload_over_another_users_file_fails_and_keeps_it(accounts: Accounts) -> None:
    bob_dir = _workdir(accounts.bob, "private")
    bob_dir.chmod(0o755)
    target = bob_dir / "f"
    target.write_bytes(b"bob's")
    _own(accounts.bob, target)
    err, status = await _upload(await start_upload(accounts.alice, str(target)), b"alice's")
    assert status.code != 0
    assert failure_message(err)
    assert target.read_bytes() == b"bob's"
    assert _leftovers(bob_dir) == []


@async_test
async def test_download_of_a_root_only_file_is_denied(accounts: Accounts) -> None:
    secret = _workdir(accounts.alice, "secret") / "secret"
    secret.write_bytes(b"top secret")
    secret.chmod(0o600)
    counter, err, status = await _download(accounts.alice, str(secret))
    assert status.code == 1
    assert failure_message(err) == "permission denied"
    assert counter.byte_count == 0


@async_test
async def test_download_from_an_unreachable_directory_is_denied(accounts: Accounts, tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o700)
    (hidden / "f").write_bytes(b"x")
    for path in (hidden / "f", hidden / "deeper" / "f"):
        counter, err, status = await _download(accounts.alice, str(path))
        assert (status.code, failure_message(err), counter.byte_count) == (1, "permission denied", 0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no such file"),
        (lambda d: d / "a" / "b" / "c", "no such file"),
        (lambda d: d, "is a directory"),
    ],
)
@async_test
async def test_download_of_something_that_is_not_a_file(accounts: Accounts, make, message: str) -> None:  # type: ignore[no-untyped-def]
    directory = _workdir(accounts.alice, "notafile")
    counter, err, status = await _download(accounts.alice, str(make(directory)))
    assert (status.code, failure_message(err), counter.byte_count) == (2, message, 0)


@async_test
async def test_download_of_a_device_is_refused(accounts: Accounts) -> None:
    counter, err, status = await _download(accounts.alice, "/dev/zero")
    assert (status.code, failure_message(err), counter.byte_count) == (2, "not a regular file", 0)


@async_test
async def test_paths_are_never_interpreted_by_a_shell(accounts: Accounts) -> None:
    alice = accounts.alice
    directory = _workdir(alice, "odd names")
    name = "$(touch pwned) `id` ; -rf \n* 'q' \"d\""
    err, status = await _upload(await start_upload(alice, f"odd names/{name}"), b"odd")
    assert (err, status.code) == (b"", 0)
    assert sorted(entry.name for entry in directory.iterdir()) == [name]
    received, _, status = await _download(alice, str(directory / name))
    assert (received.byte_count, status.code) == (3, 0)


def test_relative_paths_start_at_home(accounts: Accounts) -> None:
    assert resolve_path(accounts.alice, "a/b") == f"{accounts.alice.home}/a/b"
    assert resolve_path(accounts.alice, "/etc/hosts") == "/etc/hosts"


@pytest.mark.parametrize(
    "path", ["", "a\x00b", "/" + "x" * MAX_PATH_BYTES, "é" * (MAX_PATH_BYTES // 2 + 1), "bad\udcff", None]
)
def test_unusable_paths_are_refused(accounts: Accounts, path: str) -> None:
    with pytest.raises(SessionRefused):
        resolve_path(accounts.alice, path)


@async_test
async def test_upload_to_a_path_ending_in_slash_is_refused(accounts: Accounts) -> None:
    with pytest.raises(SessionRefused, match="directory"):
        await start_upload(accounts.alice, "somewhere/")


def test_longest_path_is_accepted(accounts: Accounts) -> None:
    path = "/" + "x" * (MAX_PATH_BYTES - 1)
    assert resolve_path(accounts.alice, path) == path


def test_counter_counts_and_hashes() -> None:
    counter = Sha256Counter()
    for chunk in (b"ab", b"", b"c"):
        counter.update(chunk)
    assert counter.as_event() == {"type": "copied", "bytes": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (b"", "copy failed"),
        (b"\n\n", "copy failed"),
        (b"first\nlast\n\n", "last"),
        (b"evil \x1b[2J\x07 bytes \xff", "evil ?[2J? bytes \ufffd"),
        (b"x" * 10_000, "x" * 200),
    ],
)
def test_failure_message_is_one_printable_line(stderr: bytes, message: str) -> None:
    assert failure_message(stderr) == message
