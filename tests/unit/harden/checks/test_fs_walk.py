"""The fs_walk check and the one shared walk: categories, bounded examples, one walk per run, hostile names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.facts import fswalk
from rampart.harden.model import Outcome, Status
from rampart.harden.view import EntryFilter, Stat, SystemView
from unit.harden.fixture_root import build_view


def run(context: Context, **params: Any) -> Outcome:
    return CHECKS["fs_walk"].run(params, context)


def context_for(tmp_path: Path, scenario: dict[str, Any]) -> Context:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Context(build_view(tmp_path, scenario))


def test_categories(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "srv/ww": {"content": "", "mode": 0o666},
            "usr/bin/s": {"content": "", "mode": 0o4755},
            "srv/nobody": {"content": "", "uid": 5555, "gid": 6666},
        },
        "dirs": {"tmp": {"mode": 0o1777}, "srv/open": {"mode": 0o777}},
        "links": {"srv/link": "/etc/passwd"},
    }
    facts = fswalk.walk_facts(context_for(tmp_path, scenario))
    assert facts.world_writable_files.examples == ["/srv/ww"]
    assert facts.world_writable_dirs.examples == ["/srv/open"]
    assert facts.suid_sgid.examples == ["/usr/bin/s"]
    assert facts.unowned is not None and facts.unowned.examples == ["/srv/nobody"]
    assert facts.ungrouped is not None and facts.ungrouped.examples == ["/srv/nobody"]


class CountingView:
    """A view whose walk yields many synthetic entries and counts how often it is walked."""

    def __init__(self, inner: SystemView, entries: int) -> None:
        self.inner, self.entries, self.walks = inner, entries, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def walk(self, keep: EntryFilter | None = None) -> Iterator[Stat]:
        self.walks += 1
        for index in range(self.entries):
            if keep is None or keep(0o100666, 0, 0):
                yield Stat(f"/data/f{index}", "file", 0o666, 0, 0)


def test_one_walk_for_every_rule_and_bounded_examples(tmp_path: Path) -> None:
    view = CountingView(build_view(tmp_path, {}), 5000)
    context = Context(view)  # type: ignore[arg-type]
    outcomes = [
        run(context, **{"assert": name})
        for name in (
            "world_writable_files",
            "world_writable_dirs_sticky",
            "unowned",
            "ungrouped",
            "suid_sgid",
        )
    ]
    assert view.walks == 1
    facts = fswalk.walk_facts(context)
    assert facts.world_writable_files.count == 5000
    assert len(facts.world_writable_files.examples) == fswalk.MAX_EXAMPLES
    assert outcomes[0].status is Status.FAIL
    assert "... and 4980 more" in outcomes[0].evidence
    assert len(outcomes[0].evidence) <= 22
    assert [outcome.status for outcome in outcomes[1:]] == [Status.PASS] * 4


def test_escape_sequences_in_file_names(tmp_path: Path) -> None:
    context = context_for(tmp_path, {"files": {"srv/\x1b[2Jx\x07": {"content": "", "mode": 0o666}}})
    outcome = run(context, **{"assert": "world_writable_files"})
    assert outcome.status is Status.FAIL
    assert "/srv/\x1b[2Jx\x07: world-writable file" in outcome.evidence  # kept raw: reporters escape


def test_passwd_without_valid_entries_makes_everything_unowned(tmp_path: Path) -> None:
    context = context_for(tmp_path, {"files": {"etc/passwd": "garbage\n"}})
    outcome = run(context, **{"assert": "unowned"})
    assert outcome.status is Status.FAIL
    assert "/etc/passwd: owner not in /etc/passwd" in outcome.evidence


def test_unowned_without_passwd_is_na(tmp_path: Path) -> None:
    context = context_for(tmp_path, {"remove": ["etc/passwd"]})
    assert run(context, **{"assert": "unowned"}).status is Status.NA
    assert run(context, **{"assert": "ungrouped"}).status is Status.PASS


def test_empty_target_is_na(tmp_path: Path) -> None:
    context = context_for(tmp_path, {"base": "none"})
    assert run(context, **{"assert": "world_writable_files"}).status is Status.NA


def test_suid_review_list_and_manual_mode(tmp_path: Path) -> None:
    context = context_for(
        tmp_path,
        {
            "files": {
                "usr/bin/su": {"content": "", "mode": 0o4755},
                "opt/x/helper": {"content": "", "mode": 0o2755},
            }
        },
    )
    assert (
        run(context, **{"assert": "suid_sgid", "allowed": ["/usr/bin/*", "/opt/*/helper"]}).status
        is Status.PASS
    )
    assert run(context, **{"assert": "suid_sgid", "allowed": ["/usr/bin/*"]}).status is Status.FAIL
    manual = run(context, **{"assert": "suid_sgid", "allowed": ["/usr/bin/*"], "unlisted": "manual"})
    assert manual.status is Status.MANUAL
    assert "/opt/x/helper: SUID/SGID file not in the reviewed list" in manual.evidence


def test_exclude(tmp_path: Path) -> None:
    context = context_for(tmp_path, {"files": {"srv/cache/a": {"content": "", "mode": 0o666}}})
    assert (
        run(context, **{"assert": "world_writable_files", "exclude": ["/srv/cache/*"]}).status is Status.PASS
    )
