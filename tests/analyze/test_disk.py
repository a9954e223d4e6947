"""Unit tables for the disk analyzers, on invocations built from parsed words."""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.disk
import guardsh.analyze.disk_partition
import guardsh.analyze.fs  # shares shred/tee/cp; must stay out of disk's way
import guardsh.analyze.fs_write  # noqa: F401  (registers the analyzers)
from guardsh.analyze import disk_devices
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Severity, Snapshot, Stdin, Target, Word
from tests.analyze.support import findings, first_command

LOCAL = Target("local", (("hostname", "host-1"),))


def run(line: str, *, stdin: str | None = None) -> list[Finding]:
    """Findings of the first top-level command of `line` (words from the real parser)."""
    cmd = first_command(line, "/root")
    inv = Invocation(
        posixpath.basename(cmd.words[0].value),
        cmd.words,
        cmd.span,
        LOCAL,
        redirects=cmd.redirects,
        cwd="/root",
        stdin=Stdin(stdin, "pipe:printf") if stdin is not None else None,
    )
    ctx = Context(line, Snapshot(), Facts(), lambda text, tgt, span: [])
    return findings(inv, ctx)


def brief(found: list[Finding]) -> list[tuple[str, str | None, str]]:
    return [(f.action, f.object, str(f.severity)) for f in found if f.action.startswith("disk.")]


W, F, H, L = "disk.wipe", "disk.format", "high", "low"

FIRING = [
    ("dd of=/dev/sda", [(W, "/dev/sda", H)]),
    ("dd if=/dev/zero of=/dev/sdb1 of=/dev/sdc", [(W, "/dev/sdc", H)]),
    ("dd if=x of=/dev/xvdf", [(W, "/dev/xvdf", H)]),
    ("dd if=x of=/dev/md127", [(W, "/dev/md127", H)]),
    ("dd if=x of=/dev/dm-3", [(W, "/dev/dm-3", H)]),
    ("dd if=x of=/dev/loop0", [(W, "/dev/loop0", H)]),
    ("dd if=x of=/dev/usb_drive", [(W, "/dev/usb_drive", H)]),
    ("dd if=x of=/dev/mem", [(W, "/dev/mem", H)]),
    ("dd if=x of=$TARGET", [(W, "$TARGET", L)]),
    ("pv img > /dev/sdd", [(W, "/dev/sdd", H)]),
    ("cat a > /dev/sdb > /dev/sdc", [(W, "/dev/sdb", H)]),
    ("tee /dev/sdb /dev/sdc", [(W, "/dev/sdb", H), (W, "/dev/sdc", H)]),
    ("cp -v disk.img /dev/nvme1n1", [(W, "/dev/nvme1n1", H)]),
    ("shred -vfz /dev/sda", [(W, "/dev/sda", H)]),
    ("wipefs --all --force /dev/sdb1 /dev/sdb2", [(W, "/dev/sdb1", H), (W, "/dev/sdb2", H)]),
    ("wipefs -a -t ext4 /dev/sdb", [(W, "/dev/sdb", H)]),
    ("blkdiscard -f -o 0 -l 1G /dev/sdb", [(W, "/dev/sdb", H)]),
    ("lvremove -y vg0/a vg0/b", [(W, "vg0/a", H), (W, "vg0/b", H)]),
    ("lvremove -S lv_name=~tmp", [(W, "lv_name=~tmp", H)]),
    ("lvresize -L -5G vg0/data", [(W, "vg0/data", H)]),
    ("lvm vgremove --force vg1", [(W, "vg1", H)]),
    ("badblocks -w -b 4096 /dev/sdb", [(W, "/dev/sdb", H)]),
    ("hdparm --security-erase-enhanced p /dev/sdc", [(W, "/dev/sdc", H)]),
    ("cryptsetup luksErase /dev/sdb2", [(W, "/dev/sdb2", H)]),
    ("cryptsetup luksKillSlot /dev/sdb2 0", [(W, "/dev/sdb2", L)]),
    ("zpool labelclear -f /dev/sdb", [(W, "/dev/sdb", H)]),
    ("mkfs.ext4 -F -L data -E lazy_itable_init=0 /dev/sdb1", [(F, "/dev/sdb1", H)]),
    ("mkfs /dev/sdb1 1024", [(F, "/dev/sdb1", H)]),
    ("mkfs -t vfat -n USB /dev/sdc1", [(F, "/dev/sdc1", H)]),
    ("mkfs.cramfs -n name /srv/dir /dev/sdb1", [(F, "/dev/sdb1", H)]),
    ("mkfs.xfs -n ftype=1 /dev/sdb", [(F, "/dev/sdb", H)]),
    ("mkfs.fat -F 32 -n ESP /dev/nvme0n1p1", [(F, "/dev/nvme0n1p1", H)]),
    ("mkswap -L swap /dev/vdb2", [(F, "/dev/vdb2", H)]),
    ("mkfs.ext4 fs.img 100M", [(F, "fs.img", L)]),
    ("mkfs.ext4 /dev/$PART", [(F, "/dev/$PART", H)]),
    ("fdisk /dev/sda", [(F, "/dev/sda", L)]),
    ("cfdisk /dev/sda", [(F, "/dev/sda", L)]),
    ("sfdisk /dev/sdb", [(F, "/dev/sdb", L)]),
    ("sfdisk --part-type /dev/sdb 1 83", [(F, "/dev/sdb", L)]),
    ("sfdisk -A /dev/sdb 1", [(F, "/dev/sdb", L)]),
    ("parted --script /dev/sdb rm 2", [(F, "/dev/sdb", H)]),
    ("parted /dev/sdb resizepart 1 50%", [(F, "/dev/sdb", H)]),
    ("parted /dev/sdb name 1 root", [(F, "/dev/sdb", L)]),
    ("sgdisk -z /dev/sdb", [(F, "/dev/sdb", H)]),
    ("sgdisk --clear /dev/sdb", [(F, "/dev/sdb", H)]),
    ("sgdisk --load-backup=/root/t.gpt /dev/sdb", [(F, "/dev/sdb", H)]),
    ("sgdisk --replicate=/dev/sdc /dev/sdb", [(F, "/dev/sdc", H)]),
    ("sgdisk -c 1:root /dev/sdb", [(F, "/dev/sdb", L)]),
    ("pvcreate /dev/sdb", [(F, "/dev/sdb", L)]),
    (
        "mdadm -C /dev/md0 -l1 -n2 /dev/sda1 /dev/sdb1",
        [(F, "/dev/md0", H), (F, "/dev/sda1", H), (F, "/dev/sdb1", H)],
    ),
    ("nvme format --ses 1 /dev/nvme0n1", [(F, "/dev/nvme0n1", H)]),
    (
        "cryptsetup -q luksFormat --type luks2 -c aes-xts-plain64 -s 512 /dev/sdb1 key",
        [(F, "/dev/sdb1", H)],
    ),
    (
        "zpool create -f -o ashift=12 tank raidz2 /dev/sdb /dev/sdc",
        [(F, "/dev/sdb", H), (F, "/dev/sdc", H)],
    ),
]


