"""A hand-made HardenReport covering every part of the harden reports, shared by their tests.

Three sections, every status, every severity, and hostile evidence: an ANSI escape, a bidi override, a
newline that tries to forge a row, an XML-illegal control character, an HTML ``<script>``, and a file name
that is not UTF-8 (a surrogate from ``surrogateescape``).
"""

from __future__ import annotations

import os
from pathlib import Path

from rampart.harden.model import HardenReport, Level, RuleResult, Status

GOLDEN = Path(__file__).parent / "golden"
ANSI = "/etc/motd: contains \x1b[2J\x1b[31mred"
BIDI = "/etc/issue\u202etxt.exe: banner names the OS"
FORGED = "/etc/ssh/sshd_config:3: PermitRootLogin yes\nFAIL fake.rule forged line"
XML_ILLEGAL = "/etc/login.defs:7: PASS_MAX_DAYS 99999\x01\x0b"
SCRIPT = "/etc/hosts.allow: <script>alert('x')</script> & \"quoted\""
UNDECODABLE = "/etc/cron.d/\udcffjob: mode 0666 (allowed at most 0600)"
HOSTILE = (ANSI, BIDI, FORGED, XML_ILLEGAL, SCRIPT, UNDECODABLE)


def _result(
    rule: str,
    section: str,
    status: Status,
    severity: Level,
    *evidence: str,
    title: str = "",
    cis: tuple[str, ...] = ("1.1.1",),
    reason: str = "",
    remediation: str = "",
    references: tuple[str, ...] = (),
    fixable: bool = False,
) -> RuleResult:
    return RuleResult(
        rule,
        title or f"Title of {rule}",
        section,
        cis,
        status,
        severity,
        evidence,
        reason,
        remediation,
        references,
        fixable,
    )


FS = "1.1 Filesystem"
SSH = "5.1 SSH server"
ACCOUNTS = "5.4 User accounts & <environment>"


def sample_results() -> tuple[RuleResult, ...]:
    return (
        _result(
            "fs.tmp-separate", FS, Status.PASS, Level.LOW, "/tmp: separate mount (tmpfs)", cis=("1.1.2.1.1",)
        ),
        _result(
            "fs.tmp-noexec",
            FS,
            Status.NA,
            Level.MEDIUM,
            cis=("1.1.2.1.4",),
            reason="/tmp is not a separate partition",
            remediation="Mount /tmp with noexec.",
        ),
        _result(
            "fs.cron-perms",
            FS,
            Status.FAIL,
            Level.HIGH,
            UNDECODABLE,
            ANSI,
            BIDI,
            "/etc/cron.daily: mode 0755 (allowed at most 0700)",
            "/etc/cron.hourly: mode 0755 (allowed at most 0700)",
            "/etc/cron.weekly: mode 0755 (allowed at most 0700)",
            "/etc/cron.monthly: mode 0755 (allowed at most 0700)",
            cis=("2.4.1.2", "2.4.1.3"),
            title="Cron directories are private to root",
            remediation="chmod og-rwx /etc/cron.d /etc/cron.daily\nchown root:root /etc/cron.d",
            references=("file_permissions_cron_d",),
            fixable=True,
        ),
        _result(
            "ssh.permit-root-login",
            SSH,
            Status.FAIL,
            Level.CRITICAL,
            FORGED,
            SCRIPT,
            cis=("5.1.20",),
            title="Root cannot log in over SSH",
            remediation="Set PermitRootLogin no in /etc/ssh/sshd_config.d/00-rampart.conf.",
            references=("sshd_disable_root_login",),
            fixable=True,
        ),
        _result(
            "ssh.max-auth-tries",
            SSH,
            Status.PASS,
            Level.MEDIUM,
            "/etc/ssh/sshd_config:12: MaxAuthTries 3",
            cis=("5.1.16",),
        ),
        _result(
            "ssh.banner",
            SSH,
            Status.ERROR,
            Level.LOW,
            XML_ILLEGAL,
            cis=("5.1.5",),
            reason="cannot read /etc/ssh/sshd_config.d/\x1b[0mx.conf: permission denied",
        ),
        _result(
            "acct.password-max-days",
            ACCOUNTS,
            Status.FAIL,
            Level.MEDIUM,
            "no file path in this evidence: PASS_MAX_DAYS unset (default 99999)",
            cis=("5.4.1.1",),
            remediation='Set PASS_MAX_DAYS 365 in /etc/login.defs & run "chage --maxdays 365 <user>".',
        ),
        _result(
            "acct.review-users",
            ACCOUNTS,
            Status.MANUAL,
            Level.INFO,
            cis=(),
            reason="review the list of interactive users by hand",
        ),
        _result("acct.root-gid", ACCOUNTS, Status.PASS, Level.HIGH, "root: gid 0", cis=("5.4.2.3",)),
    )


def sample_report() -> HardenReport:
    return HardenReport(
        target="/srv/rootfs\x1b[1m",
        target_kind="rootfs",
        profile="debian12-l1-server",
        profile_title="Debian 12 Level 1 server (CIS-style)",
        benchmark="debian12",
        results=sample_results(),
        started="2026-11-28T12:00:00+00:00",
        duration_seconds=1.234,
        warnings=("tailoring drops 2 rules\u202e<b>", "runtime not checked (offline target)"),
    )


def empty_report() -> HardenReport:
    return HardenReport("/", "host", "empty", "Empty", "debian12", (), "2026-11-28T12:00:00+00:00", 0.0)


def golden(name: str, text: str) -> None:
    """``text`` equals the golden file ``name``; ``RAMPART_UPDATE_GOLDEN=1`` rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
