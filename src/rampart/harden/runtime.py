"""The running system's state as checks see it: the `Runtime` protocol and `StaticRuntime` (recorded state).

`HostRuntime` (in ``hostruntime.py``) reads the live kernel and services; `StaticRuntime` answers from a
mapping, for a state recorded elsewhere (tests, or an agent's report replayed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class UnitState:
    """``active`` as systemctl says it (active, inactive, failed, ...); ``enabled`` likewise (enabled, disabled,
    masked, static, ...); ``not-found`` for both when the unit does not exist."""

    active: str
    enabled: str


@dataclass(frozen=True)
class Socket:
    """A listening socket: ``tcp``/``udp`` (``6`` suffix for IPv6), local address, port, owning process name."""

    protocol: str
    address: str
    port: int
    process: str = ""


class Runtime(Protocol):
    def container(self) -> str | None:
        """The engine when the running system is a container (its kernel is the host's), else None."""
        ...

    def sysctl(self, name: str) -> str | None:
        """A kernel parameter's current value (whitespace collapsed), None when the kernel has no such key."""
        ...

    def modules_loaded(self) -> frozenset[str]: ...

    def mounts(self) -> Sequence[Mount]: ...

    def unit_state(self, unit: str) -> UnitState: ...

    def listening(self) -> Sequence[Socket]: ...

    def command(self, name: str) -> str | None:
        """The output of one known read-only probe (``nft list ruleset``, ``iptables -S``, ``auditctl -l``, ...);
        None when the tool is absent or failed."""
        ...


@dataclass
class StaticRuntime:
    """A runtime answering from recorded values; anything not recorded is absent."""

    sysctls: Mapping[str, str] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()
    mount_table: Sequence[Mount] = ()
    units: Mapping[str, UnitState] = field(default_factory=dict)
    sockets: Sequence[Socket] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)
    engine: str | None = None

    def container(self) -> str | None:
        return self.engine

    def sysctl(self, name: str) -> str | None:
        return self.sysctls.get(name)

    def modules_loaded(self) -> frozenset[str]:
        return self.modules

    def mounts(self) -> Sequence[Mount]:
        return self.mount_table

    def unit_state(self, unit: str) -> UnitState:
        return self.units.get(unit, UnitState("inactive", "not-found"))

    def listening(self) -> Sequence[Socket]:
        return self.sockets

    def command(self, name: str) -> str | None:
        return self.outputs.get(name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StaticRuntime:
        """Build from a plain mapping (the fixture format: sysctl, modules, mounts, units, listening, commands,
        container)."""
        return cls(
            sysctls={str(k): str(v) for k, v in data.get("sysctl", {}).items()},
            modules=frozenset(data.get("modules", ())),
            mount_table=tuple(
                Mount(m["device"], m["mountpoint"], m["fstype"], tuple(m["options"]))
                for m in data.get("mounts", ())
            ),
            units={
                k: UnitState(v.get("active", "inactive"), v.get("enabled", "disabled"))
                for k, v in data.get("units", {}).items()
            },
            sockets=tuple(
                Socket(s["protocol"], s["address"], int(s["port"]), s.get("process", ""))
                for s in data.get("listening", ())
            ),
            outputs={str(k): str(v) for k, v in data.get("commands", {}).items()},
            engine=data.get("container"),
        )
