"""`guardsh audit serve`: the root collector of a system install.

Sessions cannot be allowed to write the log themselves (a user could rewrite
it), so on system installs they send records to this process over a unix
socket. The collector owns the root-only file and its chain: it seals every
record itself, and it takes the sender's identity from the socket's
`SO_PEERCRED` (uid, pid) and the sender's kernel login uid, never from what the
record claims. A root sender (a session behind `sudo`) may name the person
(`SUDO_USER`): root could write the file directly anyway. A claim that differs
from the credentials is overridden and reported to syslog.

Every record is also shipped to syslog, and every `anchor_interval` seconds
the chain head (genesis sha256, seq, sha256) is written to syslog as an
ANCHOR, so the collector's own file can be checked against an outside copy.
Started by systemd (socket activation: LISTEN_FDS) or binding the socket itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import threading
from collections.abc import Mapping
from types import FrameType
from typing import Any

from guardsh.audit.identity import Session, read_loginuid, user_name
from guardsh.audit.log import SYSTEM_LOG, SYSTEM_SOCKET
from guardsh.audit.record import FIELDS, SESSION_PHASES, canonical, now_ts, unsealed
from guardsh.audit.ship import Shipper
from guardsh.audit.writer import LogFile, chain_state
from guardsh.errors import AuditError

DEFAULT_SOCKET = SYSTEM_SOCKET
DEFAULT_LOG = SYSTEM_LOG
MAX_RECORD = 1 << 20
_CREDS = struct.Struct("3i")


def trusted_identity(pid: int, uid: int, claimed_user: Any) -> str:
    """The user a record from this peer is attributed to."""
    login = read_loginuid(pid)
    if login is not None:
        return user_name(login)
    if uid == 0 and isinstance(claimed_user, str) and claimed_user:
        return claimed_user
    return user_name(uid)


class Collector:
    def __init__(
        self,
        log_path: str = DEFAULT_LOG,
        *,
        socket_path: str | None = DEFAULT_SOCKET,
        listen_fd: int | None = None,
        fsync: bool = True,
        anchor_interval: float = 300.0,
        shipper: Shipper | None = None,
        socket_mode: int = 0o666,
    ) -> None:
        self.session = Session.current()
        self.log = LogFile(log_path, fsync=fsync, session=self.session)
        self.socket_path = socket_path
        self.listen_fd = listen_fd
        self.anchor_interval = anchor_interval
        self.ship = shipper or Shipper()
        self.socket_mode = socket_mode
        self.host = self.session.host
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_anchor: tuple[int, str] | None = None
        self._listener: socket.socket | None = None

    # ------------------------------------------------------------ socket
    def _listen(self) -> socket.socket:
        if self.listen_fd is not None:
            return socket.socket(fileno=self.listen_fd)
        path = self.socket_path or DEFAULT_SOCKET
        os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
        if os.path.exists(path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
            except OSError:
                os.unlink(path)  # stale socket of a dead collector
            else:
                raise AuditError(f"another collector is listening on {path}")
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        os.chmod(path, self.socket_mode)
        sock.listen(128)
        return sock

    def serve_forever(self, *, install_signals: bool = True) -> None:
        self._listener = self._listen()
        self._listener.settimeout(0.5)
        if install_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        anchors = threading.Thread(target=self._anchor_loop, name="anchor", daemon=True)
        anchors.start()
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    raise
                threading.Thread(target=self._serve_conn, args=(conn,), daemon=True).start()
        finally:
            self._listener.close()
            if self.listen_fd is None and self.socket_path:
                with contextlib.suppress(OSError):
                    os.unlink(self.socket_path)
            self.anchor()

    def stop(self) -> None:
        self._stop.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    # ------------------------------------------------------------ records
    def _serve_conn(self, conn: socket.socket) -> None:
        with conn:
            pid, uid, _gid = _CREDS.unpack(
                conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDS.size)
            )
            buf = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return  # a partial line at EOF never was a record
                buf += chunk
                while b"\n" in buf:
                    line, _, buf = buf.partition(b"\n")
                    reply = self.handle(line, pid, uid)
                    try:
                        conn.sendall(canonical(reply) + b"\n", socket.MSG_NOSIGNAL)
                    except OSError:
                        return
                if len(buf) > MAX_RECORD:
                    reply = {"ok": False, "error": "record too large", "retry": False}
                    conn.sendall(canonical(reply) + b"\n", socket.MSG_NOSIGNAL)
                    return

    def handle(self, line: bytes, pid: int, uid: int) -> dict[str, Any]:
        """Seal one client record into the chain; the reply for the client."""
        try:
            claimed = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "not JSON", "retry": False}
        if not isinstance(claimed, dict) or claimed.get("phase") not in SESSION_PHASES:
            return {"ok": False, "error": "not a session record", "retry": False}
        rec = unsealed({k: claimed.get(k) for k in FIELDS})
        user = trusted_identity(pid, uid, claimed.get("user"))
        if claimed.get("user") != user or claimed.get("uid") != uid:
            self.ship.note(
                {
                    "pid": pid,
                    "uid": uid,
                    "user": user,
                    "claimed_user": claimed.get("user"),
                    "claimed_uid": claimed.get("uid"),
                    "session": claimed.get("session"),
                }
            )
        rec.update(user=user, uid=uid, host=self.host)
        try:
            with self._lock:
                sealed = self.log.append([rec])[0]
                written = [*self.log.extra, sealed]
        except AuditError as e:  # disk full, read-only: the client queues and retries
            return {"ok": False, "error": str(e), "retry": True}
        for r in written:
            self.ship.record(r)
        return {
            "ok": True,
            "seq": sealed["seq"],
            "sha256": sealed["sha256"],
            "prev_sha256": sealed["prev_sha256"],
            "user": user,
            "uid": uid,
            "host": self.host,
        }

    # ------------------------------------------------------------ anchors
    def _anchor_loop(self) -> None:
        self.anchor()
        while not self._stop.wait(self.anchor_interval):
            self.anchor()

    def anchor(self) -> Mapping[str, Any] | None:
        """Ship the chain head to syslog when it moved since the last anchor."""
        with self._lock:
            state = chain_state(self.log.path)
        if state is None:
            return None
        chain, seq, sha = state
        if self._last_anchor == (seq, sha):
            return None
        self._last_anchor = (seq, sha)
        payload = {
            "chain": chain,
            "seq": seq,
            "sha256": sha,
            "file": self.log.path,
            "host": self.host,
            "ts": now_ts(),
        }
        self.ship.anchor(payload)
        return payload


def systemd_listen_fd(environ: Mapping[str, str] | None = None) -> int | None:
    """fd 3 when systemd socket activation handed us the socket."""
    env = os.environ if environ is None else environ
    if env.get("LISTEN_PID") == str(os.getpid()) and int(env.get("LISTEN_FDS", "0") or 0) >= 1:
        return 3
    return None
