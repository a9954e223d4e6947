"""Starting an interactive database client under guard: the shell's entry points.

The shell (or `python -m guardsh.clients`) calls::

    from guardsh.clients import launch

    plan = launch.plan(line, snapshot, facts)          # None: not a plain interactive client
    if plan is not None and launch.should_proxy(plan.invocation, decision, policy,
                                                 snapshot=snapshot, facts=facts):
        status = launch.run_client(plan.argv, snapshot, policy, facts, recorder,
                                   env={**exported, **plan.env}, cwd=snapshot.cwd)

`plan()` accepts a line that is one simple command (assignments allowed; no
pipes, redirections, `ssh`, `kubectl exec`) whose program is psql,
mysql/mariadb, sqlite3, redis-cli or mongosh without a command, file or stdin
of its own, started directly or through wrappers that run it on the same
terminal: `sudo`, `doas`, `env`, `nice`, `ionice`, `command`, `exec`, `time`
(the keyword and the program), and one command string that is the client
alone: `bash -c "psql ..."` (sh, dash, zsh, ksh) or `su USER -c "psql ..."`.
Everything else keeps the normal path.
`should_proxy()` is true when the client's target is in a protected
environment, or always when the policy says `settings: {client_proxy: always}`
(`protected` is the default, `never` turns the feature off).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import resource
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from guardsh.clients import kinds
from guardsh.clients.kinds import Kind
from guardsh.model import Decision, Facts, Invocation, Snapshot
from guardsh.policy.schema import Policy

REFUSED = 126
# wrappers that run the client with the words that follow (`via` names)
_ARGV_WRAPPERS = frozenset({"sudo", "doas", "env", "command", "exec", "nice", "ionice", "time"})
_SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash", "mksh"})  # `-c STRING`
_SU = frozenset({"su", "runuser"})  # `-c STRING` / `--command STRING`
_RESETS = frozenset({"sudo", "doas", "env"})  # may run the client with a fresh environment
_SU_VALUE = frozenset({"-g", "-G", "-s", "-u", "-w", "--group", "--supp-group", "--shell",
                       "--user", "--whitelist-environment"})  # fmt: skip
# A command string that is one client command: assignments with plain values,
# `exec`/`command` perhaps, then the program as a plain word.
_PLAIN = r"[^\s'\"\\$`;&|<>(){}]"
_LONE = re.compile(
    rf"\A\s*((?:[A-Za-z_][A-Za-z0-9_]*={_PLAIN}*\s+)*)(?:(?:exec|command)\s+)*({_PLAIN}+)(?=\s|\Z)"
)


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
    if inv.redirects or not _wrappers_ok(inv.via):
        return None
    words = tuple(w.value for w in cmd.words)
    if any(_is_string_wrapper(v) for v in inv.via) and _command_string(kind, words) is None:
        return None  # a command string guardsh cannot turn the client's line editor off in
    env = {n: w.value for n, w in cmd.assigns if w.known}
    return Plan(words, env, inv, kind)


def _is_string_wrapper(via: str) -> bool:
    head, _, rest = via.partition(" ")
    name = os.path.basename(head)
    return (rest == "-c" and name in _SHELLS) or (not rest and name in _SU)


def _wrappers_ok(via: Sequence[str]) -> bool:
    """Wrappers that run the client on this terminal, at most one command string."""
    strings = [v for v in via if _is_string_wrapper(v)]
    plain = [v for v in via if v not in strings]
    return len(strings) <= 1 and all(os.path.basename(v) in _ARGV_WRAPPERS for v in plain)


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


def start_decision(
    decision: Decision, p: Plan, policy: Policy, snapshot: Snapshot, facts: Facts
) -> Decision:
    """The decision to record for starting the client: where the client
    connects, not where the shell runs. A line with no findings is in the
    shell's own environment (`staging` for the bastion) while the session
    it starts is in production."""
    if decision.findings:
        return decision
    from guardsh.clients.session import Guard

    place = Guard(p.kind, list(p.argv), snapshot, policy, facts).place()
    return dataclasses.replace(decision, environment=place.environment)


def command_runner(
    decision: Decision, policy: Policy, snapshot: Snapshot, facts: Facts, audit: object | None
) -> tuple[Decision, Callable[[], int]] | None:
    """`guardsh -c CMD` on a terminal (`ssh -t bastion psql ...` under a
    ForceCommand): when CMD is a lone interactive client that should be
    proxied, the decision to record for it (`start_decision`) and how to run
    it under guard, as the interactive shell does; None for anything else
    (bash runs it)."""
    if not all(os.isatty(fd) for fd in (0, 1, 2)):
        return None
    try:
        p = plan(decision.line, snapshot, facts)
        if p is None or not should_proxy(
            p.invocation, decision, policy, snapshot=snapshot, facts=facts
        ):
            return None
        start = start_decision(decision, p, policy, snapshot, facts)
    except Exception as e:  # the line itself was judged; bash runs it as typed
        sys.stderr.write(f"guardsh: interactive client not guarded ({e!r}); running it as typed\n")
        return None
    env = {**os.environ, **p.env}

    def run() -> int:
        from guardsh.run.signals import session

        session()  # Ctrl-Z, Ctrl-C between the client's prompts are keys, not signals
        return run_client(p.argv, snapshot, policy, facts, audit, env=env, cwd=snapshot.cwd)

    return start, run


def client_argv(
    kind: Kind, argv: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[list[str], int]:
    """argv with the flags that turn the client's own line editor off, and
    the index of the word that holds the client's program. In a command
    string (`bash -c`, `su -c`) the flags go after the program and `env`
    (what the client needs in its environment) in front of it, since `su -`
    and a login shell start from a fresh environment."""
    out = list(argv)
    found = _command_string(kind, argv)
    if found is not None:
        at, prefix, m = found
        text = out[at][len(prefix) :]
        flags = "".join(f" {shlex.quote(f)}" for f in kind.flags)
        assigns = "".join(f"{k}={shlex.quote(v)} " for k, v in (env or {}).items())
        a, b = m.end(1), m.end(2)
        out[at] = prefix + text[:a] + assigns + text[a:b] + flags + text[b:]
        return out, at
    at = next((i for i, a in enumerate(argv) if os.path.basename(a) in kind.programs), 0)
    out[at + 1 : at + 1] = list(kind.flags)
    if env and any(os.path.basename(a) in _RESETS for a in argv[:at]):
        # sudo, doas and `env -i` start the client from a fresh environment: without
        # EDITRC mysql's libedit takes the terminal raw and every key passes unseen
        out[at:at] = ["env", *(f"{k}={v}" for k, v in env.items())]
        at += 1 + len(env)
    return out, at


def _command_string(kind: Kind, argv: Sequence[str]) -> tuple[int, str, re.Match[str]] | None:
    """`bash -c "psql ..."`, `su USER -c "psql ..."`: the index of the string,
    the option text in front of it in its word (`--command=`), and the match
    of the client's program in it; None when the client is not started so."""
    for i, a in enumerate(argv):
        name = os.path.basename(a)
        if name in kind.programs:
            return None
        if name in _SHELLS:
            at: int | None = _shell_string(argv, i + 1)
            prefix = ""
        elif name in _SU:
            got = _su_string(argv, i + 1)
            at, prefix = got if got is not None else (None, "")
        else:
            continue
        if at is None:
            continue
        m = _LONE.match(argv[at][len(prefix) :])
        if m is None or os.path.basename(m.group(2)) not in kind.programs:
            return None
        return at, prefix, m
    return None


