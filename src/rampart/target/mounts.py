"""Which mounts of a live host a scan skips, decided from ``/proc/self/mountinfo``.

A host scan reads installed software, so it skips:

* the kernel's pseudo filesystems (proc, sysfs, devtmpfs, cgroup, debugfs, bpf, ...): they are not files;
* memory filesystems (tmpfs, ramfs): runtime state and secrets (``/run``, ``/dev/shm``, Kubernetes secret
  volumes), not installed software; a ``/tmp`` on tmpfs is therefore not scanned either;
* network and user-space filesystems (nfs*, cifs, smb3, 9p, ceph, glusterfs, sshfs and every ``fuse.*``):
  they can be huge, slow or hang, and belong to another machine; ``fuseblk`` (ntfs-3g on a local disk) stays;
* always ``/proc``, ``/sys``, ``/dev`` and ``/run``, whatever their type.

The root mount is never skipped, whatever its type (a container rootfs may be on an odd filesystem).
"""

from __future__ import annotations

import re

ALWAYS_SKIPPED = frozenset({"proc", "sys", "dev", "run"})

SKIPPED_FSTYPES = frozenset(
    {
        # kernel pseudo filesystems
        "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs",
        "configfs", "fusectl", "bpf", "mqueue", "hugetlbfs", "pstore", "autofs", "binfmt_misc", "nsfs",
        "rpc_pipefs", "efivarfs", "selinuxfs", "smackfs", "apparmorfs", "nfsd", "sockfs", "pipefs",
        # memory filesystems
        "tmpfs", "ramfs",
        # network and remote filesystems
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "afs", "lustre", "gpfs", "davfs",
        "virtiofs",
    }
)  # fmt: skip

_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape_mount_path(text: str) -> str:
    """Undo the octal escapes (``\\040`` for a space, ...) the kernel writes in mountinfo paths."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)


def is_skipped_fstype(fstype: str) -> bool:
    """True for pseudo, memory and network filesystem types (see the module docstring)."""
    return fstype in SKIPPED_FSTYPES or fstype.startswith("fuse.")


def _mount_of(line: str) -> tuple[str, str] | None:
    """(mount point, fstype) of one mountinfo line, or None for a line that does not parse."""
    head, sep, tail = line.partition(" - ")
    fields = head.split()
    rest = tail.split()
    if not sep or len(fields) < 5 or not rest:
        return None
    return unescape_mount_path(fields[4]), rest[0]


def skipped_mounts(mountinfo: str) -> frozenset[str]:
    """Mount points (relative to '/', no leading '/') that a host scan must not enter."""
    skipped = set(ALWAYS_SKIPPED)
    for line in mountinfo.splitlines():
        mount = _mount_of(line)
        if mount is None or mount[0] == "/":
            continue
        point, fstype = mount
        if is_skipped_fstype(fstype):
            skipped.add(point.strip("/"))
    return frozenset(skipped)
