"""The agent's job table: the inventory job reads a root filesystem and yields a valid upload."""

from __future__ import annotations

from pathlib import Path

from fixtures.rootfs import build_debian11_rootfs
from rampart.agent.jobs import JOBS, JobContext, inventory_job
from rampart.fleet.inventory import parse_inventory


def test_every_job_kind_is_listed() -> None:
    assert set(JOBS) == {"inventory", "fim", "harden"}


def test_inventory_job_yields_a_parseable_inventory(tmp_path: Path) -> None:
    build_debian11_rootfs(tmp_path)
    result = inventory_job(JobContext(tmp_path, job_id="a" * 32, workers=0))
    inventory = parse_inventory(result.payload)
    assert result.kind == "inventory" and inventory.id == result.id and inventory.job_id == "a" * 32
    assert inventory.os is not None and (inventory.os.id, inventory.os.version_id) == ("debian", "11")
    names = {p.name for p in inventory.packages}
    assert "xserver-xorg-core" in names and all(
        p.ecosystem == "Debian:11" for p in inventory.packages if p.extractor == "dpkg"
    )


def test_each_run_has_its_own_idempotency_id(tmp_path: Path) -> None:
    build_debian11_rootfs(tmp_path)
    first, second = (inventory_job(JobContext(tmp_path, workers=0)) for _ in range(2))
    assert first.id != second.id
