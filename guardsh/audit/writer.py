"""Appending records to one log file without losing or interleaving any.

Every append opens the file, takes an exclusive `flock`, reads the chain head
(the last complete record) from the file itself, seals the new records after
it, writes them with one `write`, optionally `fdatasync`s, and closes. Many
processes can therefore share a file; the lock, not a process, owns the head.

A writer killed mid-append leaves a *torn tail*: bytes after the last newline.
The next writer cuts them off and writes a `repair` record that keeps them as
evidence, so the chain goes on unbroken. A failed write (disk full, read-only)
is undone by truncating back to where it started, and raised as
`AuditWriteError`: the file never keeps half a record because of us.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guardsh.audit.identity import Session
from guardsh.audit.record import ZERO_SHA, encode, genesis, repair, seal
from guardsh.errors import AuditError

# Test hook: `torn` makes the next append write half its bytes and SIGKILL
# itself, so the torn-tail path can be exercised deterministically.
CRASH_HOOK = "GUARDSH_AUDIT_TEST_CRASH"
_CHUNK = 65536


class AuditWriteError(AuditError):
    """A record could not be written; `errno` says why (ENOSPC, EROFS, EACCES...)."""

    def __init__(self, message: str, err: int | None = None):
        super().__init__(message)
        self.errno = err


@dataclass(frozen=True, slots=True)
class Head:
    """The end of a file's chain as found on disk."""

    seq: int  # -1: empty file
    sha256: str
    end: int  # offset just past the last complete line
    torn: bytes = b""  # bytes after the last newline
    foreign: bool = False  # the last line is not a guardsh record


def read_head(fd: int, size: int) -> Head:
    """Find the last complete record by reading the file backwards."""
    if size == 0:
        return Head(-1, ZERO_SHA, 0)
    tail = b""
    pos = size
    # Read until the tail holds the last newline and the newline before it.
    while pos > 0:
        n = min(_CHUNK, pos)
        pos -= n
        tail = os.pread(fd, n, pos) + tail
        last_nl = tail.rfind(b"\n")
        if last_nl != -1 and (tail.rfind(b"\n", 0, last_nl) != -1 or pos == 0):
            break
    base = pos
    last_nl = tail.rfind(b"\n")
    if last_nl == -1:  # nothing complete at all: the whole file is torn
        return Head(-1, ZERO_SHA, 0, torn=tail)
    torn = tail[last_nl + 1 :]
    start = tail.rfind(b"\n", 0, last_nl) + 1
    line = tail[start:last_nl]
    end = base + last_nl + 1
    try:
        rec = json.loads(line)
        return Head(int(rec["seq"]), str(rec["sha256"]), end, torn=torn)
    except (ValueError, KeyError, TypeError):
        # Someone else's line ends the file: chain to its raw bytes so the
        # next record still proves what it followed; verify reports the line.
        return Head(
            _seq_before(fd, base + start), hashlib.sha256(line).hexdigest(), end, torn, True
        )


def _seq_before(fd: int, offset: int) -> int:
    """The seq of the last parseable record before `offset` (-1: none)."""
    lo = max(0, offset - _CHUNK)
    for raw in reversed(os.pread(fd, offset - lo, lo).split(b"\n")):
        try:
            return int(json.loads(raw)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return -1


class LogFile:
    """One append-only, hash-chained JSON Lines file."""

    def __init__(
        self,
        path: str,
        *,
        fsync: bool = False,
        session: Session | None = None,
        mode: int = 0o600,
    ) -> None:
        self.path = os.path.abspath(path)
        self.fsync = fsync
        self.mode = mode
        self._session = session
        self._cache: tuple[int, int, int, Head] | None = None  # dev, ino, size, head
        self.head: tuple[int, str] | None = None  # (seq, sha256) after our last append
        self.genesis_sha256: str | None = None
        # genesis/repair records the last append wrote before the caller's: shipped too
        self.extra: list[dict[str, Any]] = []
        self.repairs = 0

    def _writer_session(self) -> Session:
        if self._session is None:
            self._session = Session.current()
        return self._session

    def append(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Seal and append `records` in order; return them as written."""
        self.extra = []
        try:
            fd = self._open()
        except OSError as e:
            raise AuditWriteError(f"cannot open {self.path}: {e.strerror}", e.errno) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return self._append_locked(fd, records)
        finally:
            os.close(fd)  # also releases the lock

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            return os.open(self.path, flags, self.mode)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            return os.open(self.path, flags, self.mode)

    def _append_locked(self, fd: int, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        st = os.fstat(fd)
        cached = self._cache
        if cached is not None and cached[:3] == (st.st_dev, st.st_ino, st.st_size):
            head = cached[3]
        else:
            head = read_head(fd, st.st_size)
        start = st.st_size
        todo: list[dict[str, Any]] = []
        if head.seq == -1:
            todo.append(genesis(self._writer_session()))
        if head.torn:
            self._truncate(fd, head.end)
            start = head.end
            self.repairs += 1
            todo.append(repair(self._writer_session(), head.torn, head.seq))
        todo.extend(records)
        sealed: list[dict[str, Any]] = []
        seq, prev = head.seq, head.sha256
        for rec in todo:
            seq += 1
            out = seal(rec, seq, prev)
            prev = out["sha256"]
            sealed.append(out)
            if out["phase"] == "genesis":
                self.genesis_sha256 = prev
        data = b"".join(encode(r) for r in sealed)
        self._write(fd, data, start)
        new_head = Head(seq, prev, start + len(data))
        self._cache = (st.st_dev, st.st_ino, start + len(data), new_head)
        self.head = (seq, prev)
        n = len(records)
        self.extra = sealed[: len(sealed) - n]
        return sealed[len(sealed) - n :] if n else []

    def _write(self, fd: int, data: bytes, start: int) -> None:
        if os.environ.get(CRASH_HOOK) == "torn":
            os.write(fd, data[: max(1, len(data) // 2)])
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                if n <= 0:
                    raise OSError(errno.EIO, "short write")
                view = view[n:]
            if self.fsync:
                os.fdatasync(fd)
        except OSError as e:
            self._cache = None
            self._undo(fd, start)
            raise AuditWriteError(f"cannot write {self.path}: {e.strerror}", e.errno) from e

    @staticmethod
    def _truncate(fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
        except OSError as e:
            raise AuditWriteError(f"cannot repair torn tail: {e.strerror}", e.errno) from e

    @staticmethod
    def _undo(fd: int, start: int) -> None:
        """Leave the file as it was before this append (best effort)."""
        try:
            if os.fstat(fd).st_size > start:
                os.ftruncate(fd, start)
        except OSError:
            pass


def write_records(
    path: str, records: Sequence[dict[str, Any]], *, fsync: bool = False
) -> list[dict[str, Any]]:
    """Convenience for tools and tests: append to `path` once."""
    return LogFile(path, fsync=fsync).append(records)


def chain_state(path: str) -> tuple[str, int, str] | None:
    """(genesis sha256, head seq, head sha256) of a log file, read under a shared lock."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        size = os.fstat(fd).st_size
        first = os.pread(fd, min(size, _CHUNK), 0).split(b"\n", 1)[0]
        head = read_head(fd, size)
    finally:
        os.close(fd)
    try:
        chain = str(json.loads(first)["sha256"])
    except (ValueError, KeyError, TypeError):
        return None
    if head.seq < 0:
        return None
    return chain, head.seq, head.sha256
