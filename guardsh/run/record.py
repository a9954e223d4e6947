"""The audit call sites of the shell and `-c`, in one place.

Everything here is wrapped so that a missing, broken or unwritable audit
never crashes a shell: the first failure is reported once on stderr and the
session goes on. Whether an unwritten intent may still run is the policy's
`audit_required` setting, which applies in protected environments
(`Recorder.blocks`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from guardsh.model import Decision
from guardsh.policy.schema import Policy

Warn = Callable[[str], None]


def _stderr(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"guardsh: audit: {message}\n")
        sys.stderr.flush()


def log_target(policy: Policy, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(file path, collector socket) for this session's records.

    On a system install (the collector's log directory exists) the collector,
    even when its socket is missing: records are then queued and sent to
    syslog until it is back, never written to a log file the user can edit.
    """
    override = environ.get("GUARDSH_AUDIT_LOG")
    if override and policy.settings.allow_overrides:
        return override, None
    try:
        from guardsh import audit
    except Exception:  # the audit package is optional until it lands
        return None, None
    if os.path.exists(audit.SYSTEM_SOCKET) or os.path.isdir(audit.SYSTEM_LOG_DIR):
        return None, audit.SYSTEM_SOCKET
    return None, None


class Recorder:
    """One session's audit trail; every method returns quietly on failure."""

    def __init__(
        self,
        policy: Policy,
        *,
        environ: Mapping[str, str] | None = None,
        warn: Warn | None = None,
        session: Any = None,
    ) -> None:
        """`session`: an `audit.Session` to record under (default: this process's)."""
        self.policy = policy
        self.environ = os.environ if environ is None else environ
        self.warn = warn or _stderr
        self._log: Any = None
        self._session: Any = session
        self._broken = False
        self.last_ok = True
        self.last_environment: str | None = None  # of the last decision recorded

    def _open(self) -> bool:
        if self._log is not None:
            return True
        if self._broken:
            return False
        try:
            from guardsh.audit import Session, default_log_path, default_queue_dirs, open_log

            path, collector = log_target(self.policy, self.environ)
            if self._session is None:
                self._session = Session.current(policy_sha256=self.policy.sha256 or None)
            self._log = open_log(
                path or default_log_path(self.environ),
                collector=collector,
                queue_dirs=default_queue_dirs(self.environ),
                warn=self.warn,
            )
            return True
        except Exception as e:
            self._broken = True
            self.warn(f"cannot open the audit trail ({e!r}); commands are not recorded")
            return False

    def set_policy(self, policy: Policy) -> None:
        self.policy = policy
        if self._session is not None:
            self._session = self._session.with_policy(policy.sha256 or None)

    def _call(self, method: str, decision: Decision, **kw: Any) -> int:
        self.last_environment = decision.environment
        if not self._open():
            self.last_ok = False
            return -1
        try:
            seq = int(getattr(self._log, method)(decision, session=self._session, **kw))
        except Exception as e:
            self.warn(f"could not record `{method}` ({e!r})")
            seq = -1
        self.last_ok = seq >= 0
        return seq

    def intent(
        self,
        decision: Decision,
        *,
        reason: str | None = None,
        cwd: str | None = None,
        dry_run: Mapping[str, Any] | None = None,
    ) -> int:
        return self._call("intent", decision, reason=reason, cwd=cwd, dry_run=dry_run)

    def breakglass(self, decision: Decision, *, reason: str | None, cwd: str | None = None) -> int:
        return self._call("breakglass", decision, reason=reason, cwd=cwd)

    def declined(
        self, decision: Decision, *, reason: str | None = None, cwd: str | None = None
    ) -> int:
        return self._call("declined", decision, reason=reason, cwd=cwd)

    def denied(
        self, decision: Decision, *, reason: str | None = None, cwd: str | None = None
    ) -> int:
        return self._call("denied", decision, reason=reason, cwd=cwd)

    def result(self, token: int, exit: int, duration_ms: int) -> None:
        if self._log is None:
            return
        try:
            self._log.result(token, exit=exit, duration_ms=duration_ms, session=self._session)
        except Exception as e:
            self.warn(f"could not record the result ({e!r})")

    @property
    def blocks(self) -> bool:
        """True when the last record was not written and the policy requires one
        for its environment: `audit_required` applies where it is protected."""
        return (
            not self.last_ok
            and self.policy.settings.audit_required
            and self.policy.protected(self.last_environment)
        )

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(Exception):
                self._log.close()
