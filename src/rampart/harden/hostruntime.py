"""`HostRuntime`: the Runtime protocol answered by the live host this process runs on.

Kernel parameters from ``/proc/sys``, loaded modules from ``/proc/modules``, mounts from ``/proc/self/mounts``,
listening sockets from ``/proc/net/{tcp,tcp6,udp,udp6}`` (owning process names where ``/proc/<pid>/fd`` is
readable), unit states from one ``systemctl show`` per batch of units. Commands come from a fixed argv table
(no shell), run with a 10 s timeout, a minimal environment and at most 1 MiB of output kept; a missing or
failing tool answers None. When systemd is not the running init system, unit states are ``unknown``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

from rampart.harden.runtime import Mount, Socket, UnitState
from rampart.harden.view import ViewError

TIMEOUT_SECONDS = 10
MAX_OUTPUT = 1 << 20
MAX_PROCESSES = 10_000
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COMMANDS: dict[str, tuple[str, ...]] = {
    "nft list ruleset": ("nft", "list", "ruleset"),
    "iptables -S": ("iptables", "-S"),
    "ip6tables -S": ("ip6tables", "-S"),
    "ufw status verbose": ("ufw", "status", "verbose"),
    "auditctl -l": ("auditctl", "-l"),
    "auditctl -s": ("auditctl", "-s"),
    "apparmor_status": ("apparmor_status",),
    "aa-status": ("aa-status",),
    "sshd -T": ("sshd", "-T"),
}
UNKNOWN = UnitState("unknown", "unknown")
_SYSCTL = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_:@-]+)*$")
_UNIT = re.compile(
    r"^[A-Za-z0-9:_.@\\-]+\.(service|socket|target|timer|mount|path|slice|scope|swap|automount|device)$"
)
_OCTAL = re.compile(r"\\([0-7]{3})")
_TCP_LISTEN, _UDP_UNCONNECTED = "0A", "07"


def run_capped(argv: Sequence[str], timeout: float = TIMEOUT_SECONDS, limit: int = MAX_OUTPUT) -> str | None:
    """``argv``'s standard output (first ``limit`` bytes), or None when it cannot run or exits non-zero."""
    env = {"PATH": SEARCH_PATH, "LC_ALL": "C", "LANG": "C"}
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
    except OSError:
        return None
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        data = process.stdout.read(limit + 1)
        if len(data) > limit:
            process.kill()
        code = process.wait()
    finally:
        timer.cancel()
        if process.stdout is not None:
            process.stdout.close()
    if len(data) <= limit and code != 0:
        return None
    return data[:limit].decode("utf-8", errors="replace")


