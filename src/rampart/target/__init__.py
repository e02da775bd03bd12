"""Read-only filesystem views of scan targets: the live host, or a directory holding a root filesystem."""

from rampart.target.base import FileInfo, Target
from rampart.target.directory import DirectoryTarget
from rampart.target.factory import open_target
from rampart.target.host import HostTarget

__all__ = ["DirectoryTarget", "FileInfo", "HostTarget", "Target", "open_target"]
