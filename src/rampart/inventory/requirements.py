"""The requirements extractor: exact pins (``name==version``) from ``requirements*.txt`` files anywhere.

Each logical line (backslash continuations joined, comments dropped) is read with ``packaging``'s
requirement parser. Only a requirement whose one specifier is ``==`` with a plain version is a package;
everything else (ranges, unpinned names, ``-r``/``-c``/``-e`` and other options, ``--hash`` options,
URLs and ``name @ url``) reports nothing. Environment markers are not evaluated: the pin is reported.
A line that looks like a pin but does not parse is a per-line error; the rest of the file is used.
Names are PEP 503 normalised; ecosystem ``PyPI``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.requirements import InvalidRequirement, Requirement

from rampart.errors import ParseError
from rampart.inventory.base import ExtractContext
from rampart.inventory.python import normalize_name
from rampart.model import Package
from rampart.target.base import FileInfo, Target

MAX_SIZE = 8 * 1024 * 1024
_NAME = re.compile(r"(?i:requirements[^/]*\.txt)")
_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION = re.compile(r"\s--?[A-Za-z].*$")
_VERSION = re.compile(r"^[A-Za-z0-9.+!_-]{1,128}\Z")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with continuations joined and comments and trailing options removed."""
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        start = start or number
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        yield start, _OPTION.sub("", " " + buffer + line).strip()
        buffer, start = "", 0
    if buffer:
        yield start, _OPTION.sub("", " " + buffer).strip()


def pinned(line: str) -> tuple[str, str] | None:
    """(normalised name, version) of an exact ``==`` pin; None for anything else; ParseError if broken."""
    if not line or line.startswith("-") or "://" in line:
        return None
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        if "==" in line:
            raise ParseError(f"invalid requirement: {str(exc).splitlines()[0][:200]}") from None
        return None
    specifiers = list(requirement.specifier)
    if requirement.url or len(specifiers) != 1 or specifiers[0].operator != "==":
        return None
    version = specifiers[0].version
    if "*" in version or not _VERSION.match(version):
        return None
    return normalize_name(requirement.name), version


class RequirementsExtractor:
    """Reads exact pins from pip requirements files."""

    name = "requirements"
    directory_pattern = r".*"
    name_pattern = _NAME.pattern

    def wants(self, info: FileInfo) -> bool:
        return _NAME.fullmatch(info.path.rpartition("/")[2]) is not None

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        data = target.read_bytes(info.path, MAX_SIZE)
        if b"\x00" in data:
            raise ParseError("requirements file holds binary data")
        found: dict[tuple[str, str], Package] = {}
        for number, line in logical_lines(data.decode("utf-8", errors="replace")):
            try:
                pin = pinned(line)
            except ParseError as exc:
                context.add_error(info.path, f"{self.name}: line {number}: {exc.message}")
                continue
            if pin is not None:
                found.setdefault(pin, Package(pin[0], pin[1], "PyPI", "/" + info.path, self.name))
        return list(found.values())
