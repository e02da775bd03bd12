"""``rampart fim`` end to end through the real command line: a tree is recorded, changed in every way the
issue names, and each change is reported exactly once with the right attribute; baselines that were edited,
cut short or signed by another key are refused; updates are accepted with a signed reason.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from integration.cli import rampart as run

pytestmark = pytest.mark.slow


class Fim:
    """One tree, its baseline and keys, and the CLI pointed at them."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.tree = base / "tree"
        self.baseline = base / "state" / "baseline.rfim"
        self.key = base / "keys" / "signing.key"
        self.public = base / "keys" / "signing.key.pub"

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return run("fim", *args, cache_dir=self.base / "cache")

    def init(self, *extra: str) -> None:
        done = self("init", self.tree, "--baseline", self.baseline, "--signing-key", self.key, *extra)
        assert done.returncode == 0, done.stderr

    def check(self, *extra: str) -> tuple[int, dict[str, Any]]:
        done = self(
            "check", "--baseline", self.baseline, "--verify-key", self.public, "--no-packages", *extra
        )
        assert done.returncode < 16, done.stderr
        return done.returncode, json.loads(done.stdout)

    def changes(self) -> dict[str, tuple[str, set[str]]]:
        _, report = self.check()
        found: dict[str, tuple[str, set[str]]] = {}
        for change in report["changes"]:
            assert change["path"] not in found, f"{change['path']} reported twice"
            found[change["path"]] = (change["change"], {a["name"] for a in change["attributes"]})
        return found


@pytest.fixture
def fim(tmp_path: Path) -> Fim:
    made = Fim(tmp_path)
    tree = made.tree
    (tree / "bin").mkdir(parents=True)
    for name in ("mode", "owner", "content", "xattr", "removed", "becomes-dir", "steady"):
        (tree / "bin" / name).write_bytes(f"{name}\n".encode() * 10)
    (tree / "bin" / "link").symlink_to("steady")
    (tree / "var" / "log").mkdir(parents=True)
    return made


def _touch_like(path: Path, reference: Path) -> None:
    subprocess.run(["touch", "-r", str(reference), str(path)], check=True)


