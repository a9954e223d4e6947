"""What every dry-run provider shares: its request, its outcome, the registry,
and one careful way to start a read-only helper program.

A provider is `fn(req: Request) -> Outcome`. It runs only the read-only
commands its module lists, within `req.deadline`, and says what it ran. A
provider never decides anything: a failed or unavailable dry run is shown as
such and never counts as permission.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardsh.model import Finding, Invocation, Snapshot

OK, FAILED, TIMEOUT, UNAVAILABLE = "ok", "failed", "timeout", "unavailable"
STATUSES = (OK, FAILED, TIMEOUT, UNAVAILABLE)
MAX_OUTPUT = 4 * 1024 * 1024  # bytes kept from a helper's stdout
_ERROR_WORDS = re.compile(r"(?i)\b(error|fatal|failed|denied|refused|not found)\b")


@dataclass(frozen=True, slots=True)
class Request:
    """One finding to dry-run, with the invocation it came from (when found)."""

    finding: Finding
    invocation: Invocation | None
    line: str
    snapshot: Snapshot
    env: Mapping[str, str]  # the environment helper programs run with
    deadline: float  # time.monotonic() by which the provider must be done
    line_invocations: tuple[Invocation, ...] = ()  # every invocation of the line

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def cwd(self) -> str:
        inv = self.invocation
        return (inv.cwd if inv is not None and inv.cwd else None) or self.snapshot.cwd


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a provider found: status, card lines, structured figures, commands run."""

    status: str
    lines: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    commands: tuple[tuple[str, ...], ...] = ()


def ok(
    lines: Sequence[str],
    data: Mapping[str, Any] | None = None,
    ran: Sequence[Sequence[str]] = (),
) -> Outcome:
    return Outcome(OK, tuple(lines), dict(data or {}), tuple(tuple(c) for c in ran))


def failed(why: str, ran: Sequence[Sequence[str]] = (), **data: Any) -> Outcome:
    return Outcome(FAILED, (why,), data, tuple(tuple(c) for c in ran))


def unavailable(why: str, **data: Any) -> Outcome:
    return Outcome(UNAVAILABLE, (why,), data)


class Timeout(Exception):
    """A helper program did not finish within the provider's deadline."""

    def __init__(self, argv: Sequence[str]) -> None:
        super().__init__(f"`{' '.join(argv[:3])} …` did not finish in time")
        self.argv = tuple(argv)


class Missing(Exception):
    """The helper program is not installed on this host."""


Provider = Callable[[Request], Outcome]
_REGISTRY: dict[str, tuple[str, Provider]] = {}


def provider(name: str, *actions: str) -> Callable[[Provider], Provider]:
    """Register `fn` as provider `name` for the given actions."""

    def register(fn: Provider) -> Provider:
        for a in actions:
            _REGISTRY[a] = (name, fn)
        return fn

    return register


def lookup(action: str) -> tuple[str, Provider] | None:
    return _REGISTRY.get(action)


def registered() -> Mapping[str, str]:
    """action -> provider name (for docs and tests)."""
    return {a: name for a, (name, _) in _REGISTRY.items()}


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    rc: int
    out: str
    err: str


def which(program: str, env: Mapping[str, str]) -> str | None:
    return shutil.which(program, path=env.get("PATH", os.defpath))


def run(
    argv: Sequence[str],
    req: Request,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: str | None = None,
    limit: float | None = None,
) -> Completed:
    """Run one read-only helper within the request's deadline.

    The helper gets its own session, no terminal input (stdin is /dev/null or
    `stdin`), and is killed with its whole process group when time runs out.
    """
    env = dict(req.env if env is None else env)
    exe = which(argv[0], env)
    if exe is None:
        raise Missing(f"{argv[0]} is not installed here (not on PATH)")
    budget = req.left() if limit is None else min(limit, req.left())
    if budget <= 0.05:
        raise Timeout(argv)
    proc = subprocess.Popen(
        [exe, *argv[1:]],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd or req.cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, budget)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise Timeout(argv) from None
    return Completed(
        tuple(argv),
        proc.returncode,
        out[:MAX_OUTPUT].decode("utf-8", "replace"),
        err[-8192:].decode("utf-8", "replace"),
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def first_error(c: Completed) -> str:
    """The helper's own words for why it failed: its last non-empty stderr line."""
    lines = [ln.strip() for ln in (c.err or c.out).splitlines() if ln.strip()]
    said = [ln for ln in lines if _ERROR_WORDS.search(ln)]
    text = (said or lines or [f"exit status {c.rc}"])[0 if said else -1]
    return f"{c.argv[0]} failed: {text[:300]}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def local_only(req: Request) -> Outcome | None:
    """Providers that read this host (processes, files, units, git) cannot
    describe another one: an ssh or container target is `unavailable`."""
    t = req.finding.target
    if t.kind == "local":
        return None
    where = t.label()
    return unavailable(f"runs on {where}: this dry run can only look at this host")