def _hex_address(text: str) -> str:
    """An address of /proc/net/tcp (little-endian words in hex) as text."""
    import ipaddress

    raw = bytes.fromhex(text)
    words = b"".join(raw[index : index + 4][::-1] for index in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


_CGROUP_ENGINES = ("docker", "kubepods", "lxc", "containerd", "libpod")


class HostRuntime:
    """The live host's state; ``proc``, ``run`` and ``root`` are where /proc, /run and / are (tests may point
    elsewhere)."""

    def __init__(self, proc: str = "/proc", run: str = "/run", root: str = "/") -> None:
        self.proc, self.run, self.root = Path(proc), Path(run), Path(root)
        self._units: dict[str, UnitState] = {}
        self._outputs: dict[str, str | None] = {}

    def _read(self, path: Path) -> str | None:
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_OUTPUT).decode("utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def container(self) -> str | None:
        """The container engine this host is a container of (docker, podman, lxc, ...), or None."""
        marker = self._read(self.run / "systemd" / "container")
        if marker and marker.strip():
            return marker.strip()[:40]
        for path, engine in ((self.root / ".dockerenv", "docker"), (self.run / ".containerenv", "podman")):
            if path.exists():
                return engine
        cgroups = self._read(self.proc / "1" / "cgroup") or ""
        return next((name for name in _CGROUP_ENGINES if f"/{name}" in cgroups), None)

    def sysctl(self, name: str) -> str | None:
        if not _SYSCTL.match(name):
            return None
        path = self.proc.joinpath("sys", *name.split("."))
        try:
            text = self._read(path)
        except OSError as exc:
            raise ViewError(f"{path}: {exc.strerror or exc}") from None
        return " ".join(text.split()) if text is not None else None

    @cached_property
    def _modules(self) -> frozenset[str]:
        text = self._read(self.proc / "modules") or ""
        return frozenset(line.split()[0] for line in text.splitlines() if line.split())

    def modules_loaded(self) -> frozenset[str]:
        return self._modules

    def mounts(self) -> Sequence[Mount]:
        text = self._read(self.proc / "self" / "mounts") or ""
        found = []
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 4:
                found.append(
                    Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2], tuple(fields[3].split(",")))
                )
        return tuple(found)

    @cached_property
    def systemd_running(self) -> bool:
        """Whether systemd is the init system (its runtime directory exists), as sd_booted() decides."""
        return (self.run / "systemd" / "system").is_dir()

    def prefetch_units(self, units: Iterable[str]) -> None:
        """Ask systemctl about every unit not yet known, in one call."""
        wanted = [unit for unit in dict.fromkeys(units) if unit not in self._units]
        if not wanted:
            return
        if not self.systemd_running:
            self._units.update(dict.fromkeys(wanted, UNKNOWN))
            return
        valid = [unit for unit in wanted if _UNIT.match(unit)]
        self._units.update(dict.fromkeys(wanted, UNKNOWN))
        self._units.update(self._show(valid))

    def _show(self, units: list[str]) -> dict[str, UnitState]:
        if not units or shutil.which("systemctl", path=SEARCH_PATH) is None:
            return {}
        argv = (
            "systemctl",
            "show",
            "--no-pager",
            "--property=Id,LoadState,ActiveState,UnitFileState",
            "--",
            *units,
        )
        text = run_capped(argv)
        if text is None:
            return {}
        blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
        if len(blocks) != len(units):
            return {}
        return {unit: _unit_state(block) for unit, block in zip(units, blocks, strict=True)}

    def unit_state(self, unit: str) -> UnitState:
        self.prefetch_units([unit])
        return self._units[unit]

    def listening(self) -> Sequence[Socket]:
        owners = self._socket_owners()
        found: list[Socket] = []
        for protocol in ("tcp", "tcp6", "udp", "udp6"):
            text = self._read(self.proc / "net" / protocol) or ""
            found.extend(_sockets(protocol, text, owners))
        return tuple(found)

    def _socket_owners(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        try:
            pids = [entry.name for entry in self.proc.iterdir() if entry.name.isdigit()][:MAX_PROCESSES]
        except OSError:
            return owners
        for pid in pids:
            owners.update(self._owned(pid))
        return owners

    def _owned(self, pid: str) -> dict[str, str]:
        base = self.proc / pid
        try:
            links = [str(fd.readlink()) for fd in (base / "fd").iterdir()]
            comm = (self._read(base / "comm") or "").strip()
        except OSError:
            return {}
        return {link[8:-1]: comm for link in links if link.startswith("socket:[")}

    def command(self, name: str) -> str | None:
        if name not in COMMANDS:
            return None
        if name not in self._outputs:
            argv = COMMANDS[name]
            found = shutil.which(argv[0], path=SEARCH_PATH)
            self._outputs[name] = run_capped((found, *argv[1:])) if found else None
        return self._outputs[name]


def _unescape(value: str) -> str:
    return _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), value)


def _unit_state(block: str) -> UnitState:
    values = dict(line.partition("=")[::2] for line in block.splitlines())
    if values.get("LoadState") == "not-found":
        return UnitState(values.get("ActiveState") or "inactive", "not-found")
    return UnitState(values.get("ActiveState") or "unknown", values.get("UnitFileState") or "static")


def _sockets(protocol: str, text: str, owners: dict[str, str]) -> list[Socket]:
    wanted = _TCP_LISTEN if protocol.startswith("tcp") else _UDP_UNCONNECTED
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != wanted:
            continue
        try:
            address, port = fields[1].split(":")
            remote = fields[2].split(":")[0]
            if protocol.startswith("udp") and int(remote, 16) != 0:
                continue
            found.append(Socket(protocol, _hex_address(address), int(port, 16), owners.get(fields[9], "")))
        except ValueError:
            continue
    return found
