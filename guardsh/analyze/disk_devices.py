"""What the disk families share: which paths are block devices that hold data,
and the finding on one (a helper module, not a family; it registers nothing).

A /dev/ path counts as a block device unless it is a known character or
pseudo device (`/dev/null`, a tty, ...): fail safe, so `/dev/usb_drive` is a
device. A word whose value is not known statically but says /dev/ may be one
(`block_device` returns None), and its finding is tagged `unknown-object`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from guardsh.analyze.registry import finding
from guardsh.model import Finding, Invocation, Severity, Word

# Character and pseudo devices: writing to them destroys nothing stored.
PSEUDO = re.compile(
    r"/dev/(?:null|zero|full|u?random|std(?:in|out|err)|tty\w*|pts/.*|fd/.*|console|ptmx"
    r"|shm/.*|mqueue/.*|log|kmsg|fb\d+|dsp\d*|audio\d*|snd/.*|input/.*|lp\d+|usb/lp\d+"
    r"|ttyS\d+|ttyUSB\d+|ttyACM\d+|net/tun|tcp/.*|udp/.*|cu\..*|hidraw\d+|i2c-\d+|spidev.*"
    r"|video\d+|dri/.*|cpu/.*|vcs\w*)$"
)
_HELP = frozenset({"--help", "--version"})


def block_device(w: Word) -> bool | None:
    """True for a device that holds data: a known block device, or any /dev/ path
    that is not a known character or pseudo device (fail safe: `/dev/usb_drive`).
    None when the word is unknown but says /dev/."""
    if not w.known:
        return None if w.value.startswith("/dev/") else False
    path = w.value.rstrip("/")
    # sd*, nvme*, mapper/*, disk/by-*, VG/LV ... and any other name
    return path.startswith("/dev/") and len(path) > 5 and PSEUDO.match(path) is None


def wants_help(inv: Invocation) -> bool:
    return any(w.value in _HELP for w in inv.args if w.known)


def dev_words(words: Iterable[Word]) -> list[Word]:
    """Operands that are (or may be) block devices."""
    return [w for w in words if block_device(w) is not False]


def disk_finding(
    inv: Invocation, action: str, w: Word, sev: Severity, detail: str, tags: Iterable[str] = ()
) -> Finding:
    t = set(tags)
    if not w.known:
        t.add("unknown-object")
    return finding(inv, action, w.value, sev, tags=t, detail=detail)


def wipe_all(inv: Invocation, words: Iterable[Word], detail: str) -> Iterator[Finding]:
    for w in words:
        yield disk_finding(inv, "disk.wipe", w, Severity.HIGH, f"{detail} {w.value}")
