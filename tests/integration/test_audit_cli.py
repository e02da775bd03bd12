"""``rampart audit verify|export`` on real audit log files, as an operator would run them."""

from __future__ import annotations

import json
from pathlib import Path

from integration.cli import rampart
from rampart.audit.chain import AuditChain
from rampart.audit.sinks import JsonLinesFileSink
from unit.audit.sample import make_events


def _log(tmp_path: Path, count: int = 6) -> tuple[Path, str]:
    path = tmp_path / "audit.jsonl"
    events = make_events(count, JsonLinesFileSink(path))
    return path, f"{events[-1].seq}:{events[-1].hash}"


def test_verify_an_intact_log(tmp_path: Path) -> None:
    path, anchor = _log(tmp_path)
    done = rampart("audit", "verify", path, "--anchor", anchor, cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["checked"] == 6 and result["position"] is None


def test_edited_entry_is_named(tmp_path: Path) -> None:
    path, _ = _log(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    assert '"actor":"bob"' in lines[1]
    lines[1] = lines[1].replace('"actor":"bob"', '"actor":"mallory"')
    path.write_text("".join(lines))
    done = rampart("audit", "verify", path, cache_dir=tmp_path)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert (result["ok"], result["position"], result["reason"]) == (False, 2, "edited")


def test_truncation_is_caught_only_with_the_anchor(tmp_path: Path) -> None:
    path, anchor = _log(tmp_path)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:4]))
    assert rampart("audit", "verify", path, cache_dir=tmp_path).returncode == 0
    done = rampart("audit", "verify", path, "--anchor", anchor, cache_dir=tmp_path)
    assert done.returncode == 1
    assert json.loads(done.stdout)["reason"] == "truncated"


def test_export_writes_verified_lines_and_refuses_a_broken_log(tmp_path: Path) -> None:
    path, _ = _log(tmp_path, 4)
    done = rampart("audit", "export", path, cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["seq"] for line in done.stdout.splitlines()] == [1, 2, 3, 4]
    path.write_text(path.read_text() + "{not json\n")
    broken = rampart("audit", "export", path, cache_dir=tmp_path)
    assert broken.returncode == 2 and broken.stdout == ""
    assert "5" in broken.stderr and len(broken.stderr.strip().splitlines()) == 1


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    path, _ = _log(tmp_path, 2)
    for args, message in (
        (("audit", "verify", tmp_path / "missing.jsonl"), "does not exist"),
        (("audit", "verify", path, "--anchor", "nonsense"), "SEQ:HASH"),
        (("audit", "verify", path, "--anchor", "2:zz"), "--anchor"),
    ):
        done = rampart(*args, cache_dir=tmp_path)
        assert done.returncode == 2 and message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_chain_appended_after_a_restart_still_verifies(tmp_path: Path) -> None:
    path, anchor = _log(tmp_path, 3)
    seq, _, digest = anchor.partition(":")
    from rampart.audit.chain import Anchor

    resumed = AuditChain(sink=JsonLinesFileSink(path), head=Anchor(int(seq), digest))
    event = resumed.append("carol", "agent.revoke", "host/db-1", "success")
    done = rampart("audit", "verify", path, "--anchor", f"{event.seq}:{event.hash}", cache_dir=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["checked"] == 4


def test_terminal_summary_names_the_break() -> None:
    from rampart.audit.chain import GENESIS, Anchor, BreakReason, VerifyResult
    from rampart.cli.audit import _describe

    good = VerifyResult(4, Anchor(4, "ab" * 32))
    bad = VerifyResult(1, GENESIS, 2, BreakReason.EDITED, "hash does not match")
    assert _describe(good) == f"ok: 4 entries, head 4:{'ab' * 32}"
    assert _describe(bad) == "broken at entry 2: edited (hash does not match); 1 entries verified"


def test_follow_streams_new_entries_and_stops_at_a_forged_one(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path, _ = _log(tmp_path, count=2)
    command = [sys.executable, "-m", "rampart", "audit", "export", str(path), "--follow"]
    env = {**os.environ, "RAMPART_CACHE_DIR": str(tmp_path)}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as follower:
        assert follower.stdout is not None and follower.stderr is not None
        first = [json.loads(follower.stdout.readline()) for _ in range(2)]
        assert [e["seq"] for e in first] == [1, 2]
        forged = json.loads(path.read_text().splitlines()[-1])
        forged.update(seq=3, prev_hash=forged["hash"], actor="mallory")
        with path.open("a") as log:
            log.write(json.dumps(forged, separators=(",", ":")) + "\n")
        assert follower.wait(30) == 2
        assert follower.stdout.read() == ""
        assert "rampart: error:" in follower.stderr.read()
