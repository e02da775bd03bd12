"""The hash chain: canonical bytes, appending, and verification naming the first broken position."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.audit.chain import GENESIS_HASH, Anchor, AuditChain, BreakReason, require_ok, verify
from rampart.audit.codec import canonical_bytes, event_hash
from rampart.audit.events import AuditEvent
from rampart.audit.signing import sign_anchor, verify_anchor
from rampart.errors import AnchorSignatureError, AuditError
from unit.audit.sample import make_events, ticking_clock


def _head(events: list[AuditEvent]) -> Anchor:
    return Anchor(events[-1].seq, events[-1].hash)


def test_canonical_form_is_sorted_compact_utf8_with_fixed_time() -> None:
    chain = AuditChain(clock=ticking_clock())
    event = chain.append("zoë", "auth.login.success", "console", "success", {"b": 1, "a": True})
    expected = (
        '{"action":"auth.login.success","actor":"zoë","details":{"a":true,"b":1},"outcome":"success",'
        f'"prev_hash":"{GENESIS_HASH}","seq":1,"target":"console","time":"2026-03-01T12:00:00.000000Z"}}'
    )
    assert canonical_bytes(event) == expected.encode("utf-8")
    assert event.hash == hashlib.sha256(GENESIS_HASH.encode() + expected.encode("utf-8")).hexdigest()


def test_append_links_each_event_to_the_previous_one() -> None:
    events = make_events(4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))


def test_happy_path_verifies_with_and_without_anchor() -> None:
    events = make_events(5)
    plain, anchored = verify(events), verify(events, _head(events))
    assert plain.ok and anchored.ok
    assert plain.checked == 5 and plain.head == _head(events)
    require_ok(anchored)


def test_empty_log_is_ok_but_truncated_against_an_anchor() -> None:
    assert verify([]).ok
    result = verify([], Anchor(2, "a" * 64))
    assert (result.position, result.reason) == (1, BreakReason.TRUNCATED)


def test_chain_resumes_from_a_head() -> None:
    first = make_events(3)
    chain = AuditChain(clock=ticking_clock(), head=_head(first))
    more = [*first, chain.append("carol", "agent.enroll", "host/db-1", "success")]
    assert verify(more).ok and more[-1].seq == 4


def test_edited_field_breaks_at_that_entry() -> None:
    events = make_events(5)
    events[2] = replace(events[2], actor="mallory")
    result = verify(events)
    assert (result.position, result.reason, result.checked) == (3, BreakReason.EDITED, 2)
    assert result.head == _head(events[:2])


def test_edited_and_rehashed_entry_breaks_the_next_link() -> None:
    events = make_events(5)
    forged = replace(events[2], target="host/other")
    events[2] = replace(forged, hash=event_hash(forged))
    result = verify(events)
    assert (result.position, result.reason) == (4, BreakReason.LINK)


def test_deleted_entry_is_a_gap_at_its_position() -> None:
    events = make_events(5)
    del events[1]
    result = verify(events)
    assert (result.position, result.reason) == (2, BreakReason.GAP)
    assert "expected seq 2, found seq 3" in result.detail


def test_deleted_first_entry_breaks_at_position_one() -> None:
    result = verify(make_events(3)[1:])
    assert (result.position, result.reason) == (1, BreakReason.GAP)


def test_swapped_entries_are_reported_as_reordered() -> None:
    events = make_events(5)
    events[1], events[2] = events[2], events[1]
    result = verify(events)
    assert (result.position, result.reason) == (2, BreakReason.REORDERED)


def test_repeated_entry_is_reordered() -> None:
    events = make_events(3)
    result = verify([events[0], events[1], events[1], events[2]])
    assert (result.position, result.reason) == (3, BreakReason.REORDERED)


def test_swap_with_renumbered_seqs_is_caught_by_the_hashes() -> None:
    events = make_events(4)
    a, b = events[1], events[2]
    events[1], events[2] = replace(b, seq=2), replace(a, seq=3)
    result = verify(events)
    assert (result.position, result.reason) == (2, BreakReason.EDITED)


def test_truncated_tail_needs_an_anchor() -> None:
    events = make_events(5)
    anchor = _head(events)
    without = verify(events[:3])
    assert without.ok and without.head.seq == 3  # undetectable from the log alone
    result = verify(events[:3], anchor)
    assert (result.position, result.reason, result.checked) == (4, BreakReason.TRUNCATED, 3)


def test_changed_last_hash_differs_from_the_anchor() -> None:
    events = make_events(4)
    anchor = _head(events)
    rebuilt = AuditChain(clock=ticking_clock(), head=_head(events[:3]))
    rewritten = [*events[:3], rebuilt.append("mallory", "api.write", "agent/42", "success")]
    assert verify(rewritten).ok
    result = verify(rewritten, anchor)
    assert (result.position, result.reason) == (4, BreakReason.ANCHOR_MISMATCH)


def test_last_entry_with_a_bad_hash_is_edited() -> None:
    events = make_events(3)
    events[-1] = replace(events[-1], hash="f" * 64)
    result = verify(events)
    assert (result.position, result.reason) == (3, BreakReason.EDITED)


def test_anchor_older_than_the_head_still_pins_its_entry() -> None:
    events = make_events(6)
    assert verify(events, _head(events[:4])).ok
    result = verify(events, Anchor(4, "e" * 64))
    assert (result.position, result.reason) == (4, BreakReason.ANCHOR_MISMATCH)


def test_require_ok_raises_with_the_position() -> None:
    events = make_events(3)
    del events[1]
    with pytest.raises(AuditError, match="position 2"):
        require_ok(verify(events))


def test_anchor_rejects_bad_values() -> None:
    with pytest.raises(AuditError):
        Anchor(-1, GENESIS_HASH)
    with pytest.raises(AuditError):
        Anchor(1, "not-a-hash")


def test_signed_anchor_verifies_with_the_right_key() -> None:
    key = Ed25519PrivateKey.generate()
    anchor = _head(make_events(3))
    verify_anchor(anchor, sign_anchor(anchor, key), key.public_key())


def test_signed_anchor_rejects_a_forged_anchor_and_a_wrong_key() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    anchor = _head(make_events(3))
    signature = sign_anchor(anchor, key)
    with pytest.raises(AnchorSignatureError):
        verify_anchor(Anchor(anchor.seq, "0" * 63 + "1"), signature, key.public_key())
    with pytest.raises(AnchorSignatureError):
        verify_anchor(Anchor(anchor.seq - 1, anchor.hash), signature, key.public_key())
    with pytest.raises(AnchorSignatureError):
        verify_anchor(anchor, signature, other.public_key())
    with pytest.raises(AnchorSignatureError):
        verify_anchor(anchor, sign_anchor(anchor, other), key.public_key())
