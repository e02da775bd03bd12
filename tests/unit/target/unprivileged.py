"""Run a snippet of Python in a child that file permissions apply to, even when the suite runs as root.

As root the child runs under ``setpriv`` without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so an
unreadable directory really is unreadable; as another user it simply runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def run_unprivileged(code: str) -> str:
    """stdout of ``python -c code``; the snippet's failure fails the caller."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root's file capabilities"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    done = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
