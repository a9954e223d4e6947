"""Reading files and listing directories for analysis (`psql -f`, `source`,
`< FILE`, kubectl manifests under `-f DIR`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

MAX_BYTES = 8 * 1024 * 1024  # a larger file is not read: the analysis calls it opaque
MAX_ENTRIES = 2000  # a larger directory is not listed: the analysis calls it opaque

Entry = tuple[str, bool, int]  # name, is a directory (not through a symlink), size in bytes


def reader(cwd: str) -> Callable[[str], str | None]:
    """A `read_file(path)` for Facts: text of a regular file, or None."""
    cache: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        full = os.path.join(cwd, os.path.expanduser(path))
        if full in cache:
            return cache[full]
        text = None
        try:
            # Only regular files: a FIFO or a terminal (`< /dev/tty`) would
            # block the analysis, and so the shell, until someone writes.
            if stat.S_ISREG(os.stat(full).st_mode):
                fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
                with open(fd, "rb") as fh:
                    st = os.fstat(fd)
                    if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_BYTES:
                        text = fh.read(MAX_BYTES + 1).decode("utf-8", "replace")
        except OSError:
            text = None
        cache[full] = text
        return text

    return read


def lister(cwd: str) -> Callable[[str], tuple[Entry, ...] | None]:
    """A `list_dir(path)` for `Facts.extra["list_dir"]`: a directory's entries
    sorted by name, or None (not a directory, unreadable, or over MAX_ENTRIES).

    The path itself may be a symlink to a directory; entries that are symlinks
    to directories count as files, as kubectl's directory walk sees them, so a
    recursive walk cannot loop. A file's size is what `stat` says (0 when a
    symlink is broken: reading it then fails)."""
    cache: dict[str, tuple[Entry, ...] | None] = {}

    def list_dir(path: str) -> tuple[Entry, ...] | None:
        full = os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
        if full in cache:
            return cache[full]
        out: tuple[Entry, ...] | None = None
        try:
            entries: list[Entry] = []
            with os.scandir(full) as it:
                for e in it:
                    if len(entries) >= MAX_ENTRIES:
                        raise OSError("too many entries")
                    is_dir = e.is_dir(follow_symlinks=False)
                    entries.append((e.name, is_dir, 0 if is_dir else _size(e)))
            out = tuple(sorted(entries))
        except OSError:
            out = None
        cache[full] = out
        return out

    return list_dir


def _size(e: os.DirEntry[str]) -> int:
    try:
        return e.stat().st_size
    except OSError:
        return 0
