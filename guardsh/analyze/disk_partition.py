"""Partition-table tools: fdisk, gdisk, cfdisk, cgdisk, sfdisk, parted, sgdisk
(disk.format, or disk.wipe for `sfdisk --delete`).

Documented severity choices: LOW for the interactive partition editors
(`fdisk /dev/sdb`, `parted /dev/sdb`, cfdisk, gdisk: nothing is written
before the user says so inside them) and for additive or metadata-only table
changes (`sgdisk -n`, `parted set`, `sfdisk --part-label`); HIGH when a
script on stdin drives them, or for zap/clear/delete/mklabel/rm/mkpart/
resizepart and `sgdisk -R` copying a table over a disk. Quiet: listings
(`fdisk -l`, `parted -l`, `sfdisk -d`), dry runs (`sgdisk -P`, `sfdisk -n`),
`--help`/`--version`.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze.disk_devices import dev_words, disk_finding, wants_help, wipe_all
from guardsh.analyze.registry import Context, analyzer
from guardsh.model import Finding, Invocation, Severity
from guardsh.parse.argv import parse_argv


def _stdin_fed(inv: Invocation) -> bool:
    return inv.stdin is not None or any(r.op.startswith("<") for r in inv.redirects)


@analyzer("fdisk", "gdisk", "cfdisk", "cgdisk")
def fdisk(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Interactive editors: LOW (nothing is written before `w`); fed by a script: HIGH."""
    p = parse_argv(inv.args, short_value="bCHSotwWuc", long_value={"sector-size", "output"})
    if wants_help(inv) or p.has("-l", "--list", "-x", "--list-details", "-s", "--getsz"):
        return
    sev = Severity.HIGH if _stdin_fed(inv) else Severity.LOW
    how = "scripted changes to" if sev is Severity.HIGH else "may rewrite"
    for w in dev_words(p.operands)[:1]:
        yield disk_finding(
            inv, "disk.format", w, sev, f"{inv.program} {how} the partition table of {w.value}"
        )


_SFDISK_READ = ("-l", "--list", "-d", "--dump", "-J", "--json", "-s", "--show-size", "-g",
                "--show-geometry", "-V", "--verify", "-F", "--list-free", "-T", "--list-types",
                "-n", "--no-act", "-b")  # fmt: skip


# partition attributes: a 3rd operand sets (else prints); the rest always write
_SFDISK_PART = ("--part-type", "--part-label", "--part-uuid", "--part-attrs", "-A", "--activate",
                "-r", "--reorder", "--relocate")  # fmt: skip


@analyzer("sfdisk")
def sfdisk(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """sfdisk DEV reads a new table from stdin; --delete removes partitions."""
    p = parse_argv(
        inv.args, short_value="oOuwWXYN", long_value={"label", "wipe", "wipe-partitions", "output"}
    )
    if p.has("--delete"):
        yield from wipe_all(inv, dev_words(p.operands)[:1], "sfdisk deletes partitions of")
        return
    if wants_help(inv) or p.has(*_SFDISK_READ):
        return
    if p.has(*_SFDISK_PART):
        if len(p.operands) >= 3 or p.has(*_SFDISK_PART[4:]):
            for w in dev_words(p.operands)[:1]:
                yield disk_finding(inv, "disk.format", w, Severity.LOW, f"sfdisk changes {w.value}")
        return
    sev = Severity.HIGH if _stdin_fed(inv) else Severity.LOW
    for w in dev_words(p.operands)[:1]:
        yield disk_finding(
            inv, "disk.format", w, sev, f"sfdisk writes a new partition table to {w.value}"
        )


_PARTED_HIGH = frozenset(
    {"mklabel", "mktable", "rm", "resizepart", "resize", "mkpart", "mkpartfs", "mkfs"}
)
_PARTED_LOW = frozenset({"name", "set", "toggle", "disk_set", "disk_toggle", "type", "move", "cp"})


@analyzer("parted")
def parted(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """parted DEV [COMMAND...]: mklabel/rm/mkpart/resizepart write the table."""
    vals = [w.value for w in inv.args]
    if wants_help(inv) or "-l" in vals or "--list" in vals:
        return
    devs = dev_words(w for w in inv.args if not w.value.startswith("-"))[:1]
    cmds = {v.lower() for v in vals} - {"-s", "--script", "-m", "--machine", "-f", "--fix"}
    if cmds & _PARTED_HIGH:
        sev, how = Severity.HIGH, "/".join(sorted(cmds & _PARTED_HIGH))
    elif cmds & _PARTED_LOW:
        sev, how = Severity.LOW, "/".join(sorted(cmds & _PARTED_LOW))
    elif {"print", "p", "unit", "align-check", "version", "help"} & cmds:
        return
    else:
        sev, how = Severity.LOW, "interactive"
    for w in devs:
        yield disk_finding(inv, "disk.format", w, sev, f"parted {how} on {w.value}")


_SGDISK_HIGH = ("-Z", "--zap-all", "-z", "--zap", "-o", "--clear", "-d", "--delete", "-l",
                "--load-backup", "-m", "--gpttombr")  # fmt: skip
_SGDISK_LOW = ("-n", "--new", "-N", "--largest-new", "-t", "--typecode", "-c", "--change-name",
               "-A", "--attributes", "-s", "--sort", "-U", "--disk-guid", "-u", "--partition-guid",
               "-G", "--randomize-guids", "-g", "--mbrtogpt", "-e", "--move-second-header", "-r",
               "--transpose", "-h", "--hybrid", "-C", "--recompute-chs")  # fmt: skip


@analyzer("sgdisk")
def sgdisk(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """sgdisk: zap/clear/delete/load-backup destroy the table; -R copies one over a disk."""
    p = parse_argv(
        inv.args,
        short_value="aAbcdijlmnNrRtTuUh",
        long_value={
            "replicate",
            "backup",
            "load-backup",
            "delete",
            "new",
            "typecode",
            "change-name",
            "attributes",
            "largest-new",
            "set-alignment",
        },
    )
    if wants_help(inv) or p.has("-P", "--pretend"):
        return
    devs = dev_words(p.operands)[-1:]
    rep = p.value("-R", "--replicate")
    if rep is not None:
        yield disk_finding(
            inv,
            "disk.format",
            rep,
            Severity.HIGH,
            f"sgdisk copies a partition table over {rep.value}",
        )
    if p.has(*_SGDISK_HIGH):
        sev = Severity.HIGH
    elif p.has(*_SGDISK_LOW):
        sev = Severity.LOW
    else:
        return
    names = sorted({o.name for o in p.opts if o.name in _SGDISK_HIGH + _SGDISK_LOW})
    for w in devs:
        yield disk_finding(inv, "disk.format", w, sev, f"sgdisk {' '.join(names)} on {w.value}")
