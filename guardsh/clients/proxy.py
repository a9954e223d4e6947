"""The pseudo-terminal proxy: the client runs on a pty of guardsh's.

Bytes are copied both ways; window size changes are forwarded (SIGWINCH ->
TIOCSWINSZ); Ctrl-C reaches the client as a byte its pty turns into SIGINT.
Like rlwrap, guardsh follows the pty's mode: while the client reads in
canonical mode with echo (waiting for a line), the user's keys go to guardsh's
line editor; when the client turns echo or canonical mode off (a password
prompt, a pager, `\\e`), keys pass straight through, untouched.

`Screen` filters what the client writes: the pty's echo of a line guardsh
sent (the editor already showed it) and batch mode's readiness marks are
removed; the last partial line (the client's prompt) is kept.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import tty
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from guardsh.run import signals

READ = 65536


class Pty:
    """A child process on a new pseudo-terminal (its controlling terminal)."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None = None,
        *,
        stdin_pipe: bool = False,
    ) -> None:
        pipe = os.pipe() if stdin_pipe else None
        pid, fd = pty.fork()
        if pid == 0:  # the child: never returns
            if pipe is not None:  # lines come on a pipe; the pty stays its terminal
                os.dup2(pipe[0], 0)
                os.close(pipe[0])
                os.close(pipe[1])
            _exec(argv, env, cwd)
        self.pid = pid
        self.fd = fd
        self.pipe: int | None = None
        if pipe is not None:
            os.close(pipe[0])
            self.pipe = pipe[1]
        self.status: int | None = None
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    # ------------------------------------------------------------ mode
    def attrs(self) -> list[Any] | None:
        try:
            return termios.tcgetattr(self.fd)  # on Linux: the slave's settings
        except termios.error:
            return None

    def line_mode(self) -> bool:
        """The client waits for a line: canonical mode with echo."""
        a = self.attrs()
        if a is None:
            return False
        lflag = int(a[3])
        return bool(lflag & termios.ICANON) and bool(lflag & termios.ECHO)

    def control(self, name: int, default: bytes) -> bytes:
        a = self.attrs()
        if a is None:
            return default
        cc = a[6]
        value = cc[name] if isinstance(cc, list) else default
        return value if isinstance(value, bytes) and value != b"\0" else default

    def echo_of(self, data: bytes) -> bytes:
        """What the pty's echo of `data` looks like (ECHOCTL, ONLCR)."""
        if self.pipe is not None:
            return b""  # lines on a pipe are not echoed by the pty
        a = self.attrs()
        if a is None:
            return data
        oflag, lflag = int(a[1]), int(a[3])
        if not lflag & termios.ECHO:
            return b"\n" if lflag & termios.ECHONL and b"\n" in data else b""
        out = bytearray()
        for b in data:
            if b == 0x0A:
                onlcr = oflag & termios.OPOST and oflag & termios.ONLCR
                out += b"\r\n" if onlcr else b"\n"
            elif (b < 0x20 and b != 0x09) or b == 0x7F:
                out += b"^" + bytes([b ^ 0x40]) if lflag & termios.ECHOCTL else bytes([b])
            else:
                out.append(b)
        return bytes(out)

    # ------------------------------------------------------------ I/O
    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    select.select([], [self.fd], [], 0.1)
                    continue
                return  # the client is gone
            view = view[n:]

    def send_line_input(self, data: bytes) -> None:
        """Lines for the client to read: on its stdin pipe, or typed on the pty."""
        if self.pipe is None:
            self.write(data)
            return
        with contextlib.suppress(OSError):
            os.write(self.pipe, data)

    def end_input(self) -> None:
        """End of input (Ctrl-D at an empty line)."""
        if self.pipe is None:
            self.write(self.control(termios.VEOF, b"\x04"))
            return
        with contextlib.suppress(OSError):
            os.close(self.pipe)
        self.pipe = -1

    def read(self) -> bytes | None:
        """What the client wrote; None when the pty is closed."""
        try:
            data = os.read(self.fd, READ)
        except InterruptedError:
            return b""
        except OSError:
            return None
        return data or None

    def resize_from(self, fd: int) -> None:
        """Give the client the size of terminal `fd` (SIGWINCH follows)."""
        with contextlib.suppress(OSError):
            size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
            rows, cols = struct.unpack("HHHH", size)[:2]
            if rows and cols:
                fcntl.ioctl(self.fd, termios.TIOCSWINSZ, size)

    # ------------------------------------------------------------ end
    def exited(self) -> bool:
        if self.status is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.status = 0
            return True
        if pid == 0:
            return False
        self.status = status
        return True

    def wait(self) -> int:
        """The client's exit code (128+N for a signal)."""
        if self.status is None:
            self.status = signals.wait(self.pid)
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        with contextlib.suppress(OSError):
            os.close(self.fd)
        st = self.status
        return 128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.waitstatus_to_exitcode(st)

    def hangup(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGHUP)


