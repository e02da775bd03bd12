"""Fleet tables: golden files, stale hosts highlighted, hostile server text escaped, relative times."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from rampart.report.fleet_table import (
    ago,
    render_findings,
    render_fleet_summary,
    render_host,
    render_host_summaries,
    render_hosts,
    until,
)
from unit.client.samples import (
    NOW,
    sample_findings,
    sample_fleet_summary,
    sample_host_summaries,
    sample_hosts,
)

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_hosts_table_matches_golden_file() -> None:
    _golden("fleet_hosts.txt", render_hosts(sample_hosts(), NOW, width=140))


def test_findings_table_matches_golden_file() -> None:
    _golden("fleet_findings.txt", render_findings(sample_findings(), width=140))


def test_summaries_match_golden_file() -> None:
    text = render_fleet_summary(sample_fleet_summary(), width=100) + render_host_summaries(
        sample_host_summaries(), width=100
    )
    _golden("fleet_summary.txt", text)


def test_host_detail_matches_golden_file() -> None:
    _golden("fleet_host.txt", render_host(sample_hosts()[2], NOW, width=100))


@pytest.mark.parametrize("color", [False, True])
def test_hostile_text_never_reaches_the_terminal(color: bool) -> None:
    texts = [
        render_hosts(sample_hosts(), NOW, width=200, color=color),
        render_findings(sample_findings(), width=200, color=color),
        render_host(sample_hosts()[2], NOW, width=200, color=color),
    ]
    for text in texts:
        assert "\x1b[2J" not in text and "\u202e" not in text
        assert "evil\\x1b[2J\\x0ahost" in text


def test_stale_hosts_stand_out_with_and_without_colour() -> None:
    plain = render_hosts(sample_hosts(), NOW)
    assert "stale (!)" in plain and "1 stale" in plain
    coloured = render_hosts(sample_hosts(), NOW, color=True)
    assert "\x1b[1;33m" in coloured  # bold yellow


def test_relative_times() -> None:
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(seconds=30), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5m ago"
    assert ago(NOW - timedelta(hours=3, minutes=5), NOW) == "3h ago"
    assert ago(NOW - timedelta(days=40), NOW) == "40d ago"
    assert ago(NOW + timedelta(hours=2), NOW) == "in 2h"  # a clock ahead of ours
    assert until(NOW + timedelta(hours=12), NOW) == "in 12h"
    assert until(NOW - timedelta(seconds=1), NOW) == "expired"
    assert until(NOW + timedelta(seconds=10), NOW) == "in <1m"


def test_empty_lists_render() -> None:
    assert "0 hosts, 0 stale" in render_hosts([], NOW)
    assert "Total: 0" in render_findings([])
