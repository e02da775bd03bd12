"""The one table of inventory extractors: every extractor module's extractor is listed here, in run order.

``tests/unit/inventory/test_table.py`` fails when an extractor module exists that is not in this table.
"""

from __future__ import annotations

from rampart.inventory.apk import ApkExtractor
from rampart.inventory.base import Extractor
from rampart.inventory.dpkg import DpkgExtractor
from rampart.inventory.gobinary import GoBinaryExtractor
from rampart.inventory.java import JavaArchiveExtractor
from rampart.inventory.npm import NpmExtractor
from rampart.inventory.npmlock import NpmLockExtractor
from rampart.inventory.poetry import PoetryLockExtractor
from rampart.inventory.python import PythonExtractor
from rampart.inventory.requirements import RequirementsExtractor
from rampart.inventory.rpm import RpmExtractor

EXTRACTORS: tuple[Extractor, ...] = (
    DpkgExtractor(),
    ApkExtractor(),
    RpmExtractor(),
    PythonExtractor(),
    NpmExtractor(),
    GoBinaryExtractor(),
    JavaArchiveExtractor(),
    RequirementsExtractor(),
    PoetryLockExtractor(),
    NpmLockExtractor(),
)
