"""`AuditLog`: what the shell and `-c` call, and the promise that it never crashes them.

Each call builds one record and hands it to the sink (the local file, or the
collector). When that fails the record goes to the spool (local queue) and
to syslog, the user is warned once per outage, and the call returns a
*negative* number instead of a seq: the caller turns "not written" into the
policy's `audit_required` decision. Queued records are delivered, in order
and before anything newer, as soon as a later call finds the sink working.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from guardsh.audit.identity import Session, new_session_id
from guardsh.audit.record import blank, from_decision, result_of
from guardsh.audit.ship import Shipper
from guardsh.audit.spool import Spool
from guardsh.audit.writer import LogFile
from guardsh.errors import AuditError
from guardsh.model import Decision

Warn = Callable[[str], None]
SYSTEM_SOCKET = "/run/guardsh/audit.sock"  # system installs: sessions send here
SYSTEM_LOG = "/var/log/guardsh/audit.jsonl"  # the collector's root-only file
# Made (root only) by `install.sh --system` beside the collector's units: where
# it exists a collector is expected, and a missing socket means "collector down".
SYSTEM_LOG_DIR = os.path.dirname(SYSTEM_LOG)
_KEEP_INTENTS = 64


class Sink(Protocol):
    """Where records are written: returns them sealed, the last ones being the
    records given (seq None: refused for good), or raises AuditError."""

    def deliver(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class FileSink:
    """A user install: the session appends to its own log file."""

    def __init__(self, log: LogFile) -> None:
        self.log = log

    def deliver(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records as written, after any genesis/repair record this append wrote."""
        sealed = self.log.append(records)
        return self.log.extra + sealed

    def close(self) -> None:
        pass


