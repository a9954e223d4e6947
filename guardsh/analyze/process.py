"""kill: which processes a `kill` reaches, by pid, job, process group, pid file
or a pid list produced at run time (`$(pgrep X)`, `$(cat F.pid)`, `$!`).

A numeric pid is judged by the process facts (this host only); a pid file
is read through the facts, else judged by its path; a `$(pgrep|pidof|lsof
...)` is resolved by the facts when they can, else judged by the names or
ports it mentions. Severity follows process_severity's table (pkill, killall,
killall5 and fuser are process_byname's).

Anti-pattern / best practice:
  kill -9 $(cat /var/run/postgresql/15-main.pid) -> process.kill high
  kill 12345                                     -> process.kill low
  kill -l                                        -> nothing (lists signals)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence

from guardsh.analyze.process_severity import (
    CRITICAL,
    FORCED,
    PGREP_VALUES,
    PORTS,
    critical_matches,
    kill_finding,
    name_tags,
    path_names,
    severity,
    sig_text,
    signal_name,
    user_names,
)
from guardsh.analyze.registry import Context, analyzer
from guardsh.model import Finding, Invocation, ProcInfo, Severity, Word
from guardsh.parse.argv import parse_argv

_PID = re.compile(r"-?\d+")


_SUBST_ANY = re.compile(r"\$\((.*)\)|`(.*)`|(\$\$|\$\{\$\}|\$PPID|\$\{PPID\}|\$!)", re.S)


def _proc_finding(
    inv: Invocation, ctx: Context, sig: str, pid: int, obj: str, extra: str = ""
) -> Finding:
    tags: set[str] = set()
    # the process table describes this host only, not an ssh or container target
    info: ProcInfo | None = ctx.facts.proc(pid) if inv.target.kind == "local" else None
    words = f"{sig_text(sig)} to pid {pid}{extra}"
    if pid == 1:
        tags.add("init")
    if info is not None:
        base = info.name.split(":")[0].strip()
        worker = (info.role or "").endswith("worker")
        # the adapter's tags are precise (a postmaster vs. its backends); a bare name is not
        tags |= info.tags or (set() if worker else name_tags({base}))
        if info.role == "init":
            tags.add("init")
        words += f": {info.detail or info.role or info.name}"
        if worker and sig in FORCED and base in ("postgres", "postmaster"):
            tags.add("critical")  # SIGKILL of any backend makes the postmaster reset them all
            words += "; the postmaster then restarts every session"
    return kill_finding(inv, obj, severity(sig, tags, True), words, tags)


def _pidfile(inv: Invocation, ctx: Context, sig: str, path: str, raw: str) -> Iterator[Finding]:
    """`$(cat FILE)`: read the pid file through the facts, else judge its path."""
    text = ctx.facts.read_file(path) if inv.target.kind == "local" else None
    # the first line holds the pid(s); postgres adds datadir, start time, port ...
    lines = (text or "").strip().splitlines()
    pids = [int(t) for t in lines[0].split() if t.isdigit()] if lines else []
    if pids:
        for pid in pids:
            yield _proc_finding(inv, ctx, sig, pid, str(pid), f" (from {path})")
        return
    tags = name_tags(path_names(path)) | {"unknown-object"}
    yield kill_finding(
        inv,
        raw,
        severity(sig, tags, False),
        f"{sig_text(sig)} to the pid in {path} (file not readable here)",
        tags,
    )


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _producer(inner: str) -> tuple[str | None, set[str], str | None]:
    """(object, critical names, pid file) of the command that prints the pids:
    pgrep, pidof, cat/head/`<` of a pid file, ps|grep, lsof -t, jobs -p."""
    stages = [_split(s) for s in inner.split("|")]
    first = stages[0] if stages and stages[0] else [""]
    cmd, rest = first[0].rsplit("/", 1)[-1], first[1:]
    if inner.lstrip().startswith("<"):
        return None, set(), inner.lstrip()[1:].strip()
    if cmd in ("cat", "head", "tail"):
        files = [t for t in rest if not t.startswith("-")]
        return None, set(), files[-1] if files else None
    if cmd == "pgrep":
        p = parse_argv([Word(t) for t in rest], short_value="dgGPstuUFLr", long_value=PGREP_VALUES)
        pidfile = p.value("-F", "--pidfile")
        users = user_names(p.values("-u", "-U", "--euid", "--uid"))
        if pidfile is not None:
            return None, set(), pidfile.value
        if p.operands:
            pat = p.operands[0].value
            names = critical_matches(pat, exact=p.has("-x", "--exact"), icase=p.has("-i"))
            return f"processes named {pat}", names | users, None
        who = ",".join(w.value for w in p.values("-u", "-U", "--euid", "--uid"))
        return (f"processes of user {who}" if who else None), users, None
    if cmd == "pidof":
        progs = [w.value for w in parse_argv([Word(t) for t in rest], short_value="oS").operands]
        names = {n.rsplit("/", 1)[-1] for n in progs} & CRITICAL
        return f"processes named {' '.join(progs)}", names, None
    if cmd in ("lsof", "fuser"):
        spec = " ".join(t for t in rest if not re.fullmatch(r"-[a-zA-Z]+", t))
        ports = {p for pair in re.findall(r":(\d+)|\b(\d+)/(?:tcp|udp)", spec) for p in pair if p}
        names = {PORTS[p] for p in ports if p in PORTS} | path_names(spec)
        what = f"port {min(ports)}" if len(ports) == 1 else spec
        return f"processes using {what}", names, None
    if cmd == "jobs":
        return "jobs of this shell", set(), None
    greps = [g for g in stages if g and g[0] == "grep" and "-v" not in g]
    if greps:
        pat = next((t for t in greps[-1][1:] if not t.startswith("-")), "")
        return f"processes matching {pat}", critical_matches(pat), None
    return None, set(), None


def _substitution(inv: Invocation, ctx: Context, sig: str, raw: str) -> Iterator[Finding]:
    """A pid list produced at run time, or a special parameter ($$, $PPID, $!)."""
    m = _SUBST_ANY.search(raw)
    if m is not None and m.group(3):
        # $$ / $PPID: this shell or its parent; $!: the last background job
        tags = set() if "!" in m.group(3) else {"self"}
        yield kill_finding(inv, raw, Severity.LOW, f"{sig_text(sig)} to {m.group(3)}", tags)
        return
    inner = "" if m is None else m.group(1) if m.group(1) is not None else m.group(2)
    obj, names, pidfile = _producer(inner) if inner else (None, set(), None)
    resolve = ctx.facts.extra.get("resolve_pids")
    pids = (
        resolve(raw) if callable(resolve) and inv.target.kind == "local" and not pidfile else None
    )
    if pids:  # `$(pgrep X)`, `$(pidof X)`: the processes they name right now
        for pid in pids:
            yield _proc_finding(inv, ctx, sig, pid, str(pid), f" (from {raw})")
        return
    if pidfile:
        yield from _pidfile(inv, ctx, sig, pidfile, raw)
    elif obj is None:
        unknown = {"unknown-object"}
        what = f"pids printed by `{inner.strip()}`" if inner else "a pid not known before running"
        yield kill_finding(
            inv, raw, severity(sig, unknown, False), f"{sig_text(sig)} to {what}", unknown
        )
    else:
        tags = name_tags(names)
        yield kill_finding(inv, obj, severity(sig, tags, True), f"{sig_text(sig)} to {obj}", tags)


# ---------------------------------------------------------------- kill


_KILL_LISTS = frozenset({"-l", "-L", "--list", "--table", "-p", "--pid", "--help", "-V",
                         "--version"})  # fmt: skip
_KILL_SKIP = {"-q": 2, "--queue": 2, "--timeout": 3, "-a": 1, "--all": 1, "--verbose": 1,
              "-r": 1, "--require-handler": 1}  # fmt: skip


def _kill_signal(args: Sequence[Word]) -> tuple[str | None, int]:
    """Parse kill's leading options: (signal or None for "not a kill", index of pids).

    As in bash: the first `-X` is the signal; later `-N` words are process groups.
    """
    sig, saw, i, n = "TERM", False, 0, len(args)
    while i < n:
        w, t = args[i], args[i].value
        step = 1
        if not w.known:
            if not (t.startswith("-") and not saw):
                break
            sig, saw = "?", True  # `kill -$SIG pid`
        elif t in _KILL_LISTS or t.startswith(("--list=", "--help")):
            return None, n
        elif t in ("-s", "-n", "--signal") and not saw:
            if i + 1 >= n:
                return None, n
            spec = args[i + 1]
            sig, saw, step = (signal_name(spec.value) or "") if spec.known else "?", True, 2
        elif t.startswith("--signal=") and not saw:
            sig, saw = signal_name(t[9:]) or "", True
        elif t == "--":
            i += 1
            break
        elif t in _KILL_SKIP:
            step = _KILL_SKIP[t]
        elif t.startswith("-") and len(t) > 1 and not saw:
            sig, saw = signal_name(t[2:] if t.startswith("--") else t[1:]) or "", True
        else:
            break
        i += step
    if sig in ("", "0"):
        return None, n  # invalid spec (kill fails) or signal 0 (existence test)
    return sig, i


def _pid_word(inv: Invocation, ctx: Context, sig: str, t: str) -> Finding:
    """A numeric pid: -1 is everything, 0 this shell's group, -N a process group."""
    pid = int(t)
    say = sig_text(sig)
    if pid == -1:
        return kill_finding(
            inv, t, Severity.HIGH, f"{say} to every process the user may signal", {"all"}
        )
    if pid == 0:
        return kill_finding(
            inv, t, Severity.LOW, f"{say} to this shell's own process group", {"self"}
        )
    f = _proc_finding(inv, ctx, sig, abs(pid), t)
    if pid > 0:
        return f
    return kill_finding(
        inv, t, f.severity, f.detail.replace(" to pid ", " to process group ", 1), f.tags
    )


@analyzer("kill")
def kill(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`kill [-SIG] PID|%JOB|-PGID ...`: each pid operand is one finding."""
    sig, start = _kill_signal(inv.args)
    if sig is None:
        return
    for w in inv.args[start:]:
        t = w.value
        if not w.known:
            yield from _substitution(inv, ctx, sig, t)
        elif _PID.fullmatch(t):
            yield _pid_word(inv, ctx, sig, t)
        elif t.startswith("%"):
            yield kill_finding(inv, t, Severity.LOW, f"{sig_text(sig)} to job {t} of this shell")
        else:
            # /bin/kill of util-linux accepts a name; the bash builtin refuses it.
            tags = name_tags({t.rsplit("/", 1)[-1]})
            obj = f"processes named {t}"
            yield kill_finding(
                inv, obj, severity(sig, tags, True), f"{sig_text(sig)} to {obj}", tags
            )
