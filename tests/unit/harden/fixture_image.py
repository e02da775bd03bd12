"""Building an image target from a case's scenario: a real OCI layout (one layer tar) opened as an ImageView.

The scenario is fixture_root's (files, dirs, links, remove, packages, base), each entry's ``mode``, ``uid`` and
``gid`` recorded in the tar header, plus::

    image:
      config: {User: app, Env: ["PATH=/usr/bin"], Labels: {...}, Healthcheck: {Test: [...]}}   # config.*
      annotations: {org.opencontainers.image.base.name: docker.io/library/debian:12}        # manifest
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from rampart.harden.context import Context
from rampart.harden.imageview import ImageView
from rampart.image.target import open_image
from unit.harden.fixture_root import DEBIAN12_BASE, _dpkg_status, _entry
from unit.image.imagebuild import LAYER, MANIFEST, Layout, digest, write_tar

CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"


def _info(name: str, spec: dict[str, Any], kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = kind, int(spec.get("mode", mode))
    info.uid, info.gid = int(spec.get("uid", 0)), int(spec.get("gid", 0))
    return info


def scenario_files(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario's files with the base it starts from (what fixture_root writes to a directory)."""
    files: dict[str, Any] = dict(DEBIAN12_BASE) if scenario.get("base", "debian12") == "debian12" else {}
    for rel in scenario.get("remove", ()):
        files.pop(rel, None)
    files.update(scenario.get("files") or {})
    if "packages" in scenario:
        files["var/lib/dpkg/status"] = _dpkg_status(list(scenario["packages"]))
    return files


def layer_tar(scenario: dict[str, Any]) -> bytes:
    """One uncompressed layer holding the scenario's directories, files and links, owners and modes kept."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, spec in sorted((scenario.get("dirs") or {}).items()):
            tar.addfile(_info(rel, spec or {}, tarfile.DIRTYPE, 0o755))
        for rel, value in sorted(scenario_files(scenario).items()):
            spec = _entry(value)
            content = spec.get("content", "")
            data = content.encode() if isinstance(content, str) else bytes(content)
            info = _info(rel, spec, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for rel, target in sorted((scenario.get("links") or {}).items()):
            info = _info(rel, {"mode": 0o777}, tarfile.SYMTYPE, 0o777)
            info.linkname = target
            tar.addfile(info)
    return out.getvalue()


def config_document(layers: list[bytes], config: dict[str, Any]) -> bytes:
    document = {
        "os": "linux",
        "architecture": "amd64",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [digest(layer) for layer in layers]},
    }
    return json.dumps(document).encode()


def oci_layout(
    layers: list[bytes], config: dict[str, Any], annotations: dict[str, str] | None = None
) -> Layout:
    """The files of an OCI layout with one linux/amd64 image of ``layers`` (bottom first), in memory."""
    out = Layout()
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, **out.blob(config_document(layers, config))},
        "layers": [{"mediaType": LAYER, **out.blob(layer)} for layer in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    described = {"mediaType": MANIFEST, **out.blob(json.dumps(manifest).encode())}
    described["platform"] = {"os": "linux", "architecture": "amd64"}
    return out.index([described])


def write_oci_layout(root: Path, layer: bytes, config: dict[str, Any], annotations: dict[str, str]) -> Path:
    """An OCI layout directory at ``root`` with one linux/amd64 image of one layer."""
    return oci_layout([layer], config, annotations).write_dir(root)


def write_docker_save(path: Path, layer: bytes, config: dict[str, Any], tags: list[str]) -> Path:
    """A docker save tarball of one image tagged ``tags``."""
    document = config_document([layer], config)
    config_name = digest(document).split(":")[1] + ".json"
    entry = {"Config": config_name, "RepoTags": tags, "Layers": ["layer0/layer.tar"]}
    files = {config_name: document, "layer0/layer.tar": layer, "manifest.json": json.dumps([entry]).encode()}
    return write_tar(path, files)


def build_image_view(tmp_path: Path, scenario: dict[str, Any]) -> ImageView:
    """The scenario as an OCI layout directory (which holds no open file, so nothing needs closing)."""
    image = scenario.get("image") or {}
    (tmp_path / "layout").mkdir()
    layer, config = layer_tar(scenario), dict(image.get("config") or {})
    where = write_oci_layout(tmp_path / "layout", layer, config, dict(image.get("annotations") or {}))
    return ImageView(open_image(where), name=str(where))


def image_context(
    tmp_path: Path, scenario: dict[str, Any], variables: dict[str, Any] | None = None
) -> Context:
    """A context over the scenario as an image, built in a fresh folder under ``tmp_path`` (call it often)."""
    where = tmp_path / f"image{len(list(tmp_path.glob('image*')))}"
    where.mkdir()
    return Context(build_image_view(where, {"kind": "image", **scenario}), variables)
