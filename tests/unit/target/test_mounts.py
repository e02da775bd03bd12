"""Which host mounts a scan skips, from a sample /proc/self/mountinfo."""

from __future__ import annotations

from pathlib import Path

from rampart.target.host import HostTarget, read_skipped_mounts
from rampart.target.mounts import ALWAYS_SKIPPED, is_skipped_fstype, skipped_mounts, unescape_mount_path

SAMPLE = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
28 27 0:25 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw
30 27 0:27 / /home rw,relatime shared:7 - ext4 /dev/vdb rw
31 27 0:28 / /mnt/nas rw,relatime - nfs4 nas:/export rw
32 27 0:29 / /mnt/my\040share rw - cifs //srv/share rw
33 27 0:30 / /home/me/remote rw - fuse.sshfs me@host: rw
34 27 0:31 / /media/usb rw - fuseblk /dev/sdb1 rw
35 27 0:32 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw
36 23 0:33 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
garbage line without separator
37 27 0:34 / /srv/bpf rw - bpf bpf rw
"""


def test_skipped_mounts_from_sample() -> None:
    skipped = skipped_mounts(SAMPLE)
    assert {"tmp", "mnt/nas", "mnt/my share", "home/me/remote", "srv/bpf", "sys/fs/cgroup"} <= skipped
    assert skipped >= ALWAYS_SKIPPED
    assert not {"home", "media/usb", "var/lib/docker/overlay2/x/merged", ""} & skipped


def test_root_is_never_skipped_whatever_its_type() -> None:
    assert "" not in skipped_mounts("1 0 0:1 / / rw - tmpfs tmpfs rw\n")


def test_fstype_decision() -> None:
    for fstype in ("proc", "tmpfs", "nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuse.lxcfs", "9p"):
        assert is_skipped_fstype(fstype), fstype
    for fstype in ("ext4", "xfs", "btrfs", "overlay", "fuseblk", "zfs", "vfat"):
        assert not is_skipped_fstype(fstype), fstype


def test_unescape() -> None:
    assert unescape_mount_path(r"/a\040b\011c\134d") == "/a b\tc\\d"


def test_unreadable_mountinfo_falls_back(tmp_path: Path) -> None:
    assert read_skipped_mounts(tmp_path / "missing") == ALWAYS_SKIPPED


def test_host_target_skips_proc() -> None:
    target = HostTarget()
    assert "proc" in target.skip and target.name == "host:/"