def _shell_string(argv: Sequence[str], j: int) -> int | None:
    command = False
    while j < len(argv):
        v = argv[j]
        if v == "--":
            j += 1
            break
        if not v.startswith(("-", "+")) or v in ("-", "+"):
            break
        if v in ("--rcfile", "--init-file") or (v[0] in "-+" and v[1:] == "o"):
            j += 1
        elif v[0] == "-" and not v.startswith("--") and "c" in v[1:]:
            command = True
        j += 1
    return j if command and j < len(argv) else None


def _su_string(argv: Sequence[str], j: int) -> tuple[int, str] | None:
    while j < len(argv):
        v = argv[j]
        if v in ("-c", "--command", "--session-command"):
            return (j + 1, "") if j + 1 < len(argv) else None
        for opt in ("--command=", "--session-command="):
            if v.startswith(opt):
                return j, opt
        if v == "--":
            return None
        j += 2 if v in _SU_VALUE else 1
    return None


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

    kind = _kind_in(argv)
    if kind is None:
        sys.stderr.write(f"guardsh: {argv[0] if argv else '?'} is not a client guardsh can guard\n")
        return REFUSED
    if not (os.isatty(stdin) and os.isatty(stdout)):
        sys.stderr.write("guardsh: an interactive client needs a terminal under guard; "
                         "not started\n")  # fmt: skip
        return REFUSED
    words, timed = _time_keyword(argv)
    words, clear = _builtins(words)
    child_env = dict(os.environ if env is None else env)
    if clear and words:  # `exec -c`: found on the shell's PATH, run with no environment
        words[0] = shutil.which(words[0], path=child_env.get("PATH")) or words[0]
        child_env = {}
    color = not snapshot.variables.get("NO_COLOR")
    guard = Guard(kind, list(words), snapshot, policy, facts)
    with _editrc(kind, child_env) as editrc:
        needs = {**kind.env, **editrc}
        child_env.update(needs)
        run_argv, _ = client_argv(kind, words, needs)
        client = GuardedClient(kind, run_argv, child_env, cwd or snapshot.cwd, guard,
                               audit, stdin=stdin, stdout=stdout, color=color)  # type: ignore[arg-type]  # fmt: skip
        t0, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        status = client.run()
    if timed is not None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sys.stderr.write(_times(timed, time.monotonic() - t0, after.ru_utime - before.ru_utime,
                                after.ru_stime - before.ru_stime))  # fmt: skip
    return status


