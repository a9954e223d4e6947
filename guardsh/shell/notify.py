"""Notices printed above the prompt: changed targets, finished background
jobs, warnings. Kept apart from the prompt so they print once, not on every
redraw."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from guardsh.run.backing import Job


def _running(j: Job) -> bool:
    return j.state.startswith(("Running", "Stopped"))


def finished_jobs(before: Sequence[Job], now: Sequence[Job]) -> list[str]:
    """Jobs that finished: listed as Done/Exit/Killed now, or gone since the
    last report. A non-interactive bash never announces them itself."""
    listed = {j.pid for j in now}
    known = {j.pid for j in before}
    # a foreground job that Ctrl-C ended is not news; a background one is
    done = [j for j in now if not _running(j) and (j.pid in known or j.command.endswith("&"))]
    done += [j for j in before if j.pid not in listed and _running(j)]
    return [
        f"[{j.number}] done: {j.command}"
        + ("" if j.state.startswith("Done") or j.state == "Running" else f" ({j.state})")
        for j in done
    ]


def stopped_jobs(before: Sequence[Job], now: Sequence[Job]) -> list[str]:
    """Jobs that Ctrl-Z (or a signal) stopped during the last command."""
    was = {j.pid for j in before if j.state.startswith("Stopped")}
    return [
        f"[{j.number}] stopped: {j.command} (fg to resume, bg to run it in the background)"
        for j in now
        if j.state.startswith("Stopped") and j.pid not in was
    ]


def show(messages: Sequence[str], out: TextIO | None = None, *, color: bool = True) -> None:
    if not messages:
        return
    stream = out or sys.stderr
    lead, end = ("\x1b[33m", "\x1b[0m") if color else ("", "")
    for m in messages:
        stream.write(f"{lead}guardsh: {m}{end}\n")
    stream.flush()
