"""The harden upload document: a round trip, bounded evidence, and hostile uploads refused in one line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from rampart.errors import InventoryError
from rampart.fleet import hardenresult
from rampart.fleet.hardenresult import (
    MAX_BYTES,
    MAX_EVIDENCE,
    MAX_EVIDENCE_TEXT,
    error_document,
    from_report,
    parse_harden_result,
)
from unit.fleet.harden_samples import T0, harden_bytes, report, rule


def document(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(harden_bytes([rule("ssh.max-auth-tries", "fail")]))
    value.update(changes)
    return value


def result_doc(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = document()["results"][0]
    value.update(fields)
    return value


def refused_with(value: dict[str, Any] | bytes, message: str) -> None:
    data = value if isinstance(value, bytes) else orjson.dumps(value)
    with pytest.raises(InventoryError, match=message) as caught:
        parse_harden_result(data)
    assert "\n" not in caught.value.message and len(caught.value.message) < 300


def test_a_round_trip_keeps_every_field_and_the_score() -> None:
    result_id = str(uuid.uuid4())
    results = [
        rule("ssh.max-auth-tries", "fail", "high", ("/etc/ssh/sshd_config:12: MaxAuthTries 6 (at most 4)",)),
        rule("ssh.root-login", "pass"),
        rule("ssh.banner", "na"),
        rule("ssh.review-keys", "manual", "low"),
        rule("fs.tmp-noexec", "error"),
    ]
    data = harden_bytes(results, result_id=result_id, job_id="j1")
    parsed = parse_harden_result(data)
    assert (parsed.id, parsed.job_id, parsed.profile, parsed.profile_title) == (
        result_id,
        "j1",
        "ssh-server",
        "SSH server",
    )
    assert (parsed.benchmark, parsed.target_kind, parsed.started, parsed.duration_seconds) == (
        "debian12",
        "host",
        T0,
        1.25,
    )
    assert parsed.score == 50.0 and parsed.error is None and parsed.size == len(data)
    first = parsed.results[0]
    assert (first.rule, first.status, first.severity, first.cis, first.section) == (
        "ssh.max-auth-tries",
        "fail",
        "high",
        ("5.1.16",),
        "5.1 SSH server",
    )
    assert first.evidence == ("/etc/ssh/sshd_config:12: MaxAuthTries 6 (at most 4)",)
    assert [r.status for r in parsed.results] == ["fail", "pass", "na", "manual", "error"]
    assert parsed.results[2].reason == "why na"
    assert (parsed.count("pass"), parsed.count("fail"), parsed.count("na")) == (1, 1, 1)


def test_no_decided_rule_scores_100() -> None:
    assert parse_harden_result(harden_bytes([rule("ssh.banner", "na")])).score == 100.0
    assert parse_harden_result(harden_bytes([])).score == 100.0


def test_an_error_document_round_trips() -> None:
    data = error_document("debian12-l1-server", "no profile 'x'\x1b[2J", str(uuid.uuid4()), "j2", T0)
    parsed = parse_harden_result(data)
    assert parsed.error == "no profile 'x'\\x1b[2J" and parsed.results == () and parsed.job_id == "j2"
    assert parsed.profile == "debian12-l1-server" and parsed.started == T0


def test_the_builder_bounds_evidence_and_escapes_control_characters() -> None:
    many = tuple(f"line {n}" for n in range(50))
    long_line = ("x" * 2000,)
    odd = ("evil \x1b]0;owned\x07 \x9b",)
    data = harden_bytes(
        [
            rule("a.many", "fail", evidence=many),
            rule("a.long", "fail", evidence=long_line),
            rule("a.odd", evidence=odd),
        ]
    )
    assert b"\x1b" not in data and b"\x07" not in data
    parsed = {r.rule: r for r in parse_harden_result(data).results}
    assert len(parsed["a.many"].evidence) == MAX_EVIDENCE
    assert parsed["a.many"].evidence[:3] == ("line 0", "line 1", "line 2")
    assert parsed["a.many"].evidence[-1] == "... 31 more evidence lines not sent"
    assert parsed["a.long"].evidence == ("x" * MAX_EVIDENCE_TEXT,)
    assert parsed["a.odd"].evidence == ("evil \\x1b]0;owned\\x07 \\x9b",)


def test_the_builder_caps_the_number_of_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardenresult, "MAX_RESULTS", 2)
    data = from_report(
        report([rule("a.one", "fail"), rule("a.two"), rule("a.three")]), str(uuid.uuid4()), None
    )
    parsed = parse_harden_result(data)
    assert [r.rule for r in parsed.results] == ["a.one", "a.two"] and parsed.score == 50.0


def test_truncated_and_non_json_uploads() -> None:
    data = harden_bytes([rule("ssh.banner")])
    for broken in (data[: len(data) // 2], b"", b"\xff\xfe", b"[]", b"null", b'{"schema": 1}'):
        with pytest.raises(InventoryError):
            parse_harden_result(broken)


def test_a_huge_upload_is_refused_before_it_is_read() -> None:
    refused_with(b" " * (MAX_BYTES + 1), "larger than")


def test_too_many_results_evidence_lines_and_cis_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardenresult, "MAX_RESULTS", 3)
    refused_with(document(results=[result_doc()] * 4), "results has more than 3 entries")
    refused_with(
        document(results=[result_doc(evidence=["e"] * 21)]), r"results\[0\].evidence has more than 20"
    )
    refused_with(document(results=[result_doc(cis=["1.1"] * 17)]), r"results\[0\].cis has more than 16")
    refused_with(
        document(results=[result_doc(evidence=["e" * 501])]), r"evidence\[0\] is longer than 500 characters"
    )


def test_a_rule_reported_twice_is_refused() -> None:
    refused_with(document(results=[result_doc(), result_doc()]), "reported twice")


def test_a_score_that_is_not_the_results_score_is_refused() -> None:
    refused_with(document(score=100.0), "score 100 is not the results' score 0")
    passing = result_doc(status="pass")
    refused_with(document(results=[passing], score=0), "score 0 is not the results' score 100")


WRONG: list[tuple[Callable[[], dict[str, Any]], str]] = [
    (lambda: document(schema="rampart.fim.result/1"), "must be a 'rampart.harden.result/1' object"),
    (lambda: document(id="not-a-uuid"), "id must be a UUID"),
    (lambda: document(id=7), "id must be a string"),
    (lambda: document(profile="../../etc/passwd"), "profile is not a valid identifier"),
    (lambda: document(profile="X" * 100), "profile is not a valid identifier"),
    (lambda: document(benchmark="Debian 12!"), "benchmark is not a valid identifier"),
    (lambda: document(target_kind="vm"), "target_kind must be one of host, image, rootfs"),
    (lambda: document(started="yesterday"), "started must be an RFC 3339 time"),
    (lambda: document(started="2026-01-01T00:00:00"), "started must be an RFC 3339 time with a UTC offset"),
    (lambda: document(started="2026-01-01T00:00:00+02:00"), "started must be in UTC"),
    (lambda: document(duration_seconds=-1), "duration_seconds must be a number"),
    (lambda: document(duration_seconds="1"), "duration_seconds must be a number"),
    (lambda: document(duration_seconds=True), "duration_seconds must be a number"),
    (lambda: document(duration_seconds=1e300), "duration_seconds must be a number"),
    (lambda: document(score=101), "score must be a number from 0 to 100"),
    (lambda: document(score=None), "score must be a number"),
    (lambda: document(error=5), "error must be a string"),
    (lambda: document(error="no profile"), "an error carries no results"),
    (lambda: document(job_id=["j"]), "job_id must be a string"),
    (lambda: document(results={}), "results must be a list"),
    (lambda: document(results=["x"]), r"results\[0\] must be an object"),
    (lambda: document(results=[result_doc(status="ok")]), r"results\[0\].status must be one of"),
    (lambda: document(results=[result_doc(severity="urgent")]), r"results\[0\].severity must be one of"),
    (lambda: document(results=[result_doc(rule="Bad Rule")]), r"results\[0\].rule is not a valid identifier"),
    (lambda: document(results=[result_doc(rule="")]), r"results\[0\].rule is not a valid identifier"),
    (lambda: document(results=[result_doc(cis="5.1")]), r"results\[0\].cis must be a list"),
    (lambda: document(results=[result_doc(cis=["5 1; drop"])]), r"cis\[0\] is not a valid identifier"),
    (lambda: document(results=[result_doc(cis=[5])]), r"cis\[0\] must be a string"),
    (lambda: document(results=[result_doc(evidence="one line")]), r"evidence must be a list"),
    (lambda: document(results=[result_doc(evidence=[{"a": 1}])]), r"evidence\[0\] must be a string"),
    (lambda: document(results=[result_doc(title=None)]), r"results\[0\].title must be a string"),
    (lambda: document(results=[result_doc(title="t" * 513)]), r"title is longer than 512 characters"),
]


@pytest.mark.parametrize(("make", "message"), WRONG)
def test_wrong_types_and_values(make: Callable[[], dict[str, Any]], message: str) -> None:
    refused_with(make(), message)


def test_control_characters_in_any_text_are_refused() -> None:
    refused_with(document(profile_title="x\x1b[2J"), "profile_title contains a control character")
    refused_with(document(results=[result_doc(evidence=["a\nb"])]), r"evidence\[0\] contains a control")
    refused_with(document(results=[result_doc(reason="\x07")]), r"reason contains a control")
    refused_with(document(results=[result_doc(title="\x9b31m")]), r"title contains a control")


def test_unknown_and_missing_keys() -> None:
    refused_with(document(extra=1), "unknown or missing key 'extra'")
    missing = document()
    del missing["score"]
    refused_with(missing, "unknown or missing key 'score'")
    refused_with(document(results=[result_doc(remediation="x")]), "unknown or missing key 'remediation'")
    partial = result_doc()
    del partial["evidence"]
    refused_with(document(results=[partial]), r"results\[0\] has an unknown or missing key 'evidence'")


def test_the_started_time_of_a_report_is_kept_in_utc() -> None:
    started = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert parse_harden_result(harden_bytes([rule("ssh.banner")], started)).started == started


def test_an_error_document_for_a_name_that_is_no_profile_id_still_parses() -> None:
    data = error_document("../../etc/shadow", "no profile '../../etc/shadow'", str(uuid.uuid4()), None, T0)
    parsed = parse_harden_result(data)
    assert parsed.profile == "invalid-profile" and parsed.error == "no profile '../../etc/shadow'"
