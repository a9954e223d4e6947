"""Audit records: their fields, canonical bytes, and the sha256 chain.

A record is a plain dict with exactly the keys in `FIELDS`. Its `sha256` is
the hash of its canonical JSON without the `sha256` key (so `prev_sha256`
and `seq` are covered); each record's `prev_sha256` is the previous record's
`sha256`. A file's chain starts with a `genesis` record whose `prev_sha256` is
all zeros. Canonical JSON (sorted keys, no spaces, UTF-8) makes the hash a
function of the content alone, so any reader in any language can recheck it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from guardsh.audit.identity import Session
from guardsh.model import Decision

# DESIGN.md "Audit record", in that order (+ dry_run).
FIELDS: tuple[str, ...] = (
    "ts",
    "seq",
    "session",
    "phase",
    "user",
    "uid",
    "host",
    "tty",
    "ssh_client",
    "cwd",
    "line",
    "environment",
    "findings",
    "verdict",
    "rules",
    "reason",
    "exit",
    "duration_ms",
    "policy_sha256",
    "dry_run",
    "prev_sha256",
    "sha256",
)

# Phases a session may send. `genesis` and `repair` are written only by the
# writer that owns the file (a collector refuses them from clients).
SESSION_PHASES = frozenset({"intent", "result", "declined", "denied", "breakglass"})
WRITER_PHASES = frozenset({"genesis", "repair"})
PHASES = SESSION_PHASES | WRITER_PHASES

ZERO_SHA = "0" * 64
# Bounds that keep one record well under the collector's 1 MiB line limit.
MAX_DRY_RUN = 256 * 1024
MAX_LINE = 256 * 1024
CHAIN_FIELDS = ("seq", "prev_sha256", "sha256")


def canonical(obj: Any) -> bytes:
    """The one byte form a value hashes and is written as."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(record: Mapping[str, Any]) -> str:
    """sha256 of the record's canonical JSON, without its own `sha256` key."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(canonical(body)).hexdigest()


def seal(record: Mapping[str, Any], seq: int, prev_sha256: str) -> dict[str, Any]:
    """A copy of `record` placed in the chain after `prev_sha256`."""
    sealed = dict(record)
    sealed["seq"] = seq
    sealed["prev_sha256"] = prev_sha256
    sealed["sha256"] = digest(sealed)
    return sealed


def encode(record: Mapping[str, Any]) -> bytes:
    """One line of the log file."""
    return canonical(record) + b"\n"


def now_ts(clock: float | None = None) -> str:
    """UTC ISO-8601 with microseconds: strings hash alike everywhere, floats may not."""
    t = time.time() if clock is None else clock
    whole = int(t)
    micros = round((t - whole) * 1_000_000)
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


def json_safe(value: Any) -> Any:
    """Dry-run results come from providers; make them plain JSON (no NaN, no objects)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def blank(
    phase: str, session: Session, *, cwd: str | None, ts: str | None = None
) -> dict[str, Any]:
    """A record with the session's identity and every other field empty."""
    rec: dict[str, Any] = dict.fromkeys(FIELDS)
    rec.update(
        ts=ts or now_ts(),
        session=session.id,
        phase=phase,
        user=session.user,
        uid=session.uid,
        host=session.host,
        tty=session.tty,
        ssh_client=session.ssh_client,
        cwd=cwd if cwd is not None else session.cwd,
        policy_sha256=session.policy_sha256,
    )
    return rec


def from_decision(
    phase: str,
    decision: Decision,
    session: Session,
    *,
    reason: str | None,
    dry_run: Mapping[str, Any] | None,
    cwd: str | None,
) -> dict[str, Any]:
    """A record of what was decided about one command line."""
    rec = blank(phase, session, cwd=cwd)
    line = decision.line
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + f"… [{len(decision.line) - MAX_LINE} more characters]"
    rec.update(
        line=line,
        environment=decision.environment,
        findings=[f.as_json(decision.line) for f in decision.findings],
        verdict=str(decision.verdict.requirement),
        rules=list(decision.verdict.rules),
        reason=reason,
        dry_run=bounded(json_safe(dry_run)) if dry_run is not None else None,
    )
    return rec


def bounded(value: Any) -> Any:
    """A dry run too large for one record keeps its first 4 KiB and its size."""
    raw = canonical(value)
    if len(raw) <= MAX_DRY_RUN:
        return value
    return {"truncated": True, "bytes": len(raw), "head": raw[:4096].decode("utf-8", "replace")}


def result_of(intent: Mapping[str, Any], exit: int, duration_ms: int) -> dict[str, Any]:
    """The `result` record that closes an intent: same session and command, new outcome."""
    rec = {k: intent.get(k) for k in FIELDS}
    rec.update(
        ts=now_ts(),
        phase="result",
        reason=None,
        dry_run=None,
        exit=int(exit),
        duration_ms=int(duration_ms),
        seq=None,
        prev_sha256=None,
        sha256=None,
    )
    return rec


def genesis(session: Session) -> dict[str, Any]:
    """The first record of a file's chain: who started it, where and when."""
    rec = blank("genesis", session, cwd=None)
    rec["reason"] = "new audit log"
    return rec


def repair(session: Session, removed: bytes, after_seq: int) -> dict[str, Any]:
    """Written where a torn tail was cut off: the chain keeps the evidence."""
    rec = blank("repair", session, cwd=None)
    rec["reason"] = f"torn tail: {len(removed)} bytes after seq {after_seq} removed"
    rec["line"] = removed[:4096].decode("utf-8", "replace")
    return rec


def unsealed(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without its chain fields (how it travels and is queued)."""
    rec = {k: record.get(k) for k in FIELDS}
    for k in CHAIN_FIELDS:
        rec[k] = None
    return rec


def actions(record: Mapping[str, Any]) -> Sequence[str]:
    findings = record.get("findings") or []
    return [f.get("action", "") for f in findings if isinstance(f, dict)]
