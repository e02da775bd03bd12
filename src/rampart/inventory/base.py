"""The Extractor protocol every inventory extractor implements, and the ExtractContext it is given.

An extractor owns one file format. ``wants`` is asked about every file of the target, so it must decide
cheaply from the path (and mode/size) alone; ``extract`` parses the file and returns the packages it lists,
raising ParseError/LimitExceeded (or OSError) for a file it cannot read. Problems in part of a file that
do not stop the rest being used (one malformed dpkg stanza) go to ``ExtractContext.add_error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rampart.model import FileError, OsRelease, Package
from rampart.target.base import FileInfo, Target


@dataclass
class ExtractContext:
    """What every extractor may know about the target: its OS (read before the walk), and an error sink."""

    os: OsRelease | None = None
    errors: list[FileError] = field(default_factory=list)

    def add_error(self, path: str, message: str) -> None:
        """Record a problem in part of a file (``path`` relative to the root, without leading '/')."""
        self.errors.append(FileError(location(path), message))


class Extractor(Protocol):
    """One file format's reader."""

    @property
    def name(self) -> str: ...

    @property
    def directory_pattern(self) -> str:
        """A regular expression every directory (relative path, '' for the root) holding a wanted file matches."""
        ...

    @property
    def name_pattern(self) -> str:
        """A regular expression the name of every file this extractor may want matches in full.

        The walk passes over files whose directory and name do not both match without asking ``wants``
        (or stat'ing them): together the two patterns are a cheap superset of what ``wants`` accepts.
        """
        ...

    def wants(self, info: FileInfo) -> bool:
        """Whether this file, whose directory and name matched the patterns, is one this extractor reads."""
        ...

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        """The packages this file lists; raises ParseError or LimitExceeded for a bad file."""
        ...


def location(path: str) -> str:
    """A target-relative path as reported in packages and errors: with a leading '/'."""
    return "/" + path.lstrip("/")
