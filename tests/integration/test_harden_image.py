"""rampart harden over an image: an oci-archive written here, the container-image profile evaluated through the
engine over open_view(path), each rule's status as the image deserves, and the planted secret nowhere in the
results."""

from __future__ import annotations

import dataclasses
import json

import pytest

from rampart.harden.engine import run_profile
from rampart.harden.model import HardenReport, Status
from rampart.harden.profiles import load_profile
from rampart.harden.ruleset import load_rules
from rampart.harden.targets import close_view, open_view
from unit.harden.fixture_image import layer_tar, oci_layout

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BASE = {
    "files": {
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\napp:x:10001:10001::/home/app:/usr/sbin/nologin\n",
        "etc/group": "root:x:0:\napp:x:10001:\n",
        "usr/bin/passwd": {"content": "\x7fELF", "mode": 0o4755},
        "usr/bin/ls": {"content": "\x7fELF", "mode": 0o755},
    },
}
APP = {
    "base": "none",
    "dirs": {"home/app": {"mode": 0o750, "uid": 10001, "gid": 10001}},
    "files": {
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4": "x" * 4096,
        "var/lib/apt/lists/lock": "",
        "home/app/server": {"content": "#!/bin/sh\n", "mode": 0o755, "uid": 10001, "gid": 10001},
    },
}
CONFIG = {
    "User": "app",
    "Env": [
        "PATH=/usr/local/bin:/usr/bin:/bin",
        f"AWS_SECRET_ACCESS_KEY={SECRET}",
        f"DEPLOY_ID={ACCESS_KEY_ID}",
    ],
    "Labels": {"org.opencontainers.image.base.name": "docker.io/library/debian:12-slim"},
    "Cmd": ["/home/app/server"],
}
EXPECTED = {
    "image.user": Status.PASS,
    "image.healthcheck": Status.FAIL,
    "image.secrets": Status.FAIL,
    "image.pkg-cache": Status.FAIL,
    "image.setuid": Status.MANUAL,
    "image.base-trusted": Status.PASS,
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> HardenReport:
    path = tmp_path_factory.mktemp("harden") / "app.oci.tar"
    oci_layout([layer_tar(BASE), layer_tar(APP)], CONFIG).write_tar(path)
    rules = load_rules()
    assert rules.errors == []
    view = open_view(str(path))
    try:
        return run_profile(load_profile("container-image", rules), view)
    finally:
        close_view(view)


def test_each_rule_gets_the_status_the_image_deserves(report: HardenReport) -> None:
    assert report.target_kind == "image" and report.benchmark == "docker"
    assert {result.rule: result.status for result in report.results} == EXPECTED


def test_the_evidence_names_what_was_found(report: HardenReport) -> None:
    evidence = {result.rule: " | ".join(result.evidence) for result in report.results}
    assert "uid 10001 (/etc/passwd:2)" in evidence["image.user"]
    assert "config.Env AWS_SECRET_ACCESS_KEY" in evidence["image.secrets"]
    assert "config.Env DEPLOY_ID: the value looks like an AWS access key id" in evidence["image.secrets"]
    assert (
        "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4: 1 file, 4.0 KiB"
        in evidence["image.pkg-cache"]
    )
    assert evidence["image.setuid"] == "/usr/bin/passwd: setuid, mode 4755, owner 0:0"
    cis = {result.rule: result.cis for result in report.results}
    assert cis["image.user"] == ("4.1",) and cis["image.setuid"] == ("4.8",)


def test_no_secret_value_appears_anywhere_in_the_results(report: HardenReport) -> None:
    text = json.dumps(dataclasses.asdict(report), default=str)
    assert SECRET not in text and SECRET[:10] not in text
    assert ACCESS_KEY_ID not in text
