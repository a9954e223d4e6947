"""Records leave the host through syslog/journald (facility LOG_AUTHPRIV).

Every record is also sent as one syslog message, so the site's existing log
pipeline (rsyslog, journald remote, Loki, Elasticsearch) carries it off the
host, where a local root cannot edit it. Message forms, each a tag and the
record's canonical JSON:

    GUARDSH-AUDIT {...}          a record as written to the chain
    GUARDSH-AUDIT-QUEUED {...}   a record that could not be written yet
    GUARDSH-AUDIT-ANCHOR {...}   a collector's chain head: {chain, seq, sha256, file, host, ts}
    GUARDSH-AUDIT-NOTE {...}     a collector's remark (a client claimed another user)

`guardsh audit verify --anchors FILE` reads ANCHOR lines back from any text
export of the log pipeline and checks the file against them.
"""

from __future__ import annotations

import contextlib
import json
import syslog
from collections.abc import Callable, Mapping
from typing import Any

from guardsh.audit.record import canonical

TAG = "GUARDSH-AUDIT"
QUEUED_TAG = "GUARDSH-AUDIT-QUEUED"
ANCHOR_TAG = "GUARDSH-AUDIT-ANCHOR"
NOTE_TAG = "GUARDSH-AUDIT-NOTE"
IDENT = "guardsh-audit"
# rsyslog's default maxMessageSize is 8k; bigger records are sent trimmed
# (no dry_run, findings without evidence) but keep their sha256.
MAX_MESSAGE = 7900

Emit = Callable[[int, str], None]


def _stdlib_emit(priority: int, message: str) -> None:
    syslog.syslog(priority, message)


class Shipper:
    """Sends records to syslog. `emit` is injectable so tests can look."""

    def __init__(self, emit: Emit | None = None) -> None:
        self._emit = emit or _stdlib_emit
        self._opened = emit is not None

    def _send(self, level: int, tag: str, payload: Mapping[str, Any]) -> None:
        if not self._opened:
            syslog.openlog(IDENT, syslog.LOG_PID | syslog.LOG_NDELAY, syslog.LOG_AUTHPRIV)
            self._opened = True
        text = canonical(payload).decode("utf-8")
        if len(text) > MAX_MESSAGE:
            text = canonical(trimmed(payload)).decode("utf-8")
        if len(text) > MAX_MESSAGE:
            text = canonical(skeleton(payload)).decode("utf-8")
        # syslog is a copy; the file or the queue holds the record
        with contextlib.suppress(OSError, ValueError):
            self._emit(level | syslog.LOG_AUTHPRIV, f"{tag} {text}")

    def record(self, record: Mapping[str, Any], *, queued: bool = False) -> None:
        self._send(syslog.LOG_INFO, QUEUED_TAG if queued else TAG, record)

    def anchor(self, anchor: Mapping[str, Any]) -> None:
        self._send(syslog.LOG_NOTICE, ANCHOR_TAG, anchor)

    def note(self, note: Mapping[str, Any]) -> None:
        self._send(syslog.LOG_WARNING, NOTE_TAG, note)


def trimmed(record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    out["dry_run"] = None
    out["findings"] = [
        {k: f.get(k) for k in ("action", "object", "severity")}
        for f in record.get("findings") or []
        if isinstance(f, dict)
    ]
    line = out.get("line")
    if isinstance(line, str) and len(line) > 2000:
        out["line"] = line[:2000] + "…"
    out["truncated"] = True
    return out


def skeleton(record: Mapping[str, Any]) -> dict[str, Any]:
    """Who, when, which command (cut), and the chain fields: always fits."""
    keep = (
        "ts",
        "seq",
        "session",
        "phase",
        "user",
        "uid",
        "host",
        "environment",
        "verdict",
        "exit",
        "prev_sha256",
        "sha256",
    )
    out = {k: record.get(k) for k in keep}
    out["line"] = str(record.get("line") or "")[:1000]
    out["truncated"] = True
    return out


def parse_anchors(lines: Any) -> list[dict[str, Any]]:
    """ANCHOR payloads found in any text lines (syslog files, `journalctl` output)."""
    found: list[dict[str, Any]] = []
    marker = ANCHOR_TAG + " "
    for line in lines:
        i = line.find(marker)
        if i == -1:
            continue
        try:
            payload = json.loads(line[i + len(marker) :].strip())
        except ValueError:
            continue
        if isinstance(payload, dict) and {"chain", "seq", "sha256"} <= payload.keys():
            found.append(payload)
    return found
