"""The session side of the collector protocol.

One connection per session, kept open; one JSON line per record, one JSON
line back: `{"ok": true, "seq": N, "sha256": "...", "prev_sha256": "..."}` or
`{"ok": false, "error": "..."}`. The collector seals the record into its
chain and answers only after the append (and fsync), so an `ok` means written.
A broken connection is retried once on a fresh socket (the collector may have
restarted); after that the failure is raised and the caller queues.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from typing import Any

from guardsh.audit.record import encode, unsealed
from guardsh.audit.writer import AuditWriteError
from guardsh.errors import AuditError

MAX_REPLY = 65536


class CollectorUnavailable(AuditError):
    """The collector socket cannot be reached or stopped answering."""


class CollectorClient:
    def __init__(self, path: str, *, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf = b""

    def deliver(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send records in order; each comes back sealed (or with `seq` None and
        `rejected` when the collector refuses it for good, e.g. malformed)."""
        return [self._send_one(r) for r in records]

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        return sock

    def _send_one(self, record: dict[str, Any]) -> dict[str, Any]:
        data = encode(unsealed(record))
        for attempt in (0, 1):
            fresh = self._sock is None
            try:
                if self._sock is None:
                    self._sock = self._connect()
                self._sock.sendall(data, socket.MSG_NOSIGNAL)
                reply = self._readline(self._sock)
                break
            except OSError as e:
                self.close()
                if fresh or attempt == 1:
                    raise CollectorUnavailable(f"audit collector {self.path}: {e}") from e
        try:
            answer = json.loads(reply)
        except ValueError as e:
            self.close()
            raise CollectorUnavailable(f"audit collector {self.path}: bad reply") from e
        if not answer.get("ok"):
            if (
                answer.get("retry") is False
            ):  # this record can never be written: don't block the queue
                return {**record, "seq": None, "rejected": str(answer.get("error", "rejected"))}
            raise AuditWriteError(f"audit collector: {answer.get('error', 'refused')}")
        sealed = dict(record)
        for k in ("seq", "prev_sha256", "sha256", "user", "uid", "host"):
            if k in answer:
                sealed[k] = answer[k]
        return sealed

    def _readline(self, sock: socket.socket) -> bytes:
        while b"\n" not in self._buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("collector closed the connection")
            self._buf += chunk
            if len(self._buf) > MAX_REPLY:
                raise ConnectionResetError("reply too long")
        line, _, self._buf = self._buf.partition(b"\n")
        return line
