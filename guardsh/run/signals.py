"""Signal dispositions of the front end, so that Ctrl-C and Ctrl-Z reach the
command and never the shell.

The front end, the backing bash and the running command share the terminal's
foreground process group, so a Ctrl-C reaches all three: the command dies,
bash runs its trap (and abandons the rest of the line), and the front end
must simply not care. Ctrl-Z is ignored by the front end (there is no one to
resume it); a hangup (the terminal closed) goes on to the backing bash, which
hangs up its jobs, and ends the session; `-c` forwards hangups and
terminations to its child and leaves the world with the child's own status,
death by signal included.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

# Reset to default in every child: Python ignores SIGPIPE and SIGXFSZ, and
# the front end may be ignoring the others when it spawns.
CHILD_DEFAULT = (
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGPIPE,
    signal.SIGTSTP,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGXFSZ,
    signal.SIGHUP,
    signal.SIGTERM,
    signal.SIGCHLD,
)

# Ignored by the front end for the whole session: a stopped front end would
# leave the terminal with no one to read it, and a Ctrl-C that lands between
# two prompts (the terminal briefly in cooked mode) must not end the shell.
# At the prompt and on a card, Ctrl-C is a key (raw mode), not a signal.
SESSION_IGNORED = (signal.SIGTSTP, signal.SIGTTOU, signal.SIGTTIN, signal.SIGINT, signal.SIGQUIT)
# Ignored while a command runs: they are meant for the command.
COMMAND_IGNORED = (signal.SIGINT, signal.SIGQUIT)


def _set(signals: tuple[signal.Signals, ...], handler: Handler) -> dict[signal.Signals, Handler]:
    old: dict[signal.Signals, Handler] = {}
    for sig in signals:
        with contextlib.suppress(OSError, ValueError):  # not the main thread, or not settable
            old[sig] = signal.signal(sig, handler)
    return old


def _restore(old: dict[signal.Signals, Handler]) -> None:
    for sig, handler in old.items():
        with contextlib.suppress(OSError, ValueError, TypeError):
            signal.signal(sig, handler)


def session() -> None:
    """Front end of an interactive session: never stop on Ctrl-Z or tty access."""
    _set(SESSION_IGNORED, signal.SIG_IGN)


class HangUp(BaseException):
    """The terminal hung up: the session ends. A BaseException, as SystemExit
    is, so that no `except Exception` on the way keeps the session alive."""


def hang_up_with(pid: int) -> None:
    """Interactive session: when the terminal hangs up (SIGHUP: the window
    closed, the ssh connection dropped), pass the hangup to the backing bash,
    which hangs up its jobs and continues the stopped ones before it exits,
    as bash does on its own SIGHUP; then leave (HangUp). A second hangup
    during the way out is ignored."""

    def hang_up(sig: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGHUP)
        raise HangUp

    _set((signal.SIGHUP,), hang_up)


@contextlib.contextmanager
def command_running() -> Iterator[None]:
    """While a command owns the terminal, its Ctrl-C and Ctrl-\\ are not ours."""
    old = _set(COMMAND_IGNORED, signal.SIG_IGN)
    try:
        yield
    finally:
        _restore(old)


@contextlib.contextmanager
def forwarding(
    pid: int, signals: tuple[signal.Signals, ...] = (signal.SIGHUP, signal.SIGTERM)
) -> Iterator[None]:
    """`-c`: pass hangups/terminations on to the child; ignore terminal
    interrupts, which the child receives itself (as system() does)."""

    def forward(sig: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    old = _set(COMMAND_IGNORED, signal.SIG_IGN)
    old.update(_set(signals, forward))
    try:
        yield
    finally:
        _restore(old)


def wait(pid: int) -> int:
    """Wait for a child; its wait status (retrying on EINTR)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return status
        except InterruptedError:
            continue


def exit_like(status: int) -> int:
    """Leave as the child left: re-raise a fatal signal on ourselves (so sshd
    and cron see the same death), else return its exit code."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
                os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)
