"""The extractor table lists every extractor module's extractor, and nothing is registered by side effect."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import rampart.inventory
from rampart.inventory.table import EXTRACTORS

# Modules of the inventory package that are machinery, not file formats (``_*`` modules are helpers).
INFRASTRUCTURE = {"base", "table", "collect", "extract", "parallel", "osrelease"}


def _extractor_modules() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(rampart.inventory.__path__)]
    return sorted(n for n in names if n not in INFRASTRUCTURE and not n.startswith("_"))


def _is_extractor_class(obj: object) -> bool:
    return inspect.isclass(obj) and all(hasattr(obj, a) for a in ("name", "wants", "extract"))


def test_every_extractor_module_is_in_the_table() -> None:
    listed = {type(e).__module__ for e in EXTRACTORS}
    for name in _extractor_modules():
        assert f"rampart.inventory.{name}" in listed, (
            f"extractor module {name} is missing from inventory/table.py"
        )


def test_every_extractor_class_is_in_the_table() -> None:
    listed = {type(e) for e in EXTRACTORS}
    for name in [m.name for m in pkgutil.iter_modules(rampart.inventory.__path__)]:
        module = importlib.import_module(f"rampart.inventory.{name}")
        for _, obj in inspect.getmembers(module, _is_extractor_class):
            if obj.__module__ == module.__name__ and not getattr(obj, "_is_protocol", False):
                assert obj in listed, f"{obj.__qualname__} is not in inventory/table.py"


def test_names_are_unique() -> None:
    names = [e.name for e in EXTRACTORS]
    assert len(names) == len(set(names)) and set(names) == {
        "dpkg",
        "apk",
        "rpm",
        "python",
        "npm",
        "gobinary",
        "java",
        "requirements",
        "poetry",
        "npm-lock",
    }
