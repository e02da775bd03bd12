"""``mount_option``: a mountpoint is a separate filesystem (``separate: true``), or its mount carries every
option in ``options`` (nodev, nosuid, noexec). Persisted: /etc/fstab and systemd mount units (facts.mounts);
running: runtime.mounts(). A mountpoint that is neither in the configuration nor mounted now is not a separate
partition: option rules do not apply to it. /dev/shm on a systemd system without an entry of its own is
systemd's tmpfs with ``nosuid,nodev``."""

from __future__ import annotations

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.mounts import MountEntry, mount_config, normalize
from rampart.harden.model import Outcome

SYSTEMD_DEFAULTS = {
    "/dev/shm":  # noqa: S108 - the mountpoint, not a temporary file
    ("tmpfs", ("rw", "nosuid", "nodev"))
}


class MountOptionParams(Params):
    mountpoint: str
    options: list[str] = Field(default_factory=list)
    separate: bool = False


def effective(options: tuple[str, ...], wanted: str) -> bool:
    """Whether ``wanted`` (``nodev``) holds after the options' order (``nodev,dev``: the last word wins)."""
    positive = wanted.removeprefix("no")
    state = False
    for option in options:
        if option == wanted:
            state = True
        elif option in (positive, "defaults") and wanted.startswith("no"):
            state = False
    return state


def _persisted(context: Context, mountpoint: str) -> MountEntry | None:
    entry = mount_config(context).entries.get(mountpoint)
    if entry is None and mountpoint in SYSTEMD_DEFAULTS and "systemd" in context.view.capabilities:
        fstype, options = SYSTEMD_DEFAULTS[mountpoint]
        return MountEntry(fstype, mountpoint, fstype, options, "systemd default mount")
    return entry


def _running(context: Context, mountpoint: str) -> tuple[str, ...] | None:
    if context.runtime is None:
        return None
    found = [mount for mount in context.runtime.mounts() if normalize(mount.mountpoint) == mountpoint]
    return found[-1].options if found else None


def _judge(label: str, options: tuple[str, ...], wanted: list[str]) -> tuple[bool, str]:
    missing = [option for option in wanted if not effective(options, option)]
    shown = ",".join(options) or "defaults"
    return not missing, f"{label}: {shown}" + (f" (missing {', '.join(missing)})" if missing else "")


def evaluate(params: MountOptionParams, context: Context) -> Outcome:
    mountpoint = normalize(params.mountpoint)
    entry, running = _persisted(context, mountpoint), _running(context, mountpoint)
    notes = list(mount_config(context).notes) + (
        ["runtime not checked (offline target)"] if context.runtime is None else []
    )
    if entry is None and running is None:
        text = f"{mountpoint} is not a separate partition (not in /etc/fstab, no mount unit, not mounted)"
        return (
            Outcome.failed(text, *notes)
            if params.separate
            else Outcome.not_applicable("not a separate partition", text)
        )
    results = [] if entry is None else [_judge(f"{entry.where}: {mountpoint}", entry.options, params.options)]
    if running is not None:
        results.append(_judge(f"mounted now: {mountpoint}", running, params.options))
    elif entry is not None and context.runtime is not None:
        results.append((params.separate, f"{mountpoint} is configured but not mounted now"))
    if params.separate:
        results = [(True, line.split(" (missing")[0]) for _, line in results]
    ok = all(passed for passed, _ in results)
    evidence = [line for _, line in results] + notes
    return Outcome.passed(*evidence) if ok else Outcome.failed(*evidence)


CHECK = CheckType(
    "mount_option", MountOptionParams, evaluate, "a mountpoint is separate, or mounted with given options"
)
