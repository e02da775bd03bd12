"""Global CLI settings shared by every command (cache directory, verbosity, output style)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typer


def default_cache_dir() -> Path:
    """``$RAMPART_CACHE_DIR``, else ``$XDG_CACHE_HOME/rampart``, else ``~/.cache/rampart``."""
    explicit = os.environ.get("RAMPART_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rampart"


@dataclass(frozen=True)
class Settings:
    """What the global options decided."""

    cache_dir: Path
    verbose: bool = False

    @property
    def database_path(self) -> Path:
        return self.cache_dir / "advisories.sqlite3"

    @property
    def interactive(self) -> bool:
        """True when stdout is a terminal (colour, tables, progress bars); False when piped."""
        return sys.stdout.isatty()


def settings_of(ctx: typer.Context) -> Settings:
    """The Settings the root callback stored on the context."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        return Settings(cache_dir=default_cache_dir())
    return root.obj
