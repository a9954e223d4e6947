"""Run a `-c` command as bash would: the child inherits stdin, stdout and
stderr untouched, hangups and terminations are forwarded to it, and the
caller leaves with its status (a death by signal re-raised)."""

from __future__ import annotations

import os
import time

from guardsh.run import signals

BASH = "/bin/bash"


def run(text: str, args: list[str], login: bool) -> tuple[int, int]:
    """Run `bash [-l] -c text args...`; its wait status and how long it ran (ms)."""
    argv = ["bash", "-l", "-c", text, *args] if login else ["bash", "-c", text, *args]
    t0 = time.monotonic()
    pid = os.posix_spawn(BASH, argv, os.environ, setsigdef=signals.CHILD_DEFAULT, setsigmask=())
    with signals.forwarding(pid):
        status = signals.wait(pid)
    return status, int((time.monotonic() - t0) * 1000)


def exit_code(status: int) -> int:
    """The status as `$?` shows it (128+N for a death by signal N)."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code
