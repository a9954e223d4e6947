"""Notices printed above the prompt: changed targets, finished background
jobs, warnings. Kept apart from the prompt so they print once, not on every
redraw."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import TextIO

from guardsh.run.backing import Job

# A command that Ctrl-Z (SIGTSTP), SIGSTOP, SIGTTIN or SIGTTOU stopped.
STOPPED_STATUS = frozenset({147, 148, 149, 150})
_FG = re.compile(r"^\s*(?:fg(?:\s+%?(\d+))?|%(\d+))\s*$")


def _running(j: Job) -> bool:
    return j.state.startswith(("Running", "Stopped"))


def _how(state: str) -> str:
    """`Done`, `Exit 2`, `Terminated`, `Killed`, ... as the notice says it."""
    if state.startswith("Done"):
        return "done"
    if state.startswith("Exit "):
        return f"exit {state.split()[1]}"
    return state.lower()


def finished_jobs(before: Sequence[Job], now: Sequence[Job], status: int = 0) -> list[str]:
    """Background jobs that ended: listed as Done/Exit/a signal now, and
    running (or stopped) in the background at the last report, or started
    with `&` by the last line. A non-interactive bash never announces them
    itself. Not news, as in bash: a foreground job (one `fg` brought back)
    ended by Ctrl-C, and a job gone from the list (`fg` ran it to its end,
    `wait` waited for it, `disown` dropped it)."""
    was = {j.pid: j for j in before}
    out = []
    for j in now:
        if _running(j):
            continue
        prev = was.get(j.pid)
        background = (prev is not None and _running(prev)) or (
            prev is None and j.command.endswith("&")
        )
        if not background or (status == 130 and j.state.startswith("Interrupt")):
            continue
        out.append(f"[{j.number}] {_how(j.state)}: {j.command.removesuffix('&').rstrip()}")
    return out


def stopped_jobs(
    before: Sequence[Job], now: Sequence[Job], status: int = 0, line: str = ""
) -> list[str]:
    """Jobs that Ctrl-Z (or a signal) stopped during the last command,
    including a stopped job that `fg` resumed and Ctrl-Z stopped again."""
    was = {j.pid for j in before if j.state.startswith("Stopped")}
    stopped = [j for j in now if j.state.startswith("Stopped")]
    news = [j for j in stopped if j.pid not in was]
    if not news and status in STOPPED_STATUS:
        again = [j for j in stopped if j.pid in was]
        m = _FG.match(line)
        number = m and (m.group(1) or m.group(2))
        if number:
            again = [j for j in again if j.number == int(number)]
        news = again if len(again) == 1 else []
    return [
        f"[{j.number}] stopped: {j.command} (fg to resume, bg to run it in the background)"
        for j in news
    ]


def show(messages: Sequence[str], out: TextIO | None = None, *, color: bool = True) -> None:
    if not messages:
        return
    stream = out or sys.stderr
    lead, end = ("\x1b[33m", "\x1b[0m") if color else ("", "")
    for m in messages:
        stream.write(f"{lead}guardsh: {m}{end}\n")
    stream.flush()
