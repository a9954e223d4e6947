"""Reading files for analysis (`psql -f`, `source`, `< FILE`, manifests)."""

from __future__ import annotations

import os
from collections.abc import Callable

MAX_BYTES = 8 * 1024 * 1024  # a larger file is not read: the analysis calls it opaque


def reader(cwd: str) -> Callable[[str], str | None]:
    """A `read_file(path)` for Facts: text of a regular file, or None."""
    cache: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        full = os.path.join(cwd, os.path.expanduser(path))
        if full in cache:
            return cache[full]
        text = None
        try:
            st = os.stat(full)
            if st.st_size <= MAX_BYTES and not os.path.isdir(full):
                with open(full, "rb") as fh:
                    text = fh.read(MAX_BYTES + 1).decode("utf-8", "replace")
        except OSError:
            text = None
        cache[full] = text
        return text

    return read
