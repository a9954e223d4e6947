"""`guardsh -c` through this user's analysis server, when one is running.

Starting Python and importing the analysis pipeline costs about 60 ms, and
sshd, scp, rsync and cron pay it for every command. The analysis server
(`guardsh.run.server`) keeps the pipeline loaded. This client, which imports
next to nothing, sends it the command text with this process's cwd,
environment and tty, and gets one of:

- `run`: the intent is recorded; run the command, then report its status;
- `refuse`: recorded; print the message and leave with the status;
- `local`: anything else (a card to show, an error to explain, processes to
  look at, a server that is stale or switched off): `guardsh -c` does the
  whole analysis in its own process, exactly as when no server runs.

Any failure to reach or understand the server means `local`: the server only
ever makes the same decision faster. The client talks only to a socket in a
directory that belongs to this user and that no one else may enter; the
server accepts only peers of its own uid. `GUARDSH_SERVER=off` (or the
policy setting `analysis_server: false`) keeps every call local.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

PROTOCOL = 1
_absent = False  # set when no server answered the last `run`
REPLY_TIMEOUT = 30.0  # the server analyzes a 10,000-line script in well under a second
MAX_REPLY = 1 << 20


def runtime_dir(environ: Mapping[str, str]) -> str:
    """Where this user's server socket lives: GUARDSH_RUNTIME_DIR, else
    $XDG_RUNTIME_DIR/guardsh, else /tmp/guardsh-UID."""
    explicit = environ.get("GUARDSH_RUNTIME_DIR")
    if explicit:
        return explicit
    xdg = environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "guardsh")
    return f"/tmp/guardsh-{os.getuid()}"


def install_id() -> str:
    """Which guardsh installation this is: one server per installation, so a
    dev checkout and the user install never answer for each other."""
    import guardsh

    st = os.stat(os.path.dirname(os.path.abspath(guardsh.__file__)))
    return f"{st.st_dev:x}-{st.st_ino:x}"


def socket_path(folder: str) -> str:
    return os.path.join(folder, f"analysis-{install_id()}.sock")


def private(folder: str) -> bool:
    """True when `folder` is a real directory of this user that no one else may enter."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def absent() -> bool:
    """True when the last `run` found no server to ask (so one may be started)."""
    return _absent


def enabled() -> bool:
    return os.environ.get("GUARDSH_SERVER", "").lower() not in ("off", "0", "no", "false")


def _tty() -> str | None:
    try:
        return os.ttyname(0) if os.isatty(0) else None
    except OSError:
        return None


def _readline(sock: object) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)  # type: ignore[attr-defined]
        if not chunk or len(buf) > MAX_REPLY:
            raise OSError("the analysis server closed the connection")
        buf += chunk
    return buf


def run(text: str, args: list[str], login: bool) -> int | None:
    """Run `text` as `guardsh -c` through the server; None: do it locally
    (nothing was recorded and nothing ran)."""
    global _absent
    if not enabled():
        return None
    folder = runtime_dir(os.environ)
    if not private(folder):
        _absent = not os.path.lexists(folder)  # someone else's or unsafe: leave it alone
        return None
    import _socket
    import json

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(REPLY_TIMEOUT)
        try:
            sock.connect(socket_path(folder))
        except (FileNotFoundError, ConnectionRefusedError):
            _absent = True
            raise
        try:
            cwd = os.getcwd()
        except OSError:
            return None  # a deleted cwd: the local path explains it
        request = {
            "protocol": PROTOCOL,
            "text": text,
            "cwd": cwd,
            "env": dict(os.environ),
            "tty": _tty(),
            "terminal": os.isatty(0) and os.isatty(2),
        }
        sock.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(_readline(sock))
    except (OSError, ValueError, RecursionError):
        sock.close()
        return None
    kind = reply.get("do") if isinstance(reply, dict) else None
    if kind == "refuse":
        sock.close()
        sys.stderr.write(str(reply.get("message", "")))
        return int(reply.get("status", 126))
    if kind != "run":
        sock.close()
        return None
    sys.stderr.write(str(reply.get("message", "")))
    from guardsh.run import child, signals

    status, ms = child.run(text, args, login)
    try:
        sock.sendall(json.dumps({"exit": child.exit_code(status), "ms": ms}).encode() + b"\n")
        sock.recv(1)  # the server closes once the result is recorded
    except OSError:
        pass  # the intent is on record; the result is lost with the server
    sock.close()
    sys.stdout.flush()
    return signals.exit_like(status)


def start_server() -> None:
    """Start this user's analysis server in the background (its own session,
    no terminal, stdio on /dev/null); it exits by itself when idle."""
    if not enabled():
        return
    import contextlib

    folder = runtime_dir(os.environ)
    with contextlib.suppress(OSError):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    if not private(folder):
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
        argv = [sys.executable, "-P", "-m", "guardsh.run.server", folder]  # -P: not from the cwd
        with contextlib.suppress(OSError):
            os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setsid=True)
    finally:
        os.close(null)
