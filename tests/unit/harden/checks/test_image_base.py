"""image_base: where the base image comes from, judged against trusted patterns (Docker Hub names expanded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks.image_base import CHECK, normalize, trusted
from rampart.harden.context import Context
from rampart.harden.imageview import ImageView
from rampart.harden.model import Outcome, Status
from rampart.image.target import open_image
from unit.harden.fixture_image import image_context, layer_tar, write_docker_save
from unit.harden.fixture_root import build_view

TRUSTED = ["docker.io/library/*", "registry.example.com/base/*"]
BASE = "org.opencontainers.image.base.name"


def _run(tmp_path: Path, image: dict[str, Any], **params: Any) -> Outcome:
    return CHECK.run({"trusted": TRUSTED, **params}, image_context(tmp_path, {"image": image}))


@pytest.mark.parametrize(
    ("reference", "full", "repository"),
    [
        ("debian", "docker.io/library/debian", "docker.io/library/debian"),
        ("debian:12", "docker.io/library/debian:12", "docker.io/library/debian"),
        ("index.docker.io/bitnami/redis:7", "docker.io/bitnami/redis:7", "docker.io/bitnami/redis"),
        ("user/app@sha256:ab", "docker.io/user/app@sha256:ab", "docker.io/user/app"),
        ("localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app"),
        ("Registry.Example.com/Base/x", "registry.example.com/base/x", "registry.example.com/base/x"),
    ],
)
def test_references_are_normalized(reference: str, full: str, repository: str) -> None:
    assert normalize(reference) == (full, repository)


def test_patterns_match_repositories_or_whole_references() -> None:
    assert trusted("debian:12", ["docker.io/library/*"])
    assert trusted("debian:12", ["debian"])
    assert not trusted("evil/debian:12", ["docker.io/library/*"])
    assert not trusted("docker.io.evil.example/library/debian", ["docker.io/library/*"])
    assert trusted("debian:12", ["debian:12"]) and not trusted("debian:11", ["debian:12"])
    assert not trusted("debian", [])


def test_the_label_then_the_annotation_names_the_base(tmp_path: Path) -> None:
    outcome = _run(tmp_path, {"config": {"Labels": {BASE: "registry.example.com/base/deb:12"}}})
    assert outcome.status is Status.PASS and "label" in outcome.evidence[0]
    outcome = _run(tmp_path, {"annotations": {BASE: "quay.io/someone/base:1"}})
    assert outcome.status is Status.FAIL and "manifest annotation" in outcome.evidence[0]
    both = {"config": {"Labels": {BASE: "debian:12"}}, "annotations": {BASE: "quay.io/x/y"}}
    assert _run(tmp_path, both).status is Status.PASS


def test_nothing_naming_the_base_is_manual_or_as_asked(tmp_path: Path) -> None:
    assert _run(tmp_path, {}).status is Status.MANUAL
    assert _run(tmp_path, {"config": {"Labels": {BASE: "  "}}}, unknown="fail").status is Status.FAIL
    assert _run(tmp_path, {"config": {"Labels": {BASE: 7}}}, unknown="na").status is Status.NA


def test_a_docker_save_tag_stands_for_the_image_itself(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "app.tar", layer_tar({}), {}, ["registry.example.com/base/app:1"])
    with open_image(path) as image:
        view = ImageView(image)
        assert view.references == ("registry.example.com/base/app:1",)
        outcome = CHECK.run({"trusted": TRUSTED}, Context(view))
    assert outcome.status is Status.PASS and "the image's own reference" in outcome.evidence[0]


def test_trusted_is_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trusted"):
        CHECK.run({}, image_context(tmp_path, {}))


def test_not_an_image_is_na(tmp_path: Path) -> None:
    assert CHECK.run({"trusted": []}, Context(build_view(tmp_path, {}))).status is Status.NA


def test_hostile_label_text_is_escaped(tmp_path: Path) -> None:
    outcome = _run(tmp_path, {"config": {"Labels": {BASE: "\x1b]0;pwned\x07" + "a" * 1000}}})
    assert outcome.status is Status.FAIL
    assert "\x1b" not in outcome.evidence[0] and len(outcome.evidence[0]) < 700
    assert json.dumps(outcome.evidence)
