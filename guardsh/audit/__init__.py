"""The audit trail: who ran what, where, why, and proof it was not edited.

API for the rest of guardsh (everything else in this package is internal)::

    from guardsh.audit import Session, open_log

    session = Session.current(policy_sha256=policy.sha256)   # once per shell session
    log = open_log(path, collector=socket_or_None, fsync=False)
    seq = log.intent(decision, reason=reason, dry_run=dry_run, session=session, cwd=cwd)
    if seq < 0 and policy_says_audit_required:
        ...  # not written (queued): refuse to run, record log.denied(...)
    log.result(seq, exit=status, duration_ms=ms)              # after it ran
    log.declined(decision, session=session)                   # the user said no
    log.denied(decision, session=session)                     # the policy refused
    log.breakglass(decision, reason=why, session=session)     # deny overridden; then .result()

- `open_log(path, *, collector, fsync)`: `collector` is a socket path (system
  installs, i.e. where `SYSTEM_LOG_DIR` exists: `SYSTEM_SOCKET`, served by
  `guardsh audit serve`, even while it is down); otherwise `path`
  is the log file (None: `default_log_path()`, i.e.
  `$XDG_STATE_HOME/guardsh/audit.jsonl`). Whether `GUARDSH_AUDIT_LOG` may name
  the path is the policy layer's call; this package never reads it. Opening
  does no I/O and cannot fail.
- Every method returns the record's `seq` in the log (>= 0) or, when the
  record could not be written (disk full, read-only, collector down), a
  negative number: the record was queued locally and sent to syslog, the user
  was warned through `warn` (stderr by default), and `log.last_error` holds the
  `AuditError` (`log.ok` is False). Nothing here raises into the shell. Queued
  records are delivered in order before the next record that can be written.
- `result()` takes the number `intent()`/`breakglass()` returned (or that
  record) and copies its command, findings and verdict into the result.
- `Session.current()` reads the identity once: real user (SUDO_USER, then
  /proc/self/loginuid, then the uid), uid, tty, SSH client address, host,
  cwd, a random session id. `session.with_policy(sha)` after a policy reload.
- Record fields (DESIGN "Audit record", `FIELDS`): ts, seq, session, phase,
  user, uid, host, tty, ssh_client, cwd, line, environment, findings, verdict,
  rules, reason, exit, duration_ms, policy_sha256, dry_run, prev_sha256,
  sha256. Phases: intent, result, declined, denied, breakglass, plus genesis
  (first record of each file) and repair (a torn tail was cut off).

Modules: record (fields, canonical JSON, chain), identity (Session), writer
(locked append, torn-tail repair), spool (local queue), ship (syslog),
client/collector (`audit serve`, SO_PEERCRED), log (AuditLog), verify, query.
"""

from __future__ import annotations

from guardsh.audit.identity import Session
from guardsh.audit.log import (
    SYSTEM_LOG,
    SYSTEM_LOG_DIR,
    SYSTEM_SOCKET,
    AuditLog,
    default_log_path,
    default_queue_dirs,
    open_log,
)
from guardsh.audit.record import FIELDS, PHASES

__all__ = [
    "FIELDS",
    "PHASES",
    "SYSTEM_LOG",
    "SYSTEM_LOG_DIR",
    "SYSTEM_SOCKET",
    "AuditLog",
    "Session",
    "default_log_path",
    "default_queue_dirs",
    "open_log",
]