def _kind_in(argv: Sequence[str]) -> Kind | None:
    """The client that `argv` starts, as a word or in a command string."""
    for a in argv:
        k = kinds.kind_of(os.path.basename(a))
        if k is not None:
            return k
    return next((k for k in kinds.KINDS if _command_string(k, argv) is not None), None)


def _time_keyword(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """bash's `time [-p]` keyword in front of the client: the words without
    it, and its format (`bash` or `posix`); None when not timed."""
    words = list(argv)
    if not words or words[0] != "time":
        return words, None
    words, fmt = words[1:], "bash"
    while words and words[0] in ("-p", "--"):
        fmt = "posix" if words.pop(0) == "-p" else fmt
    return words, fmt


def _builtins(argv: Sequence[str]) -> tuple[list[str], bool]:
    """Without the shell builtins `command` and `exec` in front of the client
    (they are not programs; the client runs here either way); True when
    `exec -c` asked for an empty environment. `exec -a NAME` and `-l` (the
    name the client sees) are dropped."""
    words, clear = list(argv), False
    while words and words[0] in ("command", "exec"):
        builtin, words = words[0], words[1:]
        while words and words[0].startswith("-") and len(words[0]) > 1:
            opt = words.pop(0)
            if opt == "--":
                break
            if builtin == "exec" and opt.endswith("a") and words:
                words.pop(0)  # -a NAME
            clear = clear or (builtin == "exec" and "c" in opt)
    return words, clear


def _times(fmt: str, real: float, user: float, sys_: float) -> str:
    """The report of bash's `time` keyword (its default TIMEFORMAT, or `-p`)."""
    if fmt == "posix":
        return f"real {real:.2f}\nuser {user:.2f}\nsys {sys_:.2f}\n"

    def ms(t: float) -> str:
        m, s = divmod(t, 60)
        return f"{int(m)}m{s:.3f}s"

    return f"\nreal\t{ms(real)}\nuser\t{ms(user)}\nsys\t{ms(sys_)}\n"


@contextlib.contextmanager
def _editrc(kind: Kind, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """mysql/mariadb (libedit): an EDITRC with `edit off` keeps the pty cooked.
    Yields the variables to give the client ({} for the other clients). The
    file is readable by all (it says only `edit off`): `su USER -c` reads it
    as USER."""
    if kind.name != "mysql":
        yield {}
        return
    fd, path = tempfile.mkstemp(prefix="guardsh-editrc-")
    try:
        os.write(fd, b"edit off\n")
        os.fchmod(fd, 0o644)
        os.close(fd)
        yield {"EDITRC": path}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
