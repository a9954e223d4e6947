"""disk analyzers: what overwrites, wipes or formats a block device (partition
tables are disk_partition's; what a block device is, disk_devices').

disk.wipe: dd of=/dev/X, `> /dev/X`, tee/cp/shred onto a device, wipefs -a,
blkdiscard, lvremove/vgremove/pvremove, lvreduce, hdparm --security-erase,
nvme sanitize, badblocks -w, mdadm --zero-superblock, cryptsetup erase,
zpool destroy|labelclear. disk.format: mkfs*, mke2fs, mkswap, pvcreate, mdadm
--create, cryptsetup luksFormat, nvme format, zpool create. zfs destroy is
fs.delete_recursive.

Documented severity choices: everything that writes a device is HIGH.
LOW: mkfs of an image file, `dd of=$X` whose target is unknown, lvreduce -r,
pvcreate without --force and cryptsetup luksKillSlot. Quiet: listings
(`wipefs DEV`), dry runs (`mke2fs -n`, `mkfs.xfs -N`, `wipefs -n`,
`lvremove -t`, `zfs destroy -n`), `--help`/`--version`, dd onto a file or a
pseudo device.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from guardsh.analyze.disk_devices import (
    block_device,
    dev_words,
    disk_finding,
    wants_help,
    wipe_all,
)
from guardsh.analyze.registry import Context, analyzer, fallback
from guardsh.model import Finding, Invocation, Severity, Word
from guardsh.parse.argv import parse_argv

# ---------------------------------------------------------------- writers


@analyzer("dd")
def dd(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`dd of=/dev/sdX`: the device is overwritten from `if=` (or stdin)."""
    if wants_help(inv):
        return
    out: Word | None = None
    src = "stdin"
    for w in inv.args:
        key, eq, val = w.value.partition("=")
        if eq and key == "of":
            out = Word(val, w.span, w.known, w.glob, w.quoted)
        elif eq and key == "if":
            src = val
    if out is None:
        return
    dev = block_device(out)
    if dev is False and out.known:
        return
    sev = Severity.HIGH if dev is not False else Severity.LOW
    yield disk_finding(inv, "disk.wipe", out, sev, f"dd writes {src} over {out.value}")


