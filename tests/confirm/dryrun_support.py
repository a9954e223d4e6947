"""Shared helpers for the dry-run tests: the real pipeline, then the real providers."""

from __future__ import annotations

import datetime as dt
import os
import stat
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from guardsh.confirm import dryrun
from guardsh.confirm.dryrun import DryRun
from guardsh.facts import gather, procs
from guardsh.model import Decision, Snapshot
from guardsh.pipeline import check
from tests.factories import DEFAULT_POLICY
from tests.servers import PgServer

CLOCK = dt.datetime(2025, 3, 4, 4, 0, tzinfo=dt.UTC)


def snap(cwd: str | Path, variables: Mapping[str, str] | None = None) -> Snapshot:
    env = dict(os.environ)
    env.update(variables or {})
    return gather.snapshot(variables=env, cwd=str(cwd), hostname="test-host")


def decide(line: str, s: Snapshot) -> Decision:
    return check(line, s, DEFAULT_POLICY, CLOCK, gather.facts(s))


def dry(
    line: str,
    cwd: str | Path = "/",
    variables: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[Decision, tuple[DryRun, ...]]:
    """Analyze `line` with the real pipeline, then dry-run its findings."""
    s = snap(cwd, variables)
    d = decide(line, s)
    return d, dryrun.run(d, s, DEFAULT_POLICY, timeout=timeout)


def one(results: Sequence[DryRun], action: str) -> DryRun:
    hits = [r for r in results if r.action == action]
    assert len(hits) == 1, [(r.action, r.object, r.status, r.lines) for r in results]
    return hits[0]


def stub(bin_dir: Path, name: str, calls: Sequence[tuple[Sequence[str], str, int]]) -> Path:
    """Write an executable `name` that accepts exactly the argv lists in
    `calls` (in any order) and prints the recorded output of the one it got.

    A call it was not told about exits 99 with the argv on stderr, so a
    provider that sends other arguments fails its test. A call with a non-zero
    status prints its output on stderr. Every call made is appended to
    `<bin_dir>/<name>.log` as `(argv, cwd)`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    table = [(list(a), out, rc) for a, out, rc in calls]
    path.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys
            table = {table!r}
            import os
            args = sys.argv[1:]
            with open({str(bin_dir / (name + ".log"))!r}, "a") as log:
                log.write(repr((args, os.getcwd())) + "\\n")
            for want, out, rc in table:
                if args == want:
                    (sys.stdout if rc == 0 else sys.stderr).write(out)
                    sys.exit(rc)
            sys.stderr.write("stub {name}: unexpected arguments: %r\\n" % (args,))
            sys.exit(99)
            """
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def calls(bin_dir: Path, name: str) -> list[tuple[list[str], str]]:
    import ast

    log = bin_dir / f"{name}.log"
    if not log.exists():
        return []
    return [ast.literal_eval(ln) for ln in log.read_text().splitlines() if ln.strip()]


def path_with(bin_dir: Path) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}


def settled_count(pg: PgServer, pid: int) -> int:
    """Client backends by the server's own count, once the process table agrees
    (the backend of the psql that asked exits a moment after it answers)."""
    deadline = time.monotonic() + 10
    while True:
        n = int(pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()"
        ).strip())  # fmt: skip
        time.sleep(0.3)
        p = procs.describe(pid, full=False)
        if (p is not None and p.connections == n) or time.monotonic() > deadline:
            return n
