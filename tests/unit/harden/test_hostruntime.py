"""HostRuntime on this live machine, and its parsers on recorded /proc text."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from rampart.harden.hostruntime import COMMANDS, HostRuntime, _hex_address, _sockets, run_capped


def test_reads_the_live_kernel() -> None:
    runtime = HostRuntime()
    assert runtime.sysctl("kernel.randomize_va_space") in {"0", "1", "2"}
    assert runtime.sysctl("no.such.key.here") is None
    assert runtime.sysctl("../../etc/passwd") is None
    assert any(mount.mountpoint == "/" for mount in runtime.mounts())
    assert isinstance(runtime.modules_loaded(), frozenset)


def test_unit_state_is_honest_about_systemd() -> None:
    runtime = HostRuntime()
    state = runtime.unit_state("ssh.service")
    if not os.path.isdir("/run/systemd/system"):
        assert (state.active, state.enabled) == ("unknown", "unknown")
    else:
        assert state.active in {
            "active",
            "inactive",
            "failed",
            "activating",
            "deactivating",
            "reloading",
            "unknown",
        }
    assert runtime.unit_state("--help") == runtime.unit_state("--help")


def test_unit_states_are_batched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "systemd" / "system").mkdir(parents=True)
    calls: list[tuple[str, ...]] = []

    def fake(argv: tuple[str, ...], *args: object, **kwargs: object) -> str:
        calls.append(tuple(argv))
        return "Id=a.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\nId=b.service\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n"

    import rampart.harden.hostruntime as module

    runtime = HostRuntime(run=str(tmp_path))
    monkeypatch.setattr(module, "run_capped", fake)
    monkeypatch.setattr(module.shutil, "which", lambda name, path=None: "/usr/bin/" + name)
    runtime.prefetch_units(["a.service", "b.service"])
    assert runtime.unit_state("a.service").enabled == "enabled"
    assert runtime.unit_state("b.service").enabled == "not-found"
    assert len(calls) == 1 and calls[0][-2:] == ("a.service", "b.service")


def test_listening_sockets_parse() -> None:
    tcp = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0        0 111 1\n"
        "   1: 00000000:0016 00000000:0000 01 00000000:00000000 00:00000000 00000000   0        0 112 1\n"
        "garbage\n   2: ZZ:QQ 00000000:0000 0A 0 0 0 0 0 113\n"
    )
    found = _sockets("tcp", tcp, {"111": "master"})
    assert [(s.address, s.port, s.process) for s in found] == [("127.0.0.1", 25, "master")]
    assert _hex_address("00000000000000000000000001000000") == "::1"
    assert HostRuntime().listening() is not None


def test_commands_are_a_fixed_table_with_a_cap(tmp_path: Path) -> None:
    runtime = HostRuntime()
    assert runtime.command("rm -rf /") is None
    assert "nft list ruleset" in COMMANDS
    assert run_capped((sys.executable, "-c", "print('x' * 5000)"), limit=100) == "x" * 100
    assert run_capped((sys.executable, "-c", "import sys; sys.exit(3)")) is None
    assert run_capped(("/nonexistent/tool",)) is None
    assert run_capped((sys.executable, "-c", "import time; time.sleep(30)"), timeout=0.5) is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"run/systemd/container": "lxc\n"}, "lxc"),
        ({"root/.dockerenv": ""}, "docker"),
        ({"run/.containerenv": ""}, "podman"),
        ({"proc/1/cgroup": "0::/kubepods/besteffort/pod1\n"}, "kubepods"),
        ({"proc/1/cgroup": "0::/init.scope\n"}, None),
    ],
)
def test_a_container_is_recognised_by_its_markers(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    for folder in ("proc", "run", "root"):
        (tmp_path / folder).mkdir(exist_ok=True)
    runtime = HostRuntime(str(tmp_path / "proc"), str(tmp_path / "run"), str(tmp_path / "root"))
    assert runtime.container() == expected