def test_every_kind_of_change_is_reported_once_with_its_attribute(fim: Fim) -> None:
    fim.init()
    code, report = fim.check()
    assert code == 0 and report["changes"] == [] and report["entries"] == 12
    bin_dir = fim.tree / "bin"
    stamp = fim.base / "stamp"
    _touch_like(stamp, bin_dir)
    (bin_dir / "mode").chmod(0o4755)
    os.chown(bin_dir / "owner", 1234, 1234)
    content = bin_dir / "content"
    before = content.stat()
    content.write_bytes(b"X" * before.st_size)  # same size, and the old mtime put back below
    os.utime(content, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.setxattr(bin_dir / "xattr", "user.rampart", b"set")
    (bin_dir / "link").unlink()
    (bin_dir / "link").symlink_to("mode")
    (bin_dir / "removed").unlink()
    (bin_dir / "becomes-dir").unlink()
    (bin_dir / "becomes-dir").mkdir()
    (bin_dir / "added").write_text("new\n")
    _touch_like(bin_dir, stamp)  # the directory's own times as they were

    found = fim.changes()
    where = str(bin_dir)
    assert found.pop(f"{where}/mode") == ("changed", {"mode", "ctime"})
    assert found.pop(f"{where}/owner") == ("changed", {"owner", "group", "ctime"})
    assert found.pop(f"{where}/content") == ("changed", {"hash", "ctime"})
    kind, attributes = found.pop(f"{where}/xattr")
    assert kind == "changed" and "xattrs" in attributes and "hash" not in attributes
    kind, attributes = found.pop(f"{where}/link")
    assert kind == "changed" and "link" in attributes
    assert found.pop(f"{where}/becomes-dir") == ("changed", {"type"})
    assert found.pop(f"{where}/removed") == ("removed", set())
    assert found.pop(f"{where}/added") == ("added", set())
    assert found.pop(where)[0] == "changed"  # its ctime: entries came and went
    assert found == {}


def test_exit_bits_quick_and_full_checks_and_a_file_changed_behind_the_quick_check(fim: Fim) -> None:
    fim.init("--hash", "sha256")
    steady = fim.tree / "bin" / "steady"
    stamp = fim.base / "stamp"
    _touch_like(stamp, fim.tree / "bin")
    (fim.tree / "bin" / "added").write_text("x")
    assert fim.check()[0] == 1 | 4  # and the directory's times changed
    (fim.tree / "bin" / "added").unlink()
    (fim.tree / "bin" / "removed").unlink()
    assert fim.check()[0] == 2 | 4
    code, report = fim.check("--full")
    assert code == 2 | 4 and report["hashed"] == 6  # every file that is left
    _, quick = fim.check()
    assert quick["hashed"] == 0  # nothing that could have changed: no file read again
    steady.chmod(0o600)
    assert fim.check()[0] == 2 | 4


def test_refused_baselines_exit_16_and_say_so(fim: Fim, tmp_path: Path) -> None:
    fim.init()
    good = fim.baseline.read_bytes()
    for damaged in (good[:-10], good[:100], bytes([good[0] ^ 1]) + good[1:], good[:300] + b"x" + good[301:]):
        fim.baseline.write_bytes(damaged)
        done = fim("check", "--baseline", fim.baseline, "--verify-key", fim.public)
        assert done.returncode == 16 and "baseline REFUSED" in done.stderr and done.stdout == ""
    other = Fim(tmp_path / "other")
    shutil.copytree(fim.tree, other.tree, symlinks=True)
    other.init()
    shutil.copy(other.baseline, fim.baseline)  # a baseline signed by another key
    done = fim("check", "--baseline", fim.baseline, "--verify-key", fim.public)
    assert done.returncode == 16 and "REFUSED" in done.stderr


def test_update_accepts_changes_with_a_reason_and_refuses_a_rolled_back_baseline(fim: Fim) -> None:
    fim.init()
    old = fim.baseline.read_bytes()
    (fim.tree / "bin" / "mode").chmod(0o700)
    done = fim("update", "--reason", "tightened", "--baseline", fim.baseline, "--signing-key", fim.key)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["changed"] >= 1
    code, report = fim.check()
    assert code == 0 and report["changes"] == []
    log = [json.loads(line) for line in fim.baseline.with_name("baseline.rfim.log").read_text().splitlines()]
    assert [line["reason"] for line in log] == ["init", "tightened"]
    fim.baseline.write_bytes(old)  # validly signed, but not what the log accepted last
    done = fim("check", "--baseline", fim.baseline, "--verify-key", fim.public)
    assert done.returncode == 16 and "rolled back" in done.stderr


def test_show_lists_entries_with_hostile_names_escaped(fim: Fim) -> None:
    (fim.tree / "bin" / "evil\x1b[2J\nname").write_text("x")
    fim.init()
    done = fim(
        "show", fim.tree / "bin", "--baseline", fim.baseline, "--verify-key", fim.public, "-f", "table"
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "evil\\x1b[2J\\x0aname" in done.stdout
    assert sum("/bin/" in line for line in done.stdout.splitlines()) == 9


def test_watch_reports_changes_as_json_lines_until_sigterm(fim: Fim) -> None:
    fim.init()
    (fim.tree / "bin" / "mode").chmod(0o700)  # while nothing watches: reported at start
    env = {**os.environ, "RAMPART_CACHE_DIR": str(fim.base / "cache")}
    command = [sys.executable, "-m", "rampart", "fim", "watch", "--baseline", str(fim.baseline)]
    command += ["--verify-key", str(fim.public), "--no-packages"]
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    seen: list[tuple[str, str]] = []

    def until(wanted: str) -> dict[str, Any] | None:
        """The first line (of either stream: their order is not kept) that holds ``wanted``."""
        while not any(wanted in line for _, line in seen):
            seen.append(lines.get(timeout=60))  # a guard against a hang only
        where, line = next((w, line) for w, line in seen if wanted in line)
        return json.loads(line) if where == "out" else None

    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as watcher:
        readers = [
            threading.Thread(target=lambda s=s, w=w: [lines.put((w, line)) for line in s], daemon=True)
            for s, w in ((watcher.stdout, "out"), (watcher.stderr, "err"))
        ]
        for reader in readers:
            reader.start()
        try:
            reported = until(f"{fim.tree}/bin/mode")
            assert reported is not None and reported["change"] == "changed" and "time" in reported
            assert {a["name"] for a in reported["attributes"]} == {"mode", "ctime"}
            until("reconciled")
            (fim.tree / "bin" / "fresh").write_text("new\n")
            added = until(f"{fim.tree}/bin/fresh")
            assert added is not None and added["change"] == "added" and added["cause"] == "unexplained"
        finally:
            watcher.send_signal(signal.SIGTERM)
            code = watcher.wait(timeout=60)
            for reader in readers:
                reader.join(timeout=60)
    assert code == 0, seen
    seen.extend(lines.queue)
    out = [json.loads(line) for where, line in seen if where == "out"]  # every stdout line is JSON
    assert [item["path"] for item in out].count(f"{fim.tree}/bin/mode") == 1
    assert all("time" in item for item in out)
