"""Images written by tests: layer tars, OCI layouts, oci-archives and docker save tarballs, all in memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Entry = tuple[Any, ...]
"""("file", name, data[, mode]) | ("dir", name) | ("sym", name, target) | ("link", name, target) | ("fifo", name)"""

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def _info(entry: Entry) -> tuple[tarfile.TarInfo, bytes | None]:
    kind, name = entry[0], entry[1]
    info = tarfile.TarInfo(name)
    data = None
    if kind == "file":
        data = entry[2]
        info.size, info.mode = len(data), entry[3] if len(entry) > 3 else 0o644
    elif kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif kind in ("sym", "link"):
        info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
        info.linkname = entry[2]
    else:
        info.type = tarfile.FIFOTYPE
    return info, data


def layer(entries: Iterable[Entry]) -> bytes:
    """An uncompressed layer tar holding ``entries`` in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info, data = _info(entry)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


class Layout:
    """The files of an OCI layout, by path, built one blob at a time."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"oci-layout": _json({"imageLayoutVersion": "1.0.0"})}

    def blob(self, data: bytes, stored: bytes | None = None) -> dict[str, Any]:
        """Store ``data`` (or ``stored`` under ``data``'s name, to forge a bad blob); its descriptor."""
        name = digest(data)
        self.files["blobs/sha256/" + name.split(":")[1]] = data if stored is None else stored
        return {"digest": name, "size": len(data)}

    def image(self, layers: list[bytes], platform: str = "linux/amd64") -> dict[str, Any]:
        os_name, arch, *variant = platform.split("/")
        config = {"os": os_name, "architecture": arch, "rootfs": {"type": "layers", "diff_ids": []}}
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **self.blob(_json(config))},
            "layers": [{"mediaType": LAYER, **self.blob(data)} for data in layers],
        }
        described = {"mediaType": MANIFEST, **self.blob(_json(manifest))}
        described["platform"] = {"os": os_name, "architecture": arch}
        if variant:
            described["platform"]["variant"] = variant[0]
        return described

    def index(self, manifests: list[dict[str, Any]]) -> Layout:
        self.files["index.json"] = _json({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests})
        return self

    def write_dir(self, root: Path) -> Path:
        for name, data in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return root

    def write_tar(self, path: Path) -> Path:
        return write_tar(path, self.files)


def write_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def oci_image(layers: list[bytes]) -> Layout:
    """A layout with one linux/amd64 image of ``layers``."""
    out = Layout()
    return out.index([out.image(layers)])


def docker_save(
    path: Path,
    layers: list[bytes],
    stored: list[bytes] | None = None,
    tags: list[str] | None = None,
    copies: int = 1,
) -> Path:
    """A ``docker save`` tarball; ``stored`` gives each layer's file content (compressed, forged) if different.

    With ``copies`` above 1 the manifest lists the image that often more, tagged ``copy:N``.
    """
    diff_ids = [digest(data) for data in layers]
    config = _json(
        {"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    )
    config_name = digest(config).split(":")[1] + ".json"
    files = {config_name: config}
    paths = []
    for number, data in enumerate(stored or layers):
        paths.append(f"{number:064x}/layer.tar")
        files[paths[-1]] = data
    entry = {"Config": config_name, "RepoTags": tags or ["example/app:1"], "Layers": paths}
    more = [{**entry, "RepoTags": [f"copy:{n}"]} for n in range(1, copies)]
    files["manifest.json"] = _json([entry, *more])
    return write_tar(path, files)


def snapshot(root: Path) -> set[str]:
    """Every path under ``root`` (to check nothing was written there)."""
    return {str(p) for p in root.rglob("*")}
