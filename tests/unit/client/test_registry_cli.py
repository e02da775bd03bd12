"""``rampart registries`` and ``rampart images`` through the real root app, with the ApiClient double injected:
arguments reach the client, JSON when piped, tables on request, escaping, exit statuses."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rampart.client.models import RegistryScan, RepositoryScan
from rampart.errors import ApiError, RampartError, UsageError
from unit.client.fake import SECRET, FakeApi
from unit.client.samples import IMAGE_A, IMAGE_EVIL, scan_json
from unit.client.test_cli import as_json, run

REFERENCE = "127.0.0.1:5000/team/app:1.0"


def _table(fake: FakeApi, args: list[str]) -> str:
    result = run(fake, [*args, "--format", "table"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "\x1b" not in result.stdout and SECRET not in result.stdout
    return str(result.stdout)


# --- registries --------------------------------------------------------------------------------


def test_registries_add_passes_every_option() -> None:
    fake = FakeApi()
    document = as_json(
        run(fake, ["registries", "add", "local", "127.0.0.1:5000", "--insecure", "--platform", "linux/arm64"])
    )
    assert fake.called("add_registry") == [
        (("local", "127.0.0.1:5000"), {"insecure": True, "platform": "linux/arm64"})
    ]
    assert document["name"] == "local" and document["insecure"] is True and document["repositories"] == []
    text = _table(FakeApi(), ["registries", "add", "hub", "registry.example.org"])
    assert text == "added registry hub (registry.example.org)\n"


def test_registries_add_refused_by_the_server() -> None:
    fake = FakeApi(fail={"add_registry": ApiError(409, "server said 409: registry local exists")})
    result = run(fake, ["registries", "add", "local", "h"])
    assert isinstance(result.exception, ApiError) and result.exception.message.endswith("local exists")
    assert fake.closed == 1


def test_registries_list_json_and_table() -> None:
    registries = as_json(run(FakeApi(), ["registries", "list"]))
    assert [r["name"] for r in registries] == ["local", "hub\x1b[31m"]
    assert registries[0]["repositories"][0]["tags"] == ["1.*", "latest"]
    text = _table(FakeApi(), ["registries", "list"])
    assert "127.0.0.1:5000 (plain HTTP)" in text and "team/app" in text and "1.*, latest" in text
    assert "hub\\x1b[31m" in text and "none yet" in text and "linux/amd64" in text
    assert "2 registries, 1 repositories" in text


def test_registries_remove_needs_yes_without_a_terminal() -> None:
    fake = FakeApi()
    refused = run(fake, ["registries", "remove", "local"])
    assert isinstance(refused.exception, UsageError) and not fake.called("remove_registry")
    done = run(fake, ["registries", "remove", "local", "--yes"])
    assert done.exit_code == 0 and done.stdout == "removed registry local\n"
    assert fake.called("remove_registry") == [(("local",), {})]


def test_registries_add_repository_defaults_to_every_tag() -> None:
    fake = FakeApi()
    document = as_json(run(fake, ["registries", "add-repository", "local", "team/app"]))
    assert fake.called("add_repository") == [(("local", "team/app", ["*"]), {})]
    assert document["tags"] == ["*"] and document["polled_at"] is None
    run(fake, ["registries", "add-repository", "local", "team/app", "--tag", "1.*", "-t", "latest"])
    assert fake.called("add_repository")[-1] == (("local", "team/app", ["1.*", "latest"]), {})
    text = _table(FakeApi(), ["registries", "add-repository", "local", "team/app", "--tag", "v*"])
    assert text == "added repository team/app to local (tags v*)\n"


def test_registries_remove_repository() -> None:
    fake = FakeApi()
    assert isinstance(
        run(fake, ["registries", "remove-repository", "local", "team/app"]).exception, UsageError
    )
    result = run(fake, ["registries", "remove-repository", "local", "team/app", "-y"])
    assert result.exit_code == 0 and result.stdout == "removed repository team/app from local\n"
    assert fake.called("remove_repository") == [(("local", "team/app"), {})]


def test_registries_scan_prints_each_repository_and_succeeds() -> None:
    fake = FakeApi()
    document = as_json(run(fake, ["registries", "scan", "local", "--repository", "team/app"]))
    assert fake.called("scan_registry") == [(("local", "team/app"), {})]
    assert document == {
        "repositories": [
            {
                "registry": "local",
                "repository": "team/app",
                "tags": 3,
                "scanned": 1,
                "unchanged": 2,
                "removed": 1,
                "failed": 0,
                "errors": [],
            }
        ]
    }
    run(fake, ["registries", "scan", "local"])
    assert fake.called("scan_registry")[-1] == (("local", None), {})
    text = _table(FakeApi(), ["registries", "scan", "local"])
    header = next(line for line in text.splitlines() if "Repository" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "Repository",
        "Tags",
        "Scanned",
        "Unchanged",
        "Removed",
        "Failed",
    ]
    row = next(line for line in text.splitlines() if "local/team/app" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == ["local/team/app", "3", "1", "2", "1", "0"]
    assert "1 repositories polled, 0 with failures" in text


def _failing_scan() -> RegistryScan:
    return RegistryScan(
        (
            RepositoryScan.from_json(scan_json()),
            RepositoryScan.from_json(
                scan_json(
                    repository="base",
                    failed=2,
                    errors=["1.0: manifest unknown", "1.1: layer too large\x1b[2J"],
                )
            ),
        )
    )


@pytest.mark.parametrize("output", ["json", "table"])
def test_registries_scan_exits_1_when_a_repository_failed(output: str) -> None:
    fake = FakeApi(scan_result=_failing_scan())
    result = run(fake, ["registries", "scan", "local", "--format", output])
    assert result.exit_code == 1 and not isinstance(result.exception, RampartError)
    if output == "json":
        assert json.loads(result.stdout)["repositories"][1]["failed"] == 2
    else:
        assert "error: local/base: 1.0: manifest unknown" in result.stdout
        assert "error: local/base: 1.1: layer too large\\x1b[2J" in result.stdout
        assert "\x1b" not in result.stdout and "2 repositories polled, 1 with failures" in result.stdout


def test_registries_scan_errors_alone_count_as_a_failure() -> None:
    scan = RegistryScan((RepositoryScan.from_json(scan_json(tags=0, errors=["listing tags: 401"])),))
    assert run(FakeApi(scan_result=scan), ["registries", "scan", "local"]).exit_code == 1


def test_registries_scan_refused_by_the_server_is_an_error_not_a_failure() -> None:
    fake = FakeApi(fail={"scan_registry": ApiError(403, "server said 403: operator role required")})
    result = run(fake, ["registries", "scan", "local"])
    assert isinstance(result.exception, ApiError) and result.exception.exit_code == 2


# --- images ------------------------------------------------------------------------------------


def test_images_list_json_passes_the_registry() -> None:
    fake = FakeApi()
    images = as_json(run(fake, ["images", "list", "--registry", "local"]))
    assert fake.called("images") == [((), {"registry": "local"})]
    assert [i["id"] for i in images] == [IMAGE_A, IMAGE_EVIL]
    assert images[0]["open"] == {"CRITICAL": 1, "HIGH": 2}


def test_images_list_table() -> None:
    text = _table(FakeApi(), ["images", "list"])
    assert REFERENCE in text and "ab12cd34ef56" in text and "ab12cd34ef560" not in text
    assert "Alpine Linux v3.19" in text and "1 CRITICAL, 2 HIGH" in text
    assert "evil\\x1b[2J" in text and "manifest unknown\\x1b]0;pwned\\x07" in text
    assert "never" in text and "none" in text and "2 images, 1 with errors" in text


def test_images_show_resolves_a_reference() -> None:
    fake = FakeApi()
    document = as_json(run(fake, ["images", "show", REFERENCE]))
    assert fake.called("images") == [((), {"reference": REFERENCE})]
    assert fake.called("image") == [((IMAGE_A,), {})] and fake.called("image_packages") == [((IMAGE_A,), {})]
    assert document["image"]["reference"] == REFERENCE
    assert [p["name"] for p in document["packages"]] == ["libcrypto3", "requests"]


def test_images_show_takes_an_id_without_a_lookup() -> None:
    fake = FakeApi()
    text = _table(fake, ["images", "show", IMAGE_A])
    assert not fake.called("images") and fake.called("image") == [((IMAGE_A,), {})]
    for expected in ("reference", REFERENCE, "ab12cd34ef56", "9f8e7d6c5b4a", "libcrypto3", "openssl"):
        assert expected in text
    package_row = next(line for line in text.splitlines() if "libcrypto3" in line)
    assert "9f8e7d6c5b4a" in package_row and "lib/apk/db/installed" in package_row
    assert "2 packages" in text


def test_images_show_unknown_reference() -> None:
    fake = FakeApi()
    result = run(fake, ["images", "show", "127.0.0.1:5000/team/app:nope"])
    assert isinstance(result.exception, UsageError) and "no image with reference" in result.exception.message
    assert not fake.called("image")


def test_images_show_ambiguous_reference() -> None:
    fake = FakeApi()
    fake.images_list = [*fake.images_list, fake.images_list[0]]
    result = run(fake, ["images", "show", REFERENCE])
    assert isinstance(result.exception, UsageError) and "use an id" in result.exception.message


def test_images_findings_builds_the_query() -> None:
    fake = FakeApi()
    args = ["images", "findings", "--image", REFERENCE, "--registry", "local", "-s", "high,critical"]
    args += ["--package", "libcrypto3", "--advisory", "CVE-2024-0727", "--no-fixable", "--status", "all"]
    findings = as_json(run(fake, args))
    (query,), _ = fake.called("image_findings")[0]
    assert query.params() == [
        ("status", "all"),
        ("severity", "HIGH,CRITICAL"),
        ("image", REFERENCE),
        ("registry", "local"),
        ("package", "libcrypto3"),
        ("advisory", "CVE-2024-0727"),
        ("fixable", "false"),
    ]
    assert len(findings) == 3 and findings[0]["layer"].startswith("sha256:9f8e7d6c5b4a")
    run(fake, ["images", "findings", "--fixable"])
    (query,), _ = fake.called("image_findings")[-1]
    assert query.fixable is True and query.status == "open"
    run(fake, ["images", "findings"])
    (query,), _ = fake.called("image_findings")[-1]
    assert query.fixable is None


def test_images_findings_rejects_an_unknown_severity() -> None:
    result = run(FakeApi(), ["images", "findings", "-s", "SEVERE"])
    assert isinstance(result.exception, UsageError) and "SEVERE" in result.exception.message


def test_images_findings_table_is_worst_first() -> None:
    text = _table(FakeApi(), ["images", "findings"])
    header = next(line for line in text.splitlines() if "Vulnerability" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "Image",
        "Package",
        "Version",
        "Layer",
        "Vulnerability",
        "Severity",
        "Fixed in",
        "Status",
    ]
    severities = [s for line in text.splitlines() for s in ("CRITICAL", "HIGH", "MEDIUM") if f" {s} " in line]
    assert severities[:3] == ["CRITICAL", "HIGH", "MEDIUM"]
    assert "9f8e7d6c5b4a" in text and "unfixed" in text and "evil\\x1b[2J" in text
    assert "Total: 3 (CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0); 2 fixable" in text


def test_images_findings_csv_is_spreadsheet_safe() -> None:
    result = run(FakeApi(), ["images", "findings", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:6] == ["image_id", "reference", "ecosystem", "package", "version", "layer"]
    assert len(rows) == 4 and rows[1][0] == IMAGE_A
    assert rows[3][3] == '\'=HYPERLINK("http://x")' and "\x1b" not in result.stdout
    assert b"\r\n" in result.stdout_bytes


# --- the fleet summary with images -------------------------------------------------------------


def test_findings_summary_shows_images_beside_hosts() -> None:
    document = as_json(run(FakeApi(), ["findings", "summary"]))
    assert (document["hosts"], document["images"], document["images_fixable"]) == (3, 2, 1)
    assert document["images_open"] == {"HIGH": 2, "LOW": 1}
    text = _table(FakeApi(), ["findings", "summary"])
    rows = {
        cells[0]: cells[1:]
        for line in text.splitlines()
        if line.startswith("│")
        for cells in [[c.strip() for c in line.strip("│ ").split("│")]]
    }
    assert rows["hosts"] == ["3", "1", "1", "1", "1", "0", "3"]
    assert rows["images"] == ["2", "0", "2", "0", "1", "0", "1"]


def test_the_scan_spinner_shows_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from rampart.cli.registries import _waiting

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _waiting("scanning local"):
        pass
    assert "scanning local" in terminal.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with _waiting("scanning local"):
        pass
    assert piped.getvalue() == ""
