"""Starting an interactive database client under guard: the shell's entry points.

The shell (or `python -m guardsh.clients`) calls::

    from guardsh.clients import launch

    plan = launch.plan(line, snapshot, facts)          # None: not a plain interactive client
    if plan is not None and launch.should_proxy(plan.invocation, decision, policy,
                                                 snapshot=snapshot, facts=facts):
        status = launch.run_client(plan.argv, snapshot, policy, facts, recorder,
                                   env={**exported, **plan.env}, cwd=snapshot.cwd)

`plan()` accepts a line that is one simple command (assignments, `sudo`/`env`
wrappers allowed; no pipes, redirections, `ssh`, `kubectl exec`) whose
program is psql, mysql/mariadb, sqlite3, redis-cli or mongosh without a
command, file or stdin of its own. Everything else keeps the normal path.
`should_proxy()` is true when the client's target is in a protected
environment, or always when the policy says `settings: {client_proxy: always}`
(`protected` is the default, `never` turns the feature off).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guardsh.clients import kinds
from guardsh.clients.kinds import Kind
from guardsh.model import Decision, Facts, Invocation, Snapshot
from guardsh.policy.schema import Policy

REFUSED = 126


@dataclass(frozen=True, slots=True)
class Plan:
    argv: tuple[str, ...]  # the words as the shell would run them
    env: Mapping[str, str]  # the line's own assignments (`PGHOST=x psql`)
    invocation: Invocation
    kind: Kind


def plan(line: str, snapshot: Snapshot, facts: Facts) -> Plan | None:
    """The client this line starts interactively, or None."""
    from guardsh.parse.bash import parse_script
    from guardsh.parse.expand import Scope
    from guardsh.parse.source import Source
    from guardsh.unwrap.engine import Unwrapper

    try:
        scope = Scope(dict(snapshot.variables), snapshot.home)
        script = parse_script(Source.of(line), scope, snapshot.aliases)
        invs = Unwrapper(snapshot, facts, line).run()
    except Exception:  # not ours to judge: the normal path analyzes it
        return None
    if script.errors or len(script.commands) != 1 or len(invs) != 1:
        return None
    cmd, inv = script.commands[0], invs[0]
    if cmd.redirects or cmd.stdin is not None or cmd.pipe_from is not None or cmd.nested:
        return None
    if not all(w.known and not w.glob for w in cmd.words):
        return None
    kind = kinds.kind_of(inv.program)
    if kind is None or inv.target.kind != "local" or not kinds.interactive(inv):
        return None
    if set(inv.via) - {"sudo", "env", "command", "exec", "nice", "ionice", "doas"}:
        return None
    env = {n: w.value for n, w in cmd.assigns if w.known}
    return Plan(tuple(w.value for w in cmd.words), env, inv, kind)


def setting(policy: Policy) -> str:
    """`settings.client_proxy`: protected (default) | always | never."""
    return policy.settings.client_proxy


def should_proxy(
    invocation: Invocation,
    decision: Decision | None,
    policy: Policy,
    *,
    snapshot: Snapshot | None = None,
    facts: Facts | None = None,
) -> bool:
    """Run this interactive client under the proxy?"""
    kind = kinds.kind_of(invocation.program)
    if kind is None or not kinds.interactive(invocation):
        return False
    mode = setting(policy)
    if mode == "never":
        return False
    if mode == "always":
        return True
    if decision is not None and policy.protected(decision.environment) and decision.findings:
        return True
    if snapshot is None:
        return True  # where it connects cannot be worked out: guard it
    from guardsh.clients.session import Guard
    from guardsh.model import Facts as _Facts

    argv = [w.value for w in invocation.argv]
    guard = Guard(kind, argv, snapshot, policy, facts or _Facts())
    return guard.place().protected


def client_argv(kind: Kind, argv: Sequence[str]) -> tuple[list[str], int]:
    """argv with the flags that turn the client's own line editor off, and
    the index of the client's program word."""
    at = next((i for i, a in enumerate(argv) if os.path.basename(a) in kind.programs), 0)
    out = list(argv)
    out[at + 1 : at + 1] = list(kind.flags)
    return out, at


def run_client(
    argv: Sequence[str],
    snapshot: Snapshot,
    policy: Policy,
    facts: Facts,
    audit: object | None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: int = 0,
    stdout: int = 1,
) -> int:
    """Run the client in `argv` under guard; its exit status (126: refused)."""
    from guardsh.clients.guarded import GuardedClient
    from guardsh.clients.session import Guard

    kind = next((k for a in argv if (k := kinds.kind_of(os.path.basename(a))) is not None), None)
    if kind is None:
        sys.stderr.write(f"guardsh: {argv[0] if argv else '?'} is not a client guardsh can guard\n")
        return REFUSED
    if not (os.isatty(stdin) and os.isatty(stdout)):
        sys.stderr.write("guardsh: an interactive client needs a terminal under guard; "
                         "not started\n")  # fmt: skip
        return REFUSED
    child_env = dict(os.environ if env is None else env)
    child_env.update(kind.env)
    run_argv, _ = client_argv(kind, argv)
    color = not snapshot.variables.get("NO_COLOR")
    guard = Guard(kind, list(argv), snapshot, policy, facts)
    with _editrc(kind, child_env):
        client = GuardedClient(kind, run_argv, child_env, cwd or snapshot.cwd, guard,
                               audit, stdin=stdin, stdout=stdout, color=color)  # type: ignore[arg-type]  # fmt: skip
        return client.run()


@contextlib.contextmanager
def _editrc(kind: Kind, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """mysql/mariadb (libedit): an EDITRC with `edit off` keeps the pty cooked."""
    if kind.name != "mysql":
        yield
        return
    fd, path = tempfile.mkstemp(prefix="guardsh-editrc-")
    try:
        os.write(fd, b"edit off\n")
        os.close(fd)
        env["EDITRC"] = path
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
