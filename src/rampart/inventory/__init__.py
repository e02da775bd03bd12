"""Inventory extractors: facts about installed packages, one module per file format, listed in one table."""