def _stderr_warn(message: str) -> None:
    try:
        sys.stderr.write(f"guardsh: audit: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class AuditLog:
    """Append audit records for shell sessions; see the package docstring."""

    def __init__(
        self,
        sink: Sink,
        spool: Spool,
        *,
        shipper: Shipper | None,
        ships_records: bool,
        warn: Warn | None = None,
    ) -> None:
        self.sink = sink
        self.spool = spool
        self.shipper = shipper
        self._ships_records = ships_records  # False: the collector ships them
        self._warn = warn or _stderr_warn
        self._lock = threading.Lock()
        self._intents: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._provisional = 0
        self._orphans_checked = False
        self.last_error: AuditError | None = None
        self.last_session: Session | None = None

    # ------------------------------------------------------------ public
    @property
    def ok(self) -> bool:
        """True when the last record was written (not queued)."""
        return self.last_error is None

    @property
    def queued(self) -> int:
        """Records waiting in the spool (or memory) for delivery."""
        return self.spool.queued

    def intent(
        self,
        decision: Decision,
        *,
        reason: str | None = None,
        dry_run: Mapping[str, Any] | None = None,
        session: Session,
        cwd: str | None = None,
    ) -> int:
        """Before running: the command, findings, verdict, reason, dry run."""
        return self._decision("intent", decision, reason, dry_run, session, cwd, remember=True)

    def breakglass(
        self,
        decision: Decision,
        *,
        reason: str | None,
        dry_run: Mapping[str, Any] | None = None,
        session: Session,
        cwd: str | None = None,
    ) -> int:
        """A denied command run anyway under the policy's break-glass, with a reason."""
        return self._decision("breakglass", decision, reason, dry_run, session, cwd, remember=True)

    def declined(
        self,
        decision: Decision,
        *,
        reason: str | None = None,
        dry_run: Mapping[str, Any] | None = None,
        session: Session,
        cwd: str | None = None,
    ) -> int:
        """The user said no (or Ctrl-C) at the confirmation: nothing ran."""
        return self._decision("declined", decision, reason, dry_run, session, cwd)

    def denied(
        self,
        decision: Decision,
        *,
        reason: str | None = None,
        dry_run: Mapping[str, Any] | None = None,
        session: Session,
        cwd: str | None = None,
    ) -> int:
        """The policy (or a missing terminal, or a failed audit) refused: nothing ran."""
        return self._decision("denied", decision, reason, dry_run, session, cwd)

    def result(
        self,
        seq_or_intent: int | Mapping[str, Any],
        exit: int,
        duration_ms: int,
        *,
        session: Session | None = None,
    ) -> int:
        """After running: exit status and duration of the intent `seq_or_intent`."""
        if isinstance(seq_or_intent, Mapping):
            intent: Mapping[str, Any] | None = seq_or_intent
        else:
            intent = self._intents.pop(seq_or_intent, None)
        if intent is None:
            who = session or self.last_session or Session.current()
            intent = blank("result", who, cwd=None)
        return self._emit(result_of(intent, exit, duration_ms))

    def close(self) -> None:
        self.sink.close()

    # ------------------------------------------------------------ internals
    def _decision(
        self,
        phase: str,
        decision: Decision,
        reason: str | None,
        dry_run: Mapping[str, Any] | None,
        session: Session,
        cwd: str | None,
        *,
        remember: bool = False,
    ) -> int:
        self.last_session = session
        try:
            rec = from_decision(phase, decision, session, reason=reason, dry_run=dry_run, cwd=cwd)
        except (TypeError, ValueError) as e:  # never crash the shell over a record
            rec = blank(phase, session, cwd=cwd)
            rec.update(line=decision.line, reason=f"{reason or ''} [record error: {e}]".strip())
        token = self._emit(rec)
        if remember:
            self._intents[token] = rec
            while len(self._intents) > _KEEP_INTENTS:
                self._intents.popitem(last=False)
        return token

    def _emit(self, rec: dict[str, Any]) -> int:
        with self._lock:
            try:
                if not self._orphans_checked or self.spool.pending:
                    self._flush(orphans=not self._orphans_checked)
                    self._orphans_checked = True
                written = self.sink.deliver([rec])
            except AuditError as e:
                return self._queue(rec, e)
            except Exception as e:  # an audit bug must not kill the shell
                return self._queue(rec, AuditError(f"internal error: {e!r}"))
            sealed = written[-1]
            if sealed.get("seq") is None:
                return self._rejected(sealed)
            if self._ships_records and self.shipper is not None:
                for r in written:
                    self.shipper.record(r)
            if self.last_error is not None:
                self.last_error = None
                self._warn("audit log reachable again; queued records delivered")
            return int(sealed["seq"])

    def _flush(self, *, orphans: bool) -> None:
        def deliver(batch: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
            sealed = self.sink.deliver(batch)
            for r in sealed:
                if r.get("seq") is None:
                    self._rejected(r)
                elif self._ships_records and self.shipper is not None:
                    self.shipper.record(r)
            return sealed

        self.spool.drain(deliver, orphans=orphans)

    def _rejected(self, rec: dict[str, Any]) -> int:
        """The collector refused a record for good: it stays only in syslog."""
        why = rec.pop("rejected", "rejected")
        rec["seq"] = None
        if self.shipper is not None:
            self.shipper.record(rec, queued=True)
        self.last_error = AuditError(f"audit collector rejected a record: {why}")
        self._warn(str(self.last_error))
        self._provisional -= 1
        return self._provisional

    def _queue(self, rec: dict[str, Any], error: AuditError) -> int:
        first = self.last_error is None
        self.last_error = error
        where = self.spool.put(rec)
        if self.shipper is not None:
            self.shipper.record(rec, queued=True)
        if where == "memory":
            self._warn(
                f"{error}; no queue directory is writable: {self.spool.in_memory} record(s) "
                "held in memory and lost if this session ends"
            )
        elif first:
            self._warn(f"{error}; records are queued in {where} and sent when it works again")
        self._provisional -= 1
        return self._provisional


def default_queue_dirs(environ: Mapping[str, str] | None = None) -> list[str]:
    """Where a session spools: its state dir, then the runtime dir (tmpfs), then /tmp."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    state = env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    dirs = [os.path.join(state, "guardsh", "queue")]
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        dirs.append(os.path.join(runtime, "guardsh", "queue"))
    shared = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
    dirs.append(os.path.join(shared, f"guardsh-{os.getuid()}-queue"))
    return dirs


def default_log_path(environ: Mapping[str, str] | None = None) -> str:
    """A user install's log: $XDG_STATE_HOME/guardsh/audit.jsonl."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    state = env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return os.path.join(state, "guardsh", "audit.jsonl")


def open_log(
    path: str | None = None,
    *,
    collector: str | None = None,
    fsync: bool = False,
    queue_dirs: Sequence[str] | None = None,
    syslog: bool = True,
    warn: Warn | None = None,
    timeout: float = 2.0,
    session: Session | None = None,
) -> AuditLog:
    """An AuditLog on `collector` (a socket path) or on the file `path`.

    With neither, the user install's default file. Opening does no I/O, so it
    cannot fail; problems surface (and are queued) on the first record.
    """
    shipper = Shipper() if syslog else None
    sink: Sink
    if collector is not None:
        from guardsh.audit.client import CollectorClient  # socket: only system installs pay

        sink = CollectorClient(collector, timeout=timeout)
    else:
        sink = FileSink(LogFile(path or default_log_path(), fsync=fsync, session=session))
    sid = session.id if session is not None else new_session_id()
    spool = Spool(queue_dirs or default_queue_dirs(), sid, fsync=fsync)
    return AuditLog(sink, spool, shipper=shipper, ships_records=collector is None, warn=warn)
