"""The acceptance log: signed, hash-chained lines; any edit, removal, reorder or other key is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rampart.errors import BaselineRefused, FimError
from rampart.fim.acceptance import (
    AcceptanceLogTampered,
    append_acceptance,
    log_path_for,
    read_acceptances,
    verify_latest,
)
from rampart.fim.signing import Signer, generate_keypair, load_signer

COUNTS = {"added": 1, "removed": 0, "changed": 2}


def clock() -> datetime:
    return datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub")
    return load_signer(tmp_path / "a.key")


def append(log: Path, signer: Signer, previous: str, new: str, reason: str = "patch tuesday") -> None:
    append_acceptance(
        log, signer, reason=reason, counts=COUNTS, previous=previous, new=new, user="alice", now=clock
    )


@pytest.fixture
def log(tmp_path: Path, signer: Signer) -> Path:
    path = log_path_for(tmp_path / "baseline.rfim")
    append(path, signer, "", "d1", "init")
    append(path, signer, "d1", "d2")
    append(path, signer, "d2", "d3", "ünïcode\nand a newline")
    return path


def test_lines_read_back(log: Path, signer: Signer) -> None:
    records = list(read_acceptances(log, signer.verifier()))
    assert [(r.previous, r.new) for r in records] == [("", "d1"), ("d1", "d2"), ("d2", "d3")]
    assert records[1].reason == "patch tuesday"
    assert records[2].reason == "ünïcode\nand a newline"
    assert records[0].user == "alice"
    assert records[0].time == "2025-01-02T03:04:05Z"
    assert dict(records[0].counts) == COUNTS
    assert records[0].key_id == signer.key_id
    assert log.name == "baseline.rfim.log"
    assert len(log.read_bytes().splitlines()) == 3


def test_every_byte_flip_is_refused(log: Path, signer: Signer) -> None:
    good = log.read_bytes()
    for offset in range(len(good)):
        log.write_bytes(good[:offset] + bytes([good[offset] ^ 0x01]) + good[offset + 1 :])
        with pytest.raises(FimError):
            list(read_acceptances(log, signer.verifier()))


@pytest.mark.parametrize(
    ("mangle", "match"),
    [
        (lambda lines: [lines[0], lines[2]], "line 2 does not chain"),
        (lambda lines: [lines[1], lines[0], lines[2]], "line 1 does not chain"),
        (lambda lines: lines[1:], "line 1 does not chain"),
        (lambda lines: [*lines, lines[2]], "line 4 does not chain"),
        (lambda lines: [*lines, b"{}"], "line 4 is malformed"),
        (lambda lines: [*lines, b"x" * 70_000], "line 4 is cut short or longer"),
    ],
    ids=["middle-removed", "swapped", "first-removed", "replayed", "junk", "huge"],
)
def test_structural_tampering_is_refused(log: Path, signer: Signer, mangle: object, match: str) -> None:
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"".join(line + b"\n" for line in mangle(lines)))  # type: ignore[operator]
    with pytest.raises(AcceptanceLogTampered, match=match) as caught:
        list(read_acceptances(log, signer.verifier()))
    assert "\n" not in caught.value.message


def test_cut_in_the_middle_of_a_line_is_refused(log: Path, signer: Signer) -> None:
    log.write_bytes(log.read_bytes()[:-10])
    with pytest.raises(AcceptanceLogTampered, match="line 3 is cut short"):
        list(read_acceptances(log, signer.verifier()))


def test_another_keys_log_is_refused(log: Path, tmp_path: Path) -> None:
    generate_keypair(tmp_path / "b.key", tmp_path / "b.pub")
    with pytest.raises(AcceptanceLogTampered, match="line 1 is signed by key"):
        list(read_acceptances(log, load_signer(tmp_path / "b.key").verifier()))


def test_append_refuses_to_extend_a_tampered_log(log: Path, signer: Signer) -> None:
    lines = log.read_bytes().splitlines()
    log.write_bytes(lines[0] + b"\n" + lines[2] + b"\n")
    with pytest.raises(AcceptanceLogTampered):
        append(log, signer, "d3", "d4")
    assert len(log.read_bytes().splitlines()) == 2


def test_a_line_must_continue_from_the_previous_baseline(log: Path, signer: Signer) -> None:
    append(log, signer, "somewhere-else", "d4")
    with pytest.raises(AcceptanceLogTampered, match="line 4 does not continue"):
        list(read_acceptances(log, signer.verifier()))


@pytest.mark.parametrize("reason", ["", "   ", "x" * 5000])
def test_reason_is_required_and_bounded(tmp_path: Path, signer: Signer, reason: str) -> None:
    with pytest.raises(FimError, match="reason"):
        append(tmp_path / "log", signer, "", "d1", reason)
    assert not (tmp_path / "log").exists()


def test_counts_are_checked(tmp_path: Path, signer: Signer) -> None:
    with pytest.raises(FimError, match="counts"):
        append_acceptance(tmp_path / "log", signer, reason="r", counts={"added": -1}, previous="", new="d")


def test_verify_latest_refuses_a_rolled_back_baseline(log: Path, signer: Signer, tmp_path: Path) -> None:
    verify_latest(log, signer.verifier(), "d3")
    with pytest.raises(BaselineRefused, match="not the baseline the acceptance log last accepted"):
        verify_latest(log, signer.verifier(), "d2")
    verify_latest(tmp_path / "no-log", signer.verifier(), "anything")


def test_missing_log_reads_as_an_error(tmp_path: Path, signer: Signer) -> None:
    with pytest.raises(FimError, match="cannot read acceptance log"):
        list(read_acceptances(tmp_path / "missing", signer.verifier()))


def test_default_user_is_recorded(tmp_path: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_USER", "bob")
    record = append_acceptance(tmp_path / "log", signer, reason="r", counts={}, previous="", new="d")
    assert "bob" in record.user
    (read,) = read_acceptances(tmp_path / "log", signer.verifier())
    assert read.user == record.user