@analyzer("shred", "tee", "cp")
def onto_device(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """shred/tee onto a device, `cp image.iso /dev/sdb`: the device is overwritten."""
    if wants_help(inv):
        return
    if inv.program == "cp":
        ops = parse_argv(inv.args, short_value="tS", long_value={"target-directory"}).operands
        targets = ops[-1:] if len(ops) >= 2 else ()
    elif inv.program == "shred":
        targets = parse_argv(inv.args, short_value="ns", long_value={"iterations", "size"}).operands
    elif inv.program == "tee":
        targets = parse_argv(inv.args, long_value={"output-error"}).operands
    else:
        return
    verb = {"shred": "shred overwrites", "tee": "tee writes over", "cp": "cp writes over"}
    for w in targets:
        if block_device(w) is not False:
            yield disk_finding(inv, "disk.wipe", w, Severity.HIGH, f"{verb[inv.program]} {w.value}")


@fallback
def redirect_to_device(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`cat image > /dev/sda`: a redirection onto a block device."""
    for r in inv.redirects:
        dev = r.target
        if (
            r.op in (">", ">|", "&>")
            and dev.value.startswith("/dev/")
            and block_device(dev) is not False
        ):
            yield disk_finding(
                inv, "disk.wipe", dev, Severity.HIGH, f"output written over {dev.value}"
            )
            return


@analyzer("wipefs")
def wipefs(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`wipefs DEV` only lists; -a or -o erases signatures."""
    p = parse_argv(inv.args, short_value="otO", long_value={"offset", "types", "output"})
    if wants_help(inv) or p.has("-n", "--no-act") or not p.has("-a", "--all", "-o", "--offset"):
        return
    yield from wipe_all(inv, p.operands, "wipefs erases the signatures of")


@analyzer("blkdiscard")
def blkdiscard(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value="olp", long_value={"offset", "length", "step"})
    if not wants_help(inv):
        yield from wipe_all(inv, p.operands, "blkdiscard discards every block of")


_LVM_VALUES = {"config", "select", "autobackup", "reportformat", "commandprofile", "profile",
               "driverloaded", "lockopt", "devices", "devicesfile", "journal",
               "nolocking"}  # fmt: skip


@analyzer("lvremove", "vgremove", "pvremove")
def lvm_remove(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """lvremove/vgremove/pvremove: volumes and their data are gone."""
    p = parse_argv(inv.args, short_value="SA", long_value=_LVM_VALUES)
    if wants_help(inv) or p.has("-t", "--test"):
        return
    yield from wipe_all(inv, p.operands, f"{inv.program} removes")
    sel = p.value("-S", "--select")
    if sel is not None and not p.operands:
        yield disk_finding(
            inv,
            "disk.wipe",
            sel,
            Severity.HIGH,
            f"{inv.program} removes what {sel.value!r} selects",
        )


@analyzer("lvm")
def lvm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`lvm lvremove ...`: the lvm shell's subcommands are the same tools."""
    if not inv.args or not inv.args[0].known:
        return
    sub = inv.args[0].value
    tool = {"lvremove": lvm_remove, "vgremove": lvm_remove, "pvremove": lvm_remove,
            "lvreduce": lvreduce, "lvresize": lvreduce, "pvcreate": pvcreate}.get(sub)  # fmt: skip
    if tool is not None:
        yield from tool(replace(inv, program=sub, argv=inv.argv[1:]), ctx)


@analyzer("lvreduce", "lvresize")
def lvreduce(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Shrinking a volume cuts off its end; -r shrinks the filesystem first (LOW)."""
    p = parse_argv(inv.args, short_value="lLA", long_value=_LVM_VALUES | {"size", "extents"})
    size = p.value("-L", "--size", "-l", "--extents")
    shrink = inv.program == "lvreduce" or (size is not None and size.value.startswith("-"))
    if wants_help(inv) or not shrink or p.has("-t", "--test"):
        return
    sev = Severity.LOW if p.has("-r", "--resizefs") else Severity.HIGH
    for w in p.operands:
        yield disk_finding(inv, "disk.wipe", w, sev, f"{inv.program} shrinks {w.value}")


_HDPARM_ERASE = frozenset({"--security-erase", "--security-erase-enhanced", "--trim-sector-ranges",
                           "--write-sector", "--make-bad-sector"})  # fmt: skip


@analyzer("hdparm")
def hdparm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    if any(w.value in _HDPARM_ERASE for w in inv.args):
        yield from wipe_all(inv, dev_words(inv.args[-1:]), "hdparm erases")


@analyzer("nvme")
def nvme(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`nvme format DEV` / `nvme sanitize DEV`."""
    if wants_help(inv) or not inv.args:
        return
    sub = inv.args[0].value
    p = parse_argv(
        inv.args[1:],
        short_value="nlsipmrtTo",
        long_value={
            "namespace-id",
            "lbaf",
            "ses",
            "pi",
            "pil",
            "ms",
            "timeout",
            "sanact",
            "ause",
            "owpass",
            "oipbp",
            "nodas",
            "ovrpat",
        },
    )
    devs = dev_words(p.operands)[:1]
    if sub == "format":
        for w in devs:
            yield disk_finding(
                inv, "disk.format", w, Severity.HIGH, f"nvme format erases {w.value}"
            )
    elif sub == "sanitize":
        yield from wipe_all(inv, devs, "nvme sanitize erases")


@analyzer("badblocks")
def badblocks(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """-w is the destructive write test; -n (non-destructive) and the read test are quiet."""
    p = parse_argv(inv.args, short_value="bcdeiopt")
    if p.has("-w") and not wants_help(inv):
        yield from wipe_all(inv, p.operands[:1], "badblocks -w writes test patterns over")


@analyzer("mdadm")
def mdadm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    vals = [w.value for w in inv.args]
    devs = dev_words(inv.args)
    if "--zero-superblock" in vals:
        yield from wipe_all(inv, devs, "mdadm erases the RAID superblock of")
    elif ("--create" in vals or "-C" in vals) and devs:
        for w in devs:
            yield disk_finding(
                inv, "disk.format", w, Severity.HIGH, f"mdadm --create writes over {w.value}"
            )


# ---------------------------------------------------------------- formatters


_MKFS_VALUES = {"ext": "bCdeEgGiIJlLmMNoOrtTUz", "xfs": "bdilmnprsL", "btrfs": "dmLnsORUrb",
                "fat": "bDfFghilmMnrRsS", "swap": "LpUveos", "other": "LtnNUbs"}  # fmt: skip
_MKFS_NAMES = ("ext2", "ext3", "ext4", "ext4dev", "xfs", "btrfs", "vfat", "fat", "msdos", "ntfs",
               "exfat", "f2fs", "minix", "bfs", "cramfs", "jfs", "reiserfs", "udf", "hfsplus",
               "nilfs2", "gfs2", "ocfs2", "erofs", "bcachefs")  # fmt: skip
MKFS = ("mkfs", "mke2fs", "mkswap", "mkdosfs", "mkntfs", "mkexfatfs", "mkreiserfs", "mkudffs",
        *(f"mkfs.{n}" for n in _MKFS_NAMES))  # fmt: skip


def _mkfs_kind(inv: Invocation) -> str:
    prog = inv.program
    fstype = prog.partition(".")[2]
    if prog == "mkfs":
        for k, w in enumerate(inv.args[:-1]):
            if w.value == "-t":
                fstype = inv.args[k + 1].value
    if prog == "mke2fs" or fstype.startswith("ext") or (prog == "mkfs" and not fstype):
        return "ext"  # mkfs without -t builds ext2
    if prog == "mkswap":
        return "swap"
    if fstype in ("vfat", "fat", "msdos") or prog == "mkdosfs":
        return "fat"
    return fstype if fstype in _MKFS_VALUES else "other"


@analyzer(*MKFS)
def mkfs(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """A new filesystem over a device: whatever was there is gone. An image file: LOW."""
    if wants_help(inv):
        return
    kind = _mkfs_kind(inv)
    p = parse_argv(
        inv.args,
        short_value=_MKFS_VALUES[kind] + ("t" if kind != "ext" else ""),
        long_value={"label", "type", "uuid", "fs_label", "volume-guid", "volume-label"},
    )
    if (kind == "ext" and p.has("-n")) or (kind == "xfs" and p.has("-N")):
        return  # dry run: prints what it would do
    devs = [w for w in p.operands if not w.known or block_device(w)]
    if not devs:
        files = [w for w in p.operands if not re.fullmatch(r"\d+[kKmMgGtT]?", w.value)]
        for w in files[:1]:
            if not w.value.startswith("/dev/"):
                yield disk_finding(
                    inv,
                    "disk.format",
                    w,
                    Severity.LOW,
                    f"{inv.program} formats the image file {w.value}",
                )
        return
    for w in devs if kind == "btrfs" else devs[:1]:
        yield disk_finding(inv, "disk.format", w, Severity.HIGH, f"{inv.program} formats {w.value}")


@analyzer("pvcreate")
def pvcreate(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """pvcreate writes an LVM label; forced, it overwrites what the device holds."""
    p = parse_argv(inv.args, short_value="", long_value=_LVM_VALUES)
    if wants_help(inv) or p.has("-t", "--test"):
        return
    sev = Severity.HIGH if p.has("-f", "--force", "-y", "--yes") else Severity.LOW
    for w in p.operands:
        yield disk_finding(inv, "disk.format", w, sev, f"pvcreate writes an LVM label on {w.value}")


_CRYPT = {"luksformat": ("disk.format", Severity.HIGH), "erase": ("disk.wipe", Severity.HIGH),
          "lukserase": ("disk.wipe", Severity.HIGH), "lukskillslot": ("disk.wipe", Severity.LOW),
          "luksremovekey": ("disk.wipe", Severity.LOW)}  # fmt: skip


_CRYPT_VALUES = {"label", "subsystem", "type", "cipher", "key-size", "hash", "key-file",
                 "key-slot", "iter-time", "pbkdf", "pbkdf-memory", "pbkdf-parallel",
                 "pbkdf-force-iterations", "sector-size", "uuid", "header", "keyfile-size",
                 "keyfile-offset", "offset", "skip", "size", "tries", "timeout", "integrity",
                 "luks2-metadata-size", "luks2-keyslots-size", "token-id", "new-keyfile-size",
                 "master-key-file", "volume-key-file", "align-payload"}  # fmt: skip


@analyzer("cryptsetup")
def cryptsetup(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """luksFormat: a new encrypted volume; erase/luksErase: every key slot gone."""
    if wants_help(inv):
        return
    args = inv.args
    for k, w in enumerate(args):
        hit = _CRYPT.get(w.value.lower()) if w.known else None
        if hit is None:
            continue
        action, sev = hit
        after = parse_argv(args[k + 1 :], short_value="cshdSilobTtp", long_value=_CRYPT_VALUES)
        devs = dev_words(after.operands) or list(after.operands)
        for dev in devs[:1]:
            yield disk_finding(inv, action, dev, sev, f"cryptsetup {w.value} {dev.value}")
        return


@analyzer("zpool", "zfs")
def zfs(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """zpool destroy|labelclear|create, zfs destroy (-n is a dry run)."""
    if wants_help(inv) or not inv.args:
        return
    sub = inv.args[0].value
    p = parse_argv(inv.args[1:], short_value="oOmRt")
    if p.has("-n") or not p.operands:
        return
    first = p.operands[0]
    if inv.program == "zfs" and sub == "destroy":
        yield disk_finding(
            inv, "fs.delete_recursive", first, Severity.HIGH, f"zfs destroys {first.value}"
        )
    elif inv.program == "zpool" and sub == "destroy":
        yield disk_finding(
            inv, "disk.wipe", first, Severity.HIGH, f"zpool destroys pool {first.value}"
        )
    elif inv.program == "zpool" and sub == "labelclear":
        yield disk_finding(
            inv, "disk.wipe", first, Severity.HIGH, f"zpool clears the label of {first.value}"
        )
    elif inv.program == "zpool" and sub == "create":
        for w in _vdevs(p.operands[1:]):
            yield disk_finding(
                inv, "disk.format", w, Severity.HIGH, f"zpool create {first.value} over {w.value}"
            )


_VDEV_KINDS = frozenset({"mirror", "raidz", "raidz1", "raidz2", "raidz3", "draid", "spare", "log",
                         "cache", "special", "dedup"})  # fmt: skip


def _vdevs(words: Sequence[Word]) -> list[Word]:
    return [w for w in words if w.value not in _VDEV_KINDS]
