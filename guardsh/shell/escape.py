"""Nested shells in protected environments: `bash`, `sudo -i`, `su -` start a
nested *guarded* shell instead of an unguarded one.

The analyzer reports `shell.escape`; the shell decides. In a protected
environment the plain, recognizable forms are rewritten to run guardsh in
their place (`bash` -> `guardsh`, `sudo -i` -> `sudo -i GUARDSH`,
`su - app` -> `su - app -c GUARDSH`), and the rewritten line is analyzed and
run like any other. Anything else (`bash --rcfile x`, `exec bash`, pipes) is
left to the policy: it keeps its `shell.escape` finding and asks.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping

_SIMPLE = re.compile(r"^[\w\s./=@:+-]+$")
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash"})
_SHELL_FLAGS = frozenset({"-l", "--login", "-i", "-il", "-li"})


def guardsh_command(environ: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """How to start guardsh again: (shell words, usable by another user).

    The installed script when guardsh was started through one; otherwise the
    same interpreter with `-m guardsh` (a checkout or a test), which another
    user's login environment may not be able to import.
    """
    argv0 = sys.argv[0].lstrip("-") if sys.argv and sys.argv[0] else ""
    if os.path.basename(argv0).startswith("guardsh") and not argv0.endswith(".py"):
        path = argv0 if os.path.isabs(argv0) else _which(argv0, environ)
        if path and os.access(path, os.X_OK):
            home = (environ or os.environ).get("HOME", "/nonexistent")
            shared = not path.startswith(home.rstrip("/") + "/") and bool(
                os.stat(path).st_mode & 0o001
            )
            return shlex.quote(path), shared
    return f"{shlex.quote(sys.executable)} -m guardsh", False


def _which(name: str, environ: Mapping[str, str] | None) -> str | None:
    if "/" in name:
        return os.path.abspath(name)
    for d in (environ or os.environ).get("PATH", "").split(":"):
        candidate = os.path.join(d or ".", name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def nested(line: str, guardsh: str, shared: bool) -> str | None:
    """The line with a guarded shell in place of the unguarded one, or None
    when it is not one of the plain forms."""
    text = line.strip()
    if not text or not _SIMPLE.match(text):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    prog, args = os.path.basename(words[0]), words[1:]
    if prog in _SHELLS and all(a in _SHELL_FLAGS for a in args):
        login = any(a in ("-l", "--login", "-il", "-li") for a in args)
        return guardsh + (" -l" if login else "")
    if not shared:
        return None  # another user could not start this guardsh
    if prog == "sudo":
        return _sudo(args, guardsh)
    if prog == "su":
        return _su(args, guardsh)
    return None


def _sudo(args: list[str], guardsh: str) -> str | None:
    user: str | None = None
    mode: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-u", "--user") and i + 1 < len(args):
            user = args[i + 1]
            i += 2
            continue
        if a.startswith("--user="):
            user = a.split("=", 1)[1]
        elif a in ("-i", "--login"):
            mode = "-i"
        elif a in ("-s", "--shell"):
            mode = "-s"
        elif a in ("-iu", "-su") and i + 1 < len(args):
            mode, user = a[:2], args[i + 1]
            i += 2
            continue
        else:
            return None
        i += 1
    if mode is None:
        return None
    who = f"-u {shlex.quote(user)} " if user else ""
    return f"sudo {who}{mode} {guardsh}" + (" -l" if mode == "-i" else "")


def _su(args: list[str], guardsh: str) -> str | None:
    login = False
    user: str | None = None
    for a in args:
        if a in ("-", "-l", "--login"):
            login = True
        elif not a.startswith("-") and user is None:
            user = a
        else:
            return None
    parts = ["su"] + (["-"] if login else []) + ([shlex.quote(user)] if user else [])
    return " ".join(parts) + f" -c {shlex.quote(guardsh + (' -l' if login else ''))}"
