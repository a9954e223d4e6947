"""History per user in the XDG state directory ($XDG_STATE_HOME/guardsh/history),
readable only by its owner; Ctrl-R searches it (prompt_toolkit's search)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from prompt_toolkit.history import FileHistory, History, InMemoryHistory


def history_path(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    state = env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return os.path.join(state, "guardsh", "history")


def open_history(environ: Mapping[str, str] | None = None) -> History:
    """The user's history file (created 0600 in a 0700 directory); in memory
    when that is impossible (read-only home), so the shell still starts."""
    path = history_path(environ)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)
