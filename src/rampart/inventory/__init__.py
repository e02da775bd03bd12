"""Inventory extractors: facts about installed packages, one module per file format, listed in one table."""

from rampart.inventory.base import ExtractContext, Extractor
from rampart.inventory.collect import collect_inventory
from rampart.inventory.table import EXTRACTORS

__all__ = ["EXTRACTORS", "ExtractContext", "Extractor", "collect_inventory"]
