"""File integrity test helpers: a small tree with a signed baseline of it, made as `rampart fim init` does."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rampart.agent.daemon import Agent, AgentSettings
from rampart.agent.identity import AgentIdentity
from rampart.fim import lifecycle
from rampart.fim.model import HashName
from rampart.fim.policy import BUILTIN_GROUPS, Policy, Rule
from rampart.fim.signing import generate_keypair, load_signer


@dataclass(frozen=True)
class FimHost:
    """A watched tree, its baseline (with acceptance log beside it) and the keys that signed it."""

    tree: Path
    baseline: Path
    signing_key: Path
    verify_key: Path


def make_fim_host(tmp_path: Path) -> FimHost:
    """A tree of two files and one directory, recorded in a baseline signed with a fresh key."""
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "tool").write_bytes(b"tool" * 100)
    (tree / "conf").write_text("setting = 1\n")
    keys = tmp_path / "keys"
    generate_keypair(keys / "fim.key", keys / "fim.pub")
    policy = Policy((Rule(os.fsencode(tree), BUILTIN_GROUPS["full"], "full"),), (), (), HashName.SHA256)
    baseline = tmp_path / "fim" / "baseline.rfim"
    baseline.parent.mkdir()
    lifecycle.init(baseline, policy, load_signer(keys / "fim.key"), workers=0, progress=None)
    return FimHost(tree, baseline, keys / "fim.key", keys / "fim.pub")


@contextmanager
def agent_factory(tmp_path: Path, host: FimHost, **defaults: object) -> Iterator[Callable[..., Agent]]:
    """``make(**overrides)`` -> an Agent (no link) checking ``host``'s baseline; spools closed afterwards."""
    agents: list[Agent] = []

    def make(**overrides: object) -> Agent:
        (tmp_path / "state").mkdir(exist_ok=True)
        (tmp_path / "root").mkdir(exist_ok=True)
        options: dict[str, object] = {
            "root": tmp_path / "root",
            "scan_interval": 6 * 3600.0,
            "scan_workers": 0,
            "fim_baseline": host.baseline,
            "fim_verify_key": host.verify_key,
            **defaults,
            **overrides,
        }
        settings = AgentSettings(tmp_path / "state", **options)  # type: ignore[arg-type]
        agents.append(Agent(settings, cast(AgentIdentity, object())))
        return agents[-1]

    try:
        yield make
    finally:
        for agent in agents:
            agent.spool.close()
