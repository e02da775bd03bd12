"""A YAML loader for OSV records: safe types only, no anchors/aliases, timestamps kept as text.

Aliases are refused because a few kilobytes of them can expand into an enormous object graph
("billion laughs"); OSV records never need them. Timestamps stay strings so that ``modified``
reads the same from YAML as from JSON.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent


class YamlRejected(Exception):
    """The document is not YAML rampart is willing to read."""


class _RecordLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            raise YamlRejected("YAML aliases are not allowed in advisory records")
        return super().compose_node(parent, index)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_RecordLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_yaml(raw: bytes) -> object:
    """Parse one YAML document; raises `YamlRejected` on any syntax or safety problem."""
    try:
        return yaml.load(raw, Loader=_RecordLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        raise YamlRejected(str(error).split("\n", 1)[0]) from None
