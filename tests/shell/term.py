"""A real terminal for tests: guardsh on a pseudo-terminal, driven like a person.

`Term.expect()` searches the screen text (escape sequences stripped) from
where the last match ended; when it times out it fails with what was
expected, what the terminal showed (colors stripped) and the full log, the
way pgcli's `expect_exact` helper does, so a failing pty test reads like a
transcript.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colors, cursor movement, modes
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: the terminal title
    r"|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
# A fresh guardsh prompt: `[ENV] ... $` or `#` with nothing typed after it yet,
# and nothing after it on screen (so not the redrawn line of a command just
# accepted).
PROMPT = re.compile(r"\[[A-Z][A-Z0-9_-]*\][^\n]*? [$#] ?\Z")
CTRL_C, CTRL_D, CTRL_Z, ESC = "\x03", "\x04", "\x1a", "\x1b"


def strip(text: str) -> str:
    return ANSI.sub("", text).replace("\r", "")


class ExpectFailure(AssertionError):
    pass


class Term:
    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: str | None = None,
        rows: int = 40,
        cols: int = 200,
        timeout: float = 15.0,
    ) -> None:
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=env,
            cwd=cwd,
            dimensions=(rows, cols),
            timeout=timeout,
            encoding=None,
        )
        self.child.delaybeforesend = None
        self.timeout = timeout
        self.raw = b""
        self.pos = 0  # offset in the stripped text where the next search starts

    # ------------------------------------------------------------ reading
    @property
    def text(self) -> str:
        return strip(self.raw.decode("utf-8", "replace"))

    def _pump(self, timeout: float) -> bool:
        """Read what is there; False at EOF."""
        try:
            self.raw += self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            return False
        return True

    def expect(self, pattern: str | re.Pattern[str], timeout: float | None = None) -> re.Match[str]:
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
        deadline = time.monotonic() + (timeout or self.timeout)
        alive = True
        while True:
            m = rx.search(self.text, self.pos)
            if m is not None:
                self.pos = m.end()
                return m
            if not alive or time.monotonic() > deadline:
                self.fail(
                    rx.pattern, "EOF" if not alive else f"timeout after {timeout or self.timeout}s"
                )
            alive = self._pump(0.05)

    def expect_exact(self, text: str, timeout: float | None = None) -> re.Match[str]:
        return self.expect(re.compile(re.escape(text)), timeout)

    def prompt(self, timeout: float | None = None) -> re.Match[str]:
        m = self.expect(PROMPT, timeout)
        time.sleep(0.05)  # let prompt_toolkit finish drawing and read input
        return m

    def fail(self, expected: str, why: str) -> None:
        shown = self.text
        raise ExpectFailure(
            f"\n--- expected ({why}) ---\n{expected!r}\n"
            f"--- actual, after the last match (colors stripped) ---\n{shown[self.pos :][-3000:]}\n"
            f"--- full log (colors stripped) ---\n{shown[-12000:]}\n--- end ---"
        )

    def rest(self) -> str:
        """Text not yet consumed by a match."""
        self._pump(0.05)
        return self.text[self.pos :]

    # ------------------------------------------------------------ typing
    def send(self, text: str) -> None:
        self.child.send(text.encode())

    def line(self, text: str) -> None:
        """Type a line and press Enter."""
        self.send(text + "\r")

    def run(self, text: str, expect: str | re.Pattern[str] | None = None) -> str:
        """Type a line, wait for `expect` (if any) and the next prompt; the output between."""
        start = len(self.text)
        self.line(text)
        if expect is not None:
            if isinstance(expect, str):
                self.expect_exact(expect)
            else:
                self.expect(expect)
        self.prompt()
        return self.text[start : self.pos]

    def exit(self, timeout: float = 10.0) -> int:
        """Ctrl-D at an empty prompt; the shell's exit status."""
        self.send(CTRL_D)
        deadline = time.monotonic() + timeout
        while self._pump(0.1):
            if time.monotonic() > deadline:
                self.fail("EOF after Ctrl-D", "timeout")
        self.child.close()
        return int(
            self.child.exitstatus
            if self.child.exitstatus is not None
            else 128 + (self.child.signalstatus or 0)
        )

    def hang_up(self, timeout: float = 10.0) -> int | None:
        """Close the terminal (its master side), as closing the window or a
        dropped ssh connection does; the shell's wait status, or None when it
        is still running after `timeout`."""
        proc = self.child.ptyproc
        proc.fileobj.close()
        proc.closed = True
        self.child.closed = True
        deadline = time.monotonic() + timeout
        while proc.isalive():
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        return int(proc.status)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def guardsh_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "guardsh", *args]


def term_env(**extra: str) -> dict[str, str]:
    """The test process's (hermetic) environment plus what a pty test needs."""
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", LANG="C.UTF-8")
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env
