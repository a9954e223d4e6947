"""The local queue: records that could not be written yet, kept in order.

When the collector is unreachable, or the log's disk is full or read-only, a
session appends its records (unsealed: no seq, no hashes) to its own spool
file `<dir>/<session>.jsonl`; they are sealed into the chain when delivery
works again, before any newer record of that session. Several directories
are tried in order (the state dir, then the runtime dir on tmpfs); when none
is writable the records are held in memory and the user is told they will be
lost if the session ends. The cursor only moves forward, so the order
"earlier directory, later directory, memory" is the order the records were made.

Spool files of sessions that ended (orphans) are delivered by the next session
of the same user, sessions oldest first (by the `ts` of each file's first
record, its oldest: session ids are random), each file in its own order.
Delivery is at-least-once: a crash between the log's append and the spool's
truncation can repeat a record (same ts and session).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from guardsh.audit.record import encode, unsealed

Deliver = Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]
BATCH = 256


class Spool:
    def __init__(self, dirs: Sequence[str], session_id: str, *, fsync: bool = False) -> None:
        self.dirs = [os.path.abspath(d) for d in dirs]
        self.name = f"{session_id}.jsonl"
        self.fsync = fsync
        self._cursor = 0  # first dir that may still take records
        self._memory: list[dict[str, Any]] = []
        self._queued = 0  # records we put and have not seen delivered

    @property
    def pending(self) -> bool:
        return self._queued > 0 or bool(self._memory)

    @property
    def in_memory(self) -> int:
        return len(self._memory)

    @property
    def queued(self) -> int:
        return self._queued

    def where(self) -> str:
        if self._memory or self._cursor >= len(self.dirs):
            return "memory"
        return self.dirs[self._cursor]

    def put(self, record: dict[str, Any]) -> str:
        """Queue one record; return where it went (a directory or "memory")."""
        rec = unsealed(record)
        self._queued += 1
        while not self._memory and self._cursor < len(self.dirs):
            d = self.dirs[self._cursor]
            try:
                self._append(os.path.join(d, self.name), encode(rec))
                return d
            except OSError:
                self._cursor += 1
        self._memory.append(rec)
        return "memory"

    def _append(self, path: str, data: bytes) -> None:
        d = os.path.dirname(path)
        os.makedirs(d, mode=0o700, exist_ok=True)
        _check_private(d)
        while True:
            with _locked(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT) as fd:
                if not _same_file(fd, path):  # a drainer unlinked it: retry
                    continue
                start = os.fstat(fd).st_size
                try:
                    os.write(fd, data)
                    if self.fsync:
                        os.fdatasync(fd)
                except OSError:
                    os.ftruncate(fd, start)
                    raise
                return

    def drain(self, deliver: Deliver, *, orphans: bool = False) -> int:
        """Deliver queued records in order; raise (keeping the rest) when delivery fails."""
        done = 0
        for path in self._files(orphans):
            done += self._drain_file(path, deliver)
        while self._memory:
            batch = self._memory[:BATCH]
            deliver(batch)
            del self._memory[: len(batch)]
            done += len(batch)
        self._queued = 0
        self._cursor = 0
        return done

    def _files(self, orphans: bool) -> list[str]:
        if not orphans:
            own = (os.path.join(d, self.name) for d in self.dirs)
            return [p for p in own if os.path.exists(p)]
        paths: list[str] = []
        for d in self.dirs:
            try:
                names = sorted(n for n in os.listdir(d) if n.endswith(".jsonl"))
            except OSError:
                continue
            paths += (os.path.join(d, n) for n in names)
        # Sessions oldest first. The sort is stable, so a session queued in
        # several dirs keeps "earlier directory first" on a tie.
        return sorted(paths, key=_first_ts)

    def _drain_file(self, path: str, deliver: Deliver) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _same_file(fd, path):
                return 0
            records = list(_read_records(fd))
            done = 0
            try:
                for i in range(0, len(records), BATCH):
                    batch = records[i : i + BATCH]
                    deliver(batch)
                    done += len(batch)
            finally:
                if done < len(records):
                    _rewrite(fd, records[done:])
            os.unlink(path)
            return done
        finally:
            os.close(fd)


@contextmanager
def _locked(path: str, flags: int) -> Iterator[int]:
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _check_private(d: str) -> None:
    """Refuse a queue dir that someone else owns or that is a symlink (e.g. a
    pre-created /dev/shm/guardsh-UID-queue): another user could read or plant records."""
    st = os.lstat(d)
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError(errno.EPERM, "queue directory not owned by this user", d)


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _first_ts(path: str) -> str:
    """The ts of a spool file's first record ("" when there is none to read)."""
    try:
        with open(path, "rb") as fh:
            rec = json.loads(fh.readline())
    except (OSError, ValueError):
        return ""
    ts = rec.get("ts") if isinstance(rec, dict) else None
    return ts if isinstance(ts, str) else ""


def _read_records(fd: int) -> Iterator[dict[str, Any]]:
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0)
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue  # a spool line torn by a crash: it never was a record
        if isinstance(rec, dict):
            yield rec


def _rewrite(fd: int, records: Sequence[dict[str, Any]]) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, b"".join(encode(r) for r in records), 0)
