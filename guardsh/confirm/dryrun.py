"""Dry runs: show what a command would do before the user is asked.

For each finding of a decision, the provider registered for its action
(guardsh/confirm/providers/) looks at the real thing — the process table,
the file tree, the database, the cluster — with read-only means, within the
policy's `dry_run_timeout` (default 10 s) per provider. Providers run side by
side, so the whole dry run takes about as long as its slowest provider.

A result is information, never permission: `failed`, `timeout` and
`unavailable` are shown as such, and nothing here changes the verdict.

API for the card (shell helper) and the audit record (audit helper)::

    results = run(decision, snapshot, policy)        # tuple[DryRun, ...]
    for r in results: r.card()                       # text lines for the card
    log.intent(decision, dry_run=for_audit(results)) # a JSON-safe mapping
    run_providers(decision, snapshot, policy)        # `check --dry-run --json`
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardsh.confirm import providers
from guardsh.confirm.providers.base import (
    FAILED,
    TIMEOUT,
    UNAVAILABLE,
    Missing,
    Outcome,
    Request,
    Timeout,
    lookup,
)
from guardsh.model import Decision, Facts, Finding, Invocation, Snapshot
from guardsh.policy.schema import Policy

DEFAULT_TIMEOUT = 10.0
GRACE = 0.5  # seconds a provider may overrun its deadline before it is given up


@dataclass(frozen=True, slots=True)
class DryRun:
    """What one provider found about one finding."""

    provider: str  # "procs", "files", "sql", "kube", ...
    action: str
    object: str | None
    status: str  # ok | failed | timeout | unavailable
    lines: tuple[str, ...]  # plain text for the card, most important first
    data: Mapping[str, Any] = field(default_factory=dict)  # figures, JSON-safe
    commands: tuple[tuple[str, ...], ...] = ()  # helper programs run (argv), for the audit
    duration_ms: int = 0
    finding: int = 0  # index into decision.findings

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def card(self) -> list[str]:
        """The card's lines: a heading, then the provider's lines, indented."""
        what = f"{self.action} {self.object}" if self.object else self.action
        if self.status == "ok":
            head = f"dry run ({self.provider}) of {what}:"
        else:
            head = f"dry run ({self.provider}) of {what}: {self.status.upper()} — not a permission"
        return [head, *(f"  {ln}" for ln in self.lines)]

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "action": self.action,
            "object": self.object,
            "finding": self.finding,
            "status": self.status,
            "lines": list(self.lines),
            "data": _json_safe(self.data),
            "commands": [list(c) for c in self.commands],
            "duration_ms": self.duration_ms,
        }


def _json_safe(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_json_safe(x) for x in v]
    return str(v)


def timeout_of(policy: Policy | None) -> float:
    settings = getattr(policy, "settings", None)
    value = getattr(settings, "dry_run_timeout", None)
    return float(value) if isinstance(value, (int, float)) and value > 0 else DEFAULT_TIMEOUT


def child_env(snapshot: Snapshot, inv: Invocation | None) -> dict[str, str]:
    """The environment a helper runs in: the process's own, the session's
    variables over it, then the command's own assignments (`PGPASSWORD=x psql`)."""
    env = dict(os.environ)
    env.update({k: v for k, v in snapshot.variables.items() if isinstance(v, str)})
    if inv is not None:
        env.update(dict(inv.env))
    return env


def invocations(decision: Decision, snapshot: Snapshot, facts: Facts | None) -> list[Invocation]:
    """The line's invocations again (pure, cheap): providers need the words."""
    from guardsh.facts import files
    from guardsh.unwrap.engine import Unwrapper

    facts = facts or Facts(read_file=files.reader(snapshot.cwd))
    try:
        return Unwrapper(snapshot, facts, decision.line).run()
    except Exception:  # the analysis already reported it; providers do without words
        return []


def invocation_of(f: Finding, invs: Sequence[Invocation]) -> Invocation | None:
    """The innermost invocation whose span holds the finding's evidence."""
    best: Invocation | None = None
    for inv in invs:
        s = inv.span
        inside = s.start <= f.evidence.start and f.evidence.end <= s.end
        if inside and (best is None or s.end - s.start < best.span.end - best.span.start):
            best = inv
    return best


