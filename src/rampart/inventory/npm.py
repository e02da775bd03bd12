"""The npm extractor: installed packages from ``node_modules/<name>/package.json``.

Only the package.json directly inside a package directory (``node_modules/name`` or
``node_modules/@scope/name``) is read, at any depth of nested node_modules. Decisions:

* a package.json without a ``name`` or ``version`` is not an installed package (nested test fixtures,
  workspace stubs): it is skipped silently;
* one that is not JSON, not UTF-8, not an object, too deep, larger than ``MAX_SIZE``, or whose name or
  version is not a sane string is a per-file error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rampart.errors import ParseError
from rampart.inventory.base import ExtractContext
from rampart.model import Package
from rampart.target.base import FileInfo, Target

MAX_SIZE = 8 * 1024 * 1024
_NAME = re.compile(r"^(?=.{1,214}$)(?:@[a-z0-9][\w.~-]*/)?[a-z0-9_.~-][\w.~-]*$", re.IGNORECASE | re.ASCII)
_VERSION = re.compile(r"^[A-Za-z0-9.+_-]{1,256}$")


def _is_package_json(path: str) -> bool:
    parts = path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith((".", "@"))
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def _load(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ParseError("package.json is not valid UTF-8") from None
    except RecursionError:
        raise ParseError("package.json is nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"package.json is not valid JSON: {exc}") from None


def _field(document: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ParseError(f"package.json has an invalid {key!r}")
    return value


class NpmExtractor:
    """Reads the package.json of packages installed under node_modules."""

    name = "npm"
    directory_pattern = r"(?:.*/)?node_modules/.+"
    name_pattern = r"package\.json"

    def wants(self, info: FileInfo) -> bool:
        return (
            info.path.endswith("/package.json")
            and "node_modules/" in info.path
            and _is_package_json(info.path)
        )

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        document = _load(target.read_bytes(info.path, MAX_SIZE))
        if not isinstance(document, dict):
            raise ParseError("package.json is not a JSON object")
        name, version = _field(document, "name", _NAME), _field(document, "version", _VERSION)
        if name is None or version is None:
            return []
        return [Package(name, version, "npm", "/" + info.path, self.name)]
