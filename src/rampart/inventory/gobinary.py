"""The Go binary extractor: the Go toolchain (``stdlib``) and modules recorded in Go ELF executables.

``wants`` takes regular files with an execute bit and a plausible size; ``extract`` checks the ELF magic
(anything else is silently not a Go binary), finds ``.go.buildinfo`` and decodes it (``_gobuild``).
Decisions: versions drop the leading ``v`` (``v1.2.3`` -> ``1.2.3``, as OSV's Go ranges are written); the
toolchain version becomes semver (``go1.20`` -> ``1.20.0``, ``go1.21rc2`` -> ``1.21.0-rc.2``); a ``=>``
replacement stands for the module it replaces, with its own path and version; modules without a version
(the main module built as ``(devel)``, local-directory replacements) are not listed. Ecosystem ``Go``.
"""

from __future__ import annotations

import re

from rampart.inventory._elf import open_elf
from rampart.inventory._gobuild import BuildInfo, Module, read_build_info
from rampart.inventory.base import ExtractContext
from rampart.model import Package
from rampart.target.base import FileInfo, Target

MIN_SIZE = 64
# Endings of files that are never Go executables: passed over on their name, without a stat.
_NOT_BINARY = """
.py .pyc .pyo .pyi .pth .html .htm .rst .md .txt .gz .xz .bz2 .zst .zip .whl .jar .deb .h .hpp .c .cc .cpp .go
.s .json .js .mjs .cjs .ts .map .css .png .jpg .jpeg .gif .svg .ico .woff .woff2 .ttf .otf .yaml .yml .xml .toml
.ini .cfg .conf .mo .po .pom .beam .vim .pl .pm .rb .tcl .cmake .decTest .md5sums .list .a .o .la .pc .sh .bash
"""
NOT_BINARY_SUFFIXES = frozenset(_NOT_BINARY.split())
# Any file name that does not end in one of those (a leading dot is not an ending).
_ENDINGS = "|".join(re.escape(suffix) for suffix in sorted(NOT_BINARY_SUFFIXES))
NAME_PATTERN = rf"(?!.+(?:{_ENDINGS})$).+"
MAX_SIZE = 2 * 1024 * 1024 * 1024
_GO_VERSION = re.compile(r"^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def stdlib_version(go_version: str) -> str | None:
    """``go1.20.3`` -> ``1.20.3``; ``go1.20`` -> ``1.20.0``; None for a devel or unknown toolchain."""
    words = go_version.split()
    match = _GO_VERSION.match(words[0]) if words else None
    if match is None:
        return None
    major, minor, patch, pre, number = match.groups()
    version = f"{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{number}" if pre else version


def _module_version(module: Module) -> str | None:
    version = module.version
    if not version or version == "(devel)":
        return None
    return version.removeprefix("v")


class GoBinaryExtractor:
    """Reads the module build info of Go executables."""

    name = "gobinary"

    directory_pattern = r".*"
    name_pattern = NAME_PATTERN

    def wants(self, info: FileInfo) -> bool:
        return bool(info.mode & 0o111) and MIN_SIZE <= info.size <= MAX_SIZE

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        with target.open(info.path) as handle:
            elf = open_elf(handle)
            build = read_build_info(elf) if elf is not None else None
        return [] if build is None else self._packages(build, "/" + info.path)

    def _packages(self, build: BuildInfo, location: str) -> list[Package]:
        packages: list[Package] = []
        stdlib = stdlib_version(build.go_version)
        if stdlib is not None:
            packages.append(Package("stdlib", stdlib, "Go", location, self.name))
        modules = (build.main, *build.deps) if build.main is not None else build.deps
        for module in modules:
            version = _module_version(module)
            if version is not None:
                packages.append(Package(module.path, version, "Go", location, self.name))
        return packages
