"""Who owns the terminal: the front end while it prompts, bash while a command runs.

An interactive backing bash has job control, so it puts itself (and each
job) in a process group of its own and makes that the terminal's foreground.
The front end takes the terminal back to draw the prompt and the card, and
hands it to bash before each command; it ignores SIGTTOU (signals.session),
so it may call tcsetpgrp from the background.
"""

from __future__ import annotations

import os


def terminal_fd() -> int | None:
    """The controlling terminal on stdin, or None."""
    return 0 if os.isatty(0) else None


def hand_to(pgid: int, fd: int | None = None) -> bool:
    """Make `pgid` the terminal's foreground process group; False when impossible."""
    fd = terminal_fd() if fd is None else fd
    if fd is None:
        return False
    try:
        if os.tcgetpgrp(fd) != pgid:
            os.tcsetpgrp(fd, pgid)
        return True
    except OSError:
        return False


def take(fd: int | None = None) -> bool:
    """The front end's own process group gets the terminal back."""
    return hand_to(os.getpgrp(), fd)
