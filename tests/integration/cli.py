"""Run the real ``rampart`` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def rampart(*args: str | Path, cache_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``rampart --cache-dir CACHE ARGS...`` with stdout piped (so output is plain JSON by default)."""
    env = {**os.environ, "RAMPART_CACHE_DIR": str(cache_dir), "COLUMNS": "160"}
    command = [sys.executable, "-m", "rampart", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)