def _exec(argv: Sequence[str], env: Mapping[str, str], cwd: str | None) -> None:
    try:
        for sig in signals.CHILD_DEFAULT:
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
        if cwd:
            os.chdir(cwd)
        os.execvpe(argv[0], list(argv), dict(env))
    except BaseException as e:
        with contextlib.suppress(Exception):
            os.write(
                2, f"guardsh: {argv[0]}: {e.strerror if isinstance(e, OSError) else e}\r\n".encode()
            )
    finally:
        os._exit(127)


class Screen:
    """The client's output, minus the echo of what guardsh sent and the marks."""

    def __init__(self, mark: bytes | None = None) -> None:
        self.expect = b""  # echo still to come
        self.skip = 0  # lines the client echoes itself, still to come
        self.mark = mark + b"\r\n" if mark else None
        self.hold = b""  # a possible start of a mark
        self.tail = b""  # the last partial line: the client's prompt
        self.ready = False  # batch mode: the mark came (the client is idle)
        self.since = bytearray()  # output since the last send (for errors)
        self.last = 0.0  # when output last came

    def expect_echo(self, echo: bytes) -> None:
        self.expect += echo

    def feed(self, data: bytes) -> bytes:
        """What of `data` the user should see."""
        self.last = time.monotonic()
        if self.expect:
            n = 0
            limit = min(len(data), len(self.expect))
            while n < limit and data[n] == self.expect[n]:
                n += 1
            if n == len(data):
                self.expect = self.expect[n:]
                return b""
            self.expect = b""  # the echo is over, or it was not an echo: show the rest
            data = data[n:]
        while self.skip and data:  # the client's own echo of the lines it was sent
            k = data.find(b"\n")
            if k < 0:
                return b""
            data = data[k + 1 :]
            self.skip -= 1
        if self.mark is not None:
            data = self._marks(self.hold + data)
        if len(self.since) < 65536:
            self.since += data[: 65536 - len(self.since)]
        k = data.rfind(b"\n")
        self.tail = data[k + 1 :] if k >= 0 else self.tail + data
        return data

    def _marks(self, data: bytes) -> bytes:
        assert self.mark is not None
        self.hold = b""
        while True:
            k = data.find(self.mark)
            if k < 0:
                break
            data = data[:k] + data[k + len(self.mark) :]
            self.ready = True
        for n in range(min(len(self.mark) - 1, len(data)), 0, -1):
            if self.mark.startswith(data[-n:]):
                self.hold = data[-n:]
                return data[:-n]
        return data

    def sent(self) -> None:
        self.ready = False
        self.since = bytearray()
        self.tail = b""


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[list[Any] | None]:
    """The user's terminal in raw mode (every key a byte for the client);
    yields the original settings, restored on the way out."""
    try:
        old = termios.tcgetattr(fd)
    except termios.error:
        yield None
        return
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield old
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, old)


@contextlib.contextmanager
def cooked(fd: int, old: list[Any] | None) -> Iterator[None]:
    """The user's own settings back for a while (the editor, a card)."""
    if old is None:
        yield
        return
    raw = termios.tcgetattr(fd)
    termios.tcsetattr(fd, termios.TCSADRAIN, old)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, raw)


def write_out(data: bytes, fd: int | None = None) -> None:
    fd = sys.stdout.fileno() if fd is None else fd
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except BlockingIOError:
            select.select([], [fd], [], 0.1)