def run(
    decision: Decision,
    snapshot: Snapshot,
    policy: Policy | None,
    *,
    facts: Facts | None = None,
    timeout: float | None = None,
) -> tuple[DryRun, ...]:
    """Dry-run every finding of `decision`, in parallel, each within `timeout`."""
    providers.load_all()
    limit = timeout if timeout is not None else timeout_of(policy)
    invs = invocations(decision, snapshot, facts) if decision.findings else []
    start = time.monotonic()
    jobs: list[_Job] = []
    seen: dict[tuple[object, ...], _Job] = {}
    for i, f in enumerate(decision.findings):
        key = (f.action, f.object, f.target, f.detail)
        if key in seen:
            continue
        inv = invocation_of(f, invs)
        env = child_env(snapshot, inv)
        req = Request(f, inv, decision.line, snapshot, env, start + limit, tuple(invs))
        job = _Job(i, req, limit)
        seen[key] = job
        jobs.append(job)
    for job in jobs:
        job.start()
    results = []
    for job in jobs:
        job.join(max(0.0, start + limit + GRACE - time.monotonic()))
        results.append(job.result())
    return tuple(results)


class _Job(threading.Thread):
    """One provider call on a daemon thread: a stuck provider is given up on,
    never waited for beyond its deadline."""

    def __init__(self, index: int, req: Request, limit: float) -> None:
        super().__init__(daemon=True, name=f"dryrun-{req.finding.action}")
        self.index = index
        self.req = req
        self.limit = limit
        self.t1: float | None = None
        self.t0 = time.monotonic()
        self.outcome: Outcome | None = None

    def run(self) -> None:
        try:
            self._call()
        finally:
            self.t1 = time.monotonic()

    def _call(self) -> None:
        f = self.req.finding
        found = lookup(f.action)
        if found is None:
            self.outcome = Outcome(UNAVAILABLE, (f"no dry run exists for {f.action}",))
            return
        fn = found[1]
        try:
            self.outcome = fn(self.req)
        except Timeout as e:
            self.outcome = Outcome(TIMEOUT, (f"{e}: stopped after the time limit",),
                                   commands=(e.argv,))  # fmt: skip
        except Missing as e:
            self.outcome = Outcome(UNAVAILABLE, (str(e),))
        except Exception as e:  # a provider's bug is a failed dry run, never a crash
            self.outcome = Outcome(FAILED, (f"the dry run itself failed: {e!r}",))

    def result(self) -> DryRun:
        f = self.req.finding
        found = lookup(f.action)
        name = found[0] if found else "none"
        out = self.outcome
        if out is None:  # still running past its deadline
            out = Outcome(TIMEOUT, (f"no answer within {self.limit:g} s",))
        ms = int(((self.t1 or time.monotonic()) - self.t0) * 1000)
        ran = tuple(hide_secrets(c) for c in out.commands)
        return DryRun(name, f.action, f.object, out.status, out.lines, out.data,
                      ran, ms, self.index)  # fmt: skip


_SECRET_OPTS = frozenset({"-a", "--pass", "--password", "--token", "-W"})
_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)")


def hide_secrets(argv: Sequence[str]) -> tuple[str, ...]:
    """A helper's argv as the card and the audit may show it: no passwords."""
    from guardsh.parse.dburl import sanitize_url

    out: list[str] = []
    for i, a in enumerate(argv):
        if i and argv[i - 1] in _SECRET_OPTS:
            out.append("***")
        elif a.startswith(("--pass=", "--password=", "--token=")):
            out.append(a.split("=", 1)[0] + "=***")
        elif "://" in a and "@" in a:
            out.append(sanitize_url(a))
        else:
            out.append(_PASSWORD.sub(r"\1***", a))
    return tuple(out)


def run_providers(
    decision: Decision, snapshot: Snapshot, policy: Policy | None, *, facts: Facts | None = None
) -> list[dict[str, Any]]:
    """`guardsh check --dry-run --json`'s `dry_run`: a JSON-serializable list."""
    return [r.as_json() for r in run(decision, snapshot, policy, facts=facts)]


def for_audit(results: Sequence[DryRun]) -> dict[str, Any]:
    """The audit intent record's `dry_run` field."""
    return {
        "results": [r.as_json() for r in results],
        "statuses": {s: sum(1 for r in results if r.status == s)
                     for s in ("ok", FAILED, TIMEOUT, UNAVAILABLE)},
    }  # fmt: skip


def card_lines(results: Sequence[DryRun]) -> list[str]:
    """Every result's card lines, in finding order."""
    out: list[str] = []
    for r in sorted(results, key=lambda r: r.finding):
        out.extend(r.card())
    return out