@pytest.mark.parametrize(("line", "want"), FIRING, ids=[c[0] for c in FIRING])
def test_fires(line: str, want: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == want


QUIET = [
    "dd if=/dev/sda of=sda.img",
    "dd if=/dev/zero of=/tmp/file",
    "dd of=/dev/null",
    "dd if=/dev/sda",
    "dd --help",
    "dd if=x of=/dev/stdout",
    "dd if=x of=/dev/fd/1",
    "echo x > /dev/tty",
    "echo x > /dev/pts/3",
    "echo x >> /dev/sda",
    "cat /dev/sda > out.img",
    "tee /dev/null",
    "tee -a out.txt",
    "cp /dev/sda sda.img",
    "shred a.txt",
    "wipefs /dev/sdb",
    "wipefs -n -a /dev/sdb",
    "wipefs --no-act --all /dev/sdb",
    "blkdiscard --help",
    "lvremove --test vg0/x",
    "lvremove -t vg0/x",
    "lvresize -L +5G vg0/x",
    "lvreduce --help",
    "badblocks /dev/sdb",
    "badblocks -n /dev/sdb",
    "hdparm -tT /dev/sda",
    "hdparm -I /dev/sda",
    "cryptsetup status data",
    "cryptsetup luksDump /dev/sdb1",
    "cryptsetup --help",
    "zpool list",
    "zpool scrub tank",
    "zfs list",
    "zfs destroy -n tank/x",
    "mke2fs -n /dev/sdb1",
    "mkfs -t ext4 -n /dev/sdb1",
    "mkfs.xfs -N /dev/sdb",
    "mkfs.btrfs --version",
    "mkswap --help",
    "fdisk -l",
    "fdisk --list /dev/sda",
    "fdisk -x /dev/sda",
    "gdisk -l /dev/sda",
    "sfdisk -l /dev/sda",
    "sfdisk --dump /dev/sda",
    "sfdisk -n /dev/sdb",
    "sfdisk --part-type /dev/sdb 1",
    "parted -l",
    "parted --list",
    "parted /dev/sdb print",
    "parted /dev/sdb unit s print free",
    "sgdisk -p /dev/sda",
    "sgdisk -v /dev/sda",
    "sgdisk -L",
    "sgdisk --backup=/root/t.gpt /dev/sda",
    "sgdisk --pretend -o /dev/sdb",
    "pvcreate -t /dev/sdb",
    "mdadm --detail /dev/md0",
    "mdadm --assemble --scan",
    "nvme list",
    "nvme smart-log /dev/nvme0",
    "lvm lvs",
]


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert brief(run(line)) == []


def test_fdisk_fed_a_script_is_high() -> None:
    assert brief(run("fdisk /dev/sdb", stdin="o\nw\n")) == [(F, "/dev/sdb", H)]
    assert brief(run("sfdisk /dev/sdb", stdin="label: gpt\n")) == [(F, "/dev/sdb", H)]


def test_sfdisk_with_a_redirected_script_is_high() -> None:
    assert brief(run("sfdisk /dev/sdb < layout.txt")) == [(F, "/dev/sdb", H)]


def test_zfs_destroy_is_a_recursive_delete() -> None:
    (f,) = run("zfs destroy -r tank/data@snap")
    assert (f.action, f.object, str(f.severity)) == (
        "fs.delete_recursive",
        "tank/data@snap",
        "high",
    )


def test_unknown_device_words_are_tagged() -> None:
    (f,) = run("dd if=x of=/dev/$D")
    assert "unknown-object" in f.tags and f.severity is Severity.HIGH


@pytest.mark.parametrize(
    ("path", "known", "want"),
    [
        ("/dev/sda", True, True),
        ("/dev/disk/by-uuid/1234", True, True),
        ("/dev/null", True, False),
        ("/dev/zero", True, False),
        ("/dev/ttyUSB0", True, False),
        ("/dev/tcp/h/80", True, False),
        ("/dev/", True, False),
        ("/srv/disk.img", True, False),
        ("/dev/$X", False, None),
        ("$X", False, False),
    ],
)
def test_block_device(path: str, known: bool, want: bool | None) -> None:
    assert disk_devices.block_device(Word(path, known=known)) is want
