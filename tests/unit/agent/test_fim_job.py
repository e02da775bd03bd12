"""The agent's fim job: a check of the host against its signed baseline, or a refusal the server alarms on."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.agent.jobs import JOBS, JobContext, fim_job
from rampart.fim.baseline import open_baseline
from rampart.fim.signing import generate_keypair, load_verifier
from rampart.fleet.fimresult import FimResult, parse_fim_result
from unit.agent.fim_helpers import FimHost, make_fim_host


@pytest.fixture
def host(tmp_path: Path) -> FimHost:
    return make_fim_host(tmp_path)


def run(host: FimHost, job_id: str | None = None, verify_key: Path | None = None) -> FimResult:
    context = JobContext(
        host.tree, job_id, workers=0, fim_baseline=host.baseline, fim_verify_key=verify_key or host.verify_key
    )
    result = fim_job(context)
    parsed = parse_fim_result(result.payload)
    assert result.kind == "fim" and parsed.id == result.id and parsed.job_id == job_id
    return parsed


def test_the_fim_job_is_listed() -> None:
    assert JOBS["fim"] is fim_job


def test_an_unchanged_tree_uploads_no_changes_and_names_its_baseline(host: FimHost) -> None:
    parsed = run(host, job_id="b" * 32)
    opened = open_baseline(host.baseline, load_verifier(host.verify_key))
    assert parsed.refused is None and parsed.changes == () and parsed.errors == ()
    assert parsed.entries == opened.header.entries == 4
    assert parsed.baseline == {
        "created": opened.header.created,
        "digest": opened.digest,
        "key_id": opened.header.key_id,
    }


def test_a_changed_file_is_reported_with_its_cause_and_fingerprint(host: FimHost) -> None:
    (host.tree / "bin" / "tool").write_bytes(b"evil" * 100)
    (host.tree / "new").write_text("dropped\n")
    parsed = run(host)
    changes = {c.path: c for c in parsed.changes}
    tool, new = (bytes(host.tree / name) for name in ("bin/tool", "new"))
    assert {tool, new, bytes(host.tree)} == set(changes)  # the tree's directory changed mtime
    assert changes[tool].change == "changed" and changes[tool].cause == "unexplained"
    assert "hash" in {a.name for a in changes[tool].attributes}
    assert changes[new].change == "added" and len(changes[new].fingerprint) == 64
    assert parsed.refused is None


def test_each_run_has_its_own_idempotency_id(host: FimHost) -> None:
    assert run(host).id != run(host).id


def test_an_edited_baseline_is_refused_and_only_the_refusal_is_uploaded(host: FimHost) -> None:
    data = bytearray(host.baseline.read_bytes())
    data[len(data) // 2] ^= 0x01
    host.baseline.write_bytes(bytes(data))
    (host.tree / "conf").write_text("setting = 2\n")
    parsed = run(host)
    assert parsed.refused is not None and parsed.refused.startswith("baseline REFUSED")
    assert parsed.changes == () and parsed.entries == 0
    assert parsed.baseline == {"created": "", "digest": "", "key_id": ""}


def test_a_baseline_signed_by_another_key_is_refused(host: FimHost, tmp_path: Path) -> None:
    generate_keypair(tmp_path / "other.key", tmp_path / "other.pub")
    parsed = run(host, verify_key=tmp_path / "other.pub")
    assert parsed.refused is not None and "signed by key" in parsed.refused


def test_a_missing_baseline_is_refused_with_what_to_do(host: FimHost) -> None:
    host.baseline.unlink()
    parsed = run(host)
    assert parsed.refused == f"no fim baseline at {host.baseline}: run `rampart fim init` on the host"
    assert parsed.changes == ()


def test_a_missing_verify_key_is_refused(host: FimHost, tmp_path: Path) -> None:
    parsed = run(host, verify_key=tmp_path / "absent.pub")
    assert parsed.refused is not None and "absent.pub" in parsed.refused


def test_a_name_with_control_characters_reaches_the_server_as_its_exact_bytes(host: FimHost) -> None:
    odd = host.tree / "bin" / "\x1b[2Jx"
    odd.write_text("x")
    context = JobContext(host.tree, workers=0, fim_baseline=host.baseline, fim_verify_key=host.verify_key)
    payload = fim_job(context).payload
    assert b"\x1b" not in payload
    changes = {c.path: c for c in parse_fim_result(payload).changes}
    assert changes[bytes(odd)].change == "added"
