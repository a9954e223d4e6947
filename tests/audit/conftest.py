"""Fixtures: hermetic dirs, child processes, a real collector, tmpfs, a /dev/log listener."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from guardsh.cli.audit import audit; audit()"]


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    for var in (
        "SUDO_USER",
        "SUDO_UID",
        "SSH_CONNECTION",
        "SSH_CLIENT",
        "GUARDSH_AUDIT_TEST_CRASH",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return home


def run_proc(
    *args: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m tests.audit.proc ARGS` in a real child process."""
    cp = subprocess.run(
        [sys.executable, "-m", "tests.audit.proc", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and cp.returncode != 0:
        raise AssertionError(f"proc {args} exited {cp.returncode}:\n{cp.stdout}\n{cp.stderr}")
    return cp


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`guardsh audit ARGS` as a real process (the lead mounts this group into `guardsh`)."""
    return subprocess.run(
        [*CLI, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


@pytest.fixture
def sockdir() -> Iterator[Path]:
    """A short, world-traversable dir for sockets (sun_path is 108 bytes; nobody must reach it)."""
    d = Path(tempfile.mkdtemp(prefix="gsh-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class CollectorProc:
    def __init__(
        self,
        sock: Path,
        log: Path,
        anchor_interval: float = 300.0,
        wrap: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self.sock, self.log, self.anchor_interval = sock, log, anchor_interval
        self.wrap = wrap or (lambda c: c)
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> CollectorProc:
        cmd = [
            *CLI,
            "serve",
            "--socket",
            str(self.sock),
            "--log",
            str(self.log),
            "--no-fsync",
            "--anchor-interval",
            str(self.anchor_interval),
        ]
        self.proc = subprocess.Popen(
            self.wrap(cmd), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"collector exited {self.proc.returncode}: {out}{err}")
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
                s.connect(str(self.sock))
                return self
            time.sleep(0.05)
        raise AssertionError("collector did not start listening")

    def stop(self) -> tuple[str, str]:
        """SIGTERM (if still running) and reap; returns its stdout and stderr."""
        out = ("", "")
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                out = self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out = self.proc.communicate()
        self.proc = None
        return out


@pytest.fixture
def collector_factory(sockdir: Path) -> Iterator[Callable[..., CollectorProc]]:
    made: list[CollectorProc] = []

    def make(
        log: Path,
        *,
        anchor_interval: float = 300.0,
        wrap: Callable[[list[str]], list[str]] | None = None,
    ) -> CollectorProc:
        c = CollectorProc(sockdir / "audit.sock", log, anchor_interval, wrap)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a disk that really fills up."""
    d = tmp_path / "small"
    d.mkdir()
    cp = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(d)],
        capture_output=True,
        text=True,
    )
    if cp.returncode != 0:
        pytest.skip(f"mount is not permitted here: {cp.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


class SyslogCapture:
    """Datagrams that processes send to /dev/log while the fixture lives."""

    def __init__(self, sock: socket.socket, wrap: Callable[[list[str]], list[str]]) -> None:
        self.sock = sock
        self.wrap = wrap
        self.messages: list[str] = []

    def drain(
        self, wait: float = 0.0, until: Callable[[list[str]], bool] | None = None
    ) -> list[str]:
        deadline = time.monotonic() + wait
        while True:
            try:
                self.messages.append(self.sock.recv(1 << 20).decode("utf-8", "replace"))
                continue
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline or (until is not None and until(self.messages)):
                return self.messages
            time.sleep(0.02)


@pytest.fixture
def syslog_capture(sockdir: Path) -> Iterator[SyslogCapture]:
    """Listen where the stdlib `syslog` module sends (/dev/log).

    Where no syslog daemon owns /dev/log (containers, CI) the socket is bound
    there for the test; where one does, children run in a private mount
    namespace with our socket bound over /dev/log, so the host's log is untouched.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    if os.path.exists("/dev/log"):
        own = sockdir / "log"
        sock.bind(str(own))

        def wrap(cmd: list[str]) -> list[str]:
            return [
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$0" /dev/log && exec "$@"',
                str(own),
                *cmd,
            ]

        created = False
    else:
        sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        created = True

        def wrap(cmd: list[str]) -> list[str]:
            return cmd

    try:
        yield SyslogCapture(sock, wrap)
    finally:
        sock.close()
        if created:
            with contextlib.suppress(OSError):
                os.unlink("/dev/log")


def fork_as(uid: int, fn: Callable[[], str]) -> str:
    """Run `fn` in a forked child that dropped to `uid`; return what it returned (or its error)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            out = fn()
        except BaseException as e:
            out, code = f"ERROR {type(e).__name__}: {e}", 1
        os.write(w, out.encode())
        os._exit(code)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()
