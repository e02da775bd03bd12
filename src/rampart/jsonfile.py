"""Reading a whole JSON document from a file with a size cap, as one-line errors of the caller's kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from rampart.errors import RampartError


def load_json_file(path: Path, max_bytes: int, error: type[RampartError], what: str) -> Any:
    """The parsed document; ``error("<path>: ...")`` when it cannot be read, is over the cap or is not JSON."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise error(f"{path}: {what} larger than {max_bytes} bytes")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON: {str(exc).splitlines()[0]}") from None
