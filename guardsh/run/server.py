"""The per-user analysis server behind fast `guardsh -c` (see `fastpath`).

    python -m guardsh.run.server FOLDER [--idle SECONDS] [--log FILE]

One server per user and installation, started in the background by a
`guardsh -c` that found none. It keeps the pipeline loaded and decides each
request exactly as `guardsh -c` would in its own process, from the client's
text, cwd, environment (policy layers, kubeconfig, variables) and tty. Every
step the client's own process does better is answered `local`: a card to
show, an error to explain, and any line whose analysis looked at processes
(what is "your own shell" depends on who asks). It leaves when idle, when
its own code changed on disk (an upgrade), or when the policy says
`analysis_server: false`. Only peers with the server's uid are served.
Its pid is in the socket's `.lock` file; `--log` appends one line per
request (what was answered, and why when `local`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, TypeGuard

from guardsh.run import fastpath

IDLE_SECONDS = 600.0
MAX_REQUEST = 64 << 20  # the command text (a script may be large) and the environment


class _Watch:
    """The files of guardsh's loaded modules, to notice an upgrade."""

    def __init__(self) -> None:
        self.stamps = self._stamps()

    @staticmethod
    def _stamps() -> dict[str, tuple[int, int]]:
        out = {}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if (name == "guardsh" or name.startswith("guardsh.")) and path:
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    out[path] = (st.st_ino, st.st_mtime_ns)
        return out

    def changed(self) -> bool:
        for path, stamp in self.stamps.items():
            try:
                st = os.stat(path)
            except OSError:
                return True
            if (st.st_ino, st.st_mtime_ns) != stamp:
                return True
        return False


def _warm_up() -> None:
    from guardsh import analyze
    from guardsh.audit import open_log  # noqa: F401
    from guardsh.parse.bash import parser
    from guardsh.run import oneshot  # noqa: F401

    analyze.load_all()
    parser()


class Server:
    def __init__(self, folder: str, idle: float = IDLE_SECONDS, log: str | None = None) -> None:
        self.folder = folder
        self.log = log
        self.path = fastpath.socket_path(folder)
        self.idle = idle
        self.lock = threading.Lock()  # one analysis at a time (the parser is shared)
        self.active = 0
        self.last = time.monotonic()
        self.stopping = False
        self.watch: _Watch | None = None

    def serve(self) -> int:
        if not fastpath.private(self.folder):
            return 1
        lock = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0  # another server of this installation is running
            os.ftruncate(lock, 0)
            os.write(lock, f"{os.getpid()}\n".encode())
            os.chdir("/")  # keep no directory (or mount) of the first client busy
            _warm_up()
            self.watch = _Watch()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.path)
            os.chmod(self.path, 0o600)
            listener.listen(64)
            listener.settimeout(1.0)
            try:
                self._loop(listener)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
                listener.close()  # new clients go local at once
            while self.active:  # let running commands report their results
                time.sleep(0.05)
        finally:
            os.close(lock)
        return 0

    def _loop(self, listener: socket.socket) -> None:
        while not self.stopping:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                with self.lock:
                    if not self.active and time.monotonic() - self.last > self.idle:
                        return
                continue
            with self.lock:
                self.active += 1
                self.last = time.monotonic()
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._handle(conn)
        except Exception:  # a broken client must not take the server down
            pass
        finally:
            with self.lock:
                self.active -= 1
                self.last = time.monotonic()

    def _handle(self, conn: socket.socket) -> None:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():
            return
        conn.settimeout(fastpath.REPLY_TIMEOUT)
        request = json.loads(_readline(conn, MAX_REQUEST))
        conn.settimeout(None)  # the result comes when the command ends
        with self.lock:
            reply, step, token = self._decide(request, pid)
        self._note(reply, request)
        _send(conn, reply)
        if step is None:
            return
        try:
            result = json.loads(_readline(conn, 4096))
            exit_code, ms = int(result["exit"]), int(result["ms"])
        except (OSError, ValueError, KeyError, TypeError):
            exit_code, ms = -1, 0  # the client went away while its command ran
        if exit_code >= 0:
            step.recorder.result(token, exit_code, ms)
        step.recorder.close()

    def _local_only(self, policy: Any, facts: Any) -> str | None:
        """Why this analysis must be redone in the client's process, if it must."""
        if not policy.settings.analysis_server:
            self.stopping = True
            return "analysis_server: false"
        if facts.extra.get("processes_read"):  # see `gather.facts`
            return "looked at processes"
        return None

    def _note(self, reply: dict[str, Any], request: Any) -> None:
        if self.log is None:
            return
        text = request.get("text", "") if isinstance(request, dict) else ""
        line = f"{reply['do']}\t{reply.get('why', '')}\t{json.dumps(text)}\n"
        with contextlib.suppress(OSError), open(self.log, "a", encoding="utf-8") as fh:
            fh.write(line)

    def _decide(self, request: Any, pid: int) -> tuple[dict[str, Any], Any, int]:
        """The reply, and the step and audit token when the command runs."""
        from guardsh.audit.identity import Session
        from guardsh.run import oneshot

        def local(why: str) -> tuple[dict[str, Any], Any, int]:
            return {"do": "local", "why": why}, None, 0

        if not isinstance(request, dict) or request.get("protocol") != fastpath.PROTOCOL:
            return local("protocol")
        if self.watch is None or self.watch.changed():
            self.stopping = True
            return local("guardsh changed on disk")
        env, cwd, text = request.get("env"), request.get("cwd"), request.get("text")
        if not (_strings(env) and isinstance(cwd, str) and isinstance(text, str)):
            return local("malformed request")
        warnings: list[str] = []

        def warn(message: str) -> None:
            warnings.append(f"guardsh: audit: {message}\n")

        session = Session.of_client(pid=pid, tty=request.get("tty"), cwd=cwd, environ=env)
        step = oneshot.decide(
            text,
            can_ask=bool(request.get("terminal")),
            environ=env,
            cwd=cwd,
            session=session,
            warn=warn,
            local_only=self._local_only,
        )
        if step.kind == "refuse":
            return {"do": "refuse", "message": "".join(warnings) + step.message,
                    "status": int(step.status)}, None, 0  # fmt: skip
        if step.kind != "run":
            return local(step.message if step.kind == "local" else step.kind)
        token = oneshot.admit(step)
        if isinstance(token, str):
            return {"do": "refuse", "message": "".join(warnings) + token, "status": 126}, None, 0
        return {"do": "run", "message": "".join(warnings) + step.message}, step, token


def _strings(env: object) -> TypeGuard[Mapping[str, str]]:
    return isinstance(env, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    )


def _readline(conn: socket.socket, limit: int) -> bytes:
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
        if len(buf) > limit:
            raise OSError("request too large")
    return bytes(buf)


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    conn.sendall(json.dumps(reply).encode() + b"\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        sys.stderr.write(
            "usage: python -m guardsh.run.server FOLDER [--idle SECONDS] [--log FILE]\n"
        )
        return 2
    idle = float(argv[argv.index("--idle") + 1]) if "--idle" in argv else IDLE_SECONDS
    log = argv[argv.index("--log") + 1] if "--log" in argv else None
    return Server(argv[0], idle, log).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
