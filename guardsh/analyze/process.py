"""process analyzers: kill, pkill, killall, killall5, fuser -k.

Severity (documented choice, see also tests/analyze/cases/process.yaml):
- signal 0, `kill -l/-L`, `pkill` without a match, `--help`: no finding;
- "gentle" signals (HUP, USR1, USR2, CONT, STOP, WINCH, ...) ask a process to
  reload, report or pause: LOW, whatever the process;
- `kill -1` as a pid (every process you may signal) and `killall5`: HIGH, tag `all`;
- terminating signals (TERM, INT, KILL, ...) to pid 1 or to a process that is
  critical or a database's main process (by the process facts, a pid file's
  path, or the name a `pgrep`/`pidof`/pattern names): HIGH;
- SIGKILL to a pid nobody can know statically (`$PID`, an unreadable pid
  file that names nothing): HIGH, tag `unknown-object` (fail safe);
- every other terminating kill (an ordinary numeric pid, a job `%1`, a name
  that is not critical): LOW. Without process facts a numeric pid is ordinary.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, ProcInfo, Severity, Word
from guardsh.parse.argv import parse_argv

# Processes whose death takes a service or the host down. `java` is left out:
# it names IDEs and build daemons as often as servers.
DB_MAIN = frozenset({"postgres", "postmaster", "postgresql", "mysqld", "mariadbd", "mysqld_safe",
                     "mongod", "redis-server", "clickhouse-server"})  # fmt: skip
_SERVICES = frozenset({"mongos", "redis-sentinel", "memcached", "pgbouncer", "patroni", "etcd",
                       "kubelet", "kube-apiserver", "dockerd", "containerd", "sshd", "systemd",
                       "init", "nginx", "haproxy", "httpd", "apache2", "keepalived",
                       "rabbitmq-server", "beam.smp", "consul", "vault"})  # fmt: skip
CRITICAL = DB_MAIN | _SERVICES
# Users whose processes are a service: `pkill -u postgres`.
CRITICAL_USERS = CRITICAL | frozenset({"root", "mysql", "mongodb", "redis"})
# Well-known ports of critical servers: `fuser -k 5432/tcp`, `$(lsof -t -i:5432)`.
PORTS = {"5432": "postgres", "3306": "mysqld", "6379": "redis-server", "27017": "mongod",
         "22": "sshd", "2379": "etcd", "6443": "kube-apiserver"}  # fmt: skip

_NAMES = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
          "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
          "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]  # fmt: skip
_BY_NUMBER = {str(i + 1): n for i, n in enumerate(_NAMES)}
_ALIASES = {"IOT": "ABRT", "POLL": "IO", "CLD": "CHLD", "EXIT": "0", "ZERO": "0"}
GENTLE = frozenset({"HUP", "USR1", "USR2", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "WINCH", "CHLD",
                    "URG", "PWR", "IO", "ALRM", "PROF", "VTALRM"})  # fmt: skip
FORCED = frozenset({"KILL"})

_PID = re.compile(r"-?\d+")
_TOKEN = re.compile(r"[A-Za-z0-9_.+-]+")
_SUBST_ANY = re.compile(r"\$\((.*)\)|`(.*)`|(\$\$|\$\{\$\}|\$PPID|\$\{PPID\}|\$!)", re.S)


def signal_name(spec: str) -> str | None:
    """`9`, `KILL`, `SIGKILL`, `sigkill`, `RTMIN+3` -> canonical name; None if invalid."""
    s = spec.upper()
    if s.isdigit():
        n = int(s)
        if n == 0:
            return "0"
        return _BY_NUMBER.get(s) or ("RT" if 34 <= n <= 64 else None)
    s = s.removeprefix("SIG")
    s = _ALIASES.get(s, s)
    if s in _NAMES or s == "0":
        return s
    if s.startswith(("RTMIN", "RTMAX")):
        return "RT"
    return None


def _severity(sig: str, tags: set[str], known: bool) -> Severity:
    """The documented table: see the module docstring."""
    if "all" in tags:
        return Severity.HIGH
    if sig in GENTLE:
        return Severity.LOW
    if tags & {"critical", "db-main", "init"}:
        return Severity.HIGH
    if not known and sig in FORCED:
        return Severity.HIGH
    return Severity.LOW


def _sig_text(sig: str) -> str:
    return "signal " + sig if sig in ("RT", "?") else "SIG" + sig


# ---------------------------------------------------------------- names


@lru_cache(maxsize=512)
def _compile(pattern: str, icase: bool) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.I if icase else 0)
    except re.error:
        return None


def critical_matches(
    pattern: str, *, regex: bool = True, exact: bool = False, icase: bool = False
) -> set[str]:
    """Critical process names that `pattern` would select.

    pgrep/pkill patterns are regular expressions searched in the name (or the
    full command line with -f, where a critical name written in the pattern
    also counts); killall names are exact.
    """
    found = {t for t in _TOKEN.findall(pattern.lower()) if t in CRITICAL}
    if regex and pattern:
        rx = _compile(pattern, icase)
        if rx is not None:
            for name in CRITICAL:
                if (rx.fullmatch(name) if exact else rx.search(name)) is not None:
                    found.add(name)
    elif not regex:
        base = pattern.rsplit("/", 1)[-1]
        name = base.lower() if icase else base
        if name in CRITICAL:
            found.add(name)
    return found


def _name_tags(names: Iterable[str]) -> set[str]:
    names = set(names)
    tags: set[str] = set()
    if names & CRITICAL_USERS:
        tags.add("critical")
    if names & DB_MAIN:
        tags.add("db-main")
    return tags


def _path_names(path: str) -> set[str]:
    """Critical names written in a path: /var/run/postgresql/15-main.pid."""
    return {t for t in re.split(r"[/.]", path.lower()) if t in CRITICAL}


# ---------------------------------------------------------------- pids


def _kill(
    inv: Invocation,
    obj: str,
    sev: Severity,
    detail: str,
    tags: Iterable[str] = (),
    action: str = "process.kill",
) -> Finding:
    return finding(inv, action, obj, sev, tags=tags, detail=detail)


def _proc_finding(
    inv: Invocation, ctx: Context, sig: str, pid: int, obj: str, extra: str = ""
) -> Finding:
    tags: set[str] = set()
    # the process table describes this host only, not an ssh or container target
    info: ProcInfo | None = ctx.facts.proc(pid) if inv.target.kind == "local" else None
    words = f"{_sig_text(sig)} to pid {pid}{extra}"
    if pid == 1:
        tags.add("init")
    if info is not None:
        base = info.name.split(":")[0].strip()
        worker = (info.role or "").endswith("worker")
        # the adapter's tags are precise (a postmaster vs. its backends); a bare name is not
        tags |= info.tags or (set() if worker else _name_tags({base}))
        if info.role == "init":
            tags.add("init")
        words += f": {info.detail or info.role or info.name}"
        if worker and sig in FORCED and base in ("postgres", "postmaster"):
            tags.add("critical")  # SIGKILL of any backend makes the postmaster reset them all
            words += "; the postmaster then restarts every session"
    return _kill(inv, obj, _severity(sig, tags, True), words, tags)


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
    tags = _name_tags(_path_names(path)) | {"unknown-object"}
    yield _kill(
        inv,
        raw,
        _severity(sig, tags, False),
        f"{_sig_text(sig)} to the pid in {path} (file not readable here)",
        tags,
    )


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


_PGREP_VALUES = {"delimiter", "pgroup", "group", "parent", "session", "terminal", "euid", "uid",
                 "pidfile", "ns", "nslist", "signal", "runstates"}  # fmt: skip


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
        p = parse_argv([Word(t) for t in rest], short_value="dgGPstuUFLr", long_value=_PGREP_VALUES)
        pidfile = p.value("-F", "--pidfile")
        users = _user_names(p.values("-u", "-U", "--euid", "--uid"))
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
        names = {PORTS[p] for p in ports if p in PORTS} | _path_names(spec)
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
        yield _kill(inv, raw, Severity.LOW, f"{_sig_text(sig)} to {m.group(3)}", tags)
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
        yield _kill(
            inv, raw, _severity(sig, unknown, False), f"{_sig_text(sig)} to {what}", unknown
        )
    else:
        tags = _name_tags(names)
        yield _kill(inv, obj, _severity(sig, tags, True), f"{_sig_text(sig)} to {obj}", tags)


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
    say = _sig_text(sig)
    if pid == -1:
        return _kill(inv, t, Severity.HIGH, f"{say} to every process the user may signal", {"all"})
    if pid == 0:
        return _kill(inv, t, Severity.LOW, f"{say} to this shell's own process group", {"self"})
    f = _proc_finding(inv, ctx, sig, abs(pid), t)
    if pid > 0:
        return f
    return _kill(inv, t, f.severity, f.detail.replace(" to pid ", " to process group ", 1), f.tags)


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
            yield _kill(inv, t, Severity.LOW, f"{_sig_text(sig)} to job {t} of this shell")
        else:
            # /bin/kill of util-linux accepts a name; the bash builtin refuses it.
            tags = _name_tags({t.rsplit("/", 1)[-1]})
            obj = f"processes named {t}"
            yield _kill(inv, obj, _severity(sig, tags, True), f"{_sig_text(sig)} to {obj}", tags)


# ---------------------------------------------------------------- pkill, killall


def _leading_signal(args: Sequence[Word]) -> tuple[str | None, list[Word]]:
    """pkill/killall/fuser accept `-9`/`-KILL`/`-SIGKILL` anywhere before `--`."""
    sig: str | None = None
    rest: list[Word] = []
    found = False
    for i, w in enumerate(args):
        t = w.value
        if w.known and t == "--":
            rest.extend(args[i:])
            break
        if not found and w.known and t.startswith("-") and len(t) > 1 and t[1] != "-":
            spec = t[1:]
            if (spec.isdigit() or spec.isupper()) and signal_name(spec) is not None:
                sig = signal_name(spec)
                found = True
                continue
        rest.append(w)
    return sig, rest


def _by_name(inv: Invocation, sig: str, obj: str, names: set[str], how: str) -> Finding:
    tags = _name_tags(names)
    return _kill(
        inv,
        obj,
        _severity(sig, tags, True),
        f"{_sig_text(sig)} to {how}",
        tags,
        "process.kill_by_name",
    )


def _help(args: Sequence[Word]) -> bool:
    return any(w.value in ("--help", "--version", "-V") for w in args if w.known)


def _user_names(users: Iterable[Word]) -> set[str]:
    return {n for w in users for n in w.value.split(",") if n in CRITICAL_USERS}


@analyzer("pkill", "skill")
def pkill(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`pkill [-SIG] [-f] [-x] [-u USER] PATTERN`: a regex over names (or cmdlines)."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "TERM"
    p = parse_argv(rest, short_value="dgGPstuUFLr", long_value=_PGREP_VALUES)
    spec = p.value("--signal")
    if spec is not None:
        sig = (signal_name(spec.value) or "?") if spec.known else "?"
    if sig == "0" or p.has("-l", "--list-name", "-c", "--count"):
        return
    pidfile = p.value("-F", "--pidfile")
    users = p.values("-u", "-U", "--euid", "--uid")
    if pidfile is not None:
        names = _path_names(pidfile.value)
        yield _by_name(inv, sig, f"pid in {pidfile.value}", names, f"the pid in {pidfile.value}")
        return
    full = p.has("-f", "--full")
    for w in p.operands[:1]:
        pat = w.value
        names = critical_matches(
            pat, exact=p.has("-x", "--exact"), icase=p.has("-i", "--ignore-case")
        )
        names |= _user_names(users)
        what = "command lines" if full else "names"
        yield _by_name(inv, sig, pat, names, f"every process whose {what} match {pat!r}")
    if not p.operands and users:
        who = ",".join(w.value for w in users)
        yield _by_name(inv, sig, f"user {who}", _user_names(users), f"every process of {who}")


@analyzer("killall")
def killall(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`killall [-SIG] [-r] [-u USER] NAME...`: exact names unless -r."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "TERM"
    p = parse_argv(
        rest,
        short_value="sunoyZ",
        long_value={"signal", "user", "ns", "older-than", "younger-than", "context"},
    )
    if p.has("-l", "--list"):
        return
    spec = p.value("-s", "--signal")
    if spec is not None:
        sig = (signal_name(spec.value) or "?") if spec.known else "?"
    if sig == "0":
        return
    users = p.values("-u", "--user")
    regex = p.has("-r", "--regexp")
    icase = p.has("-I", "--ignore-case")
    for w in p.operands:
        names = critical_matches(w.value, regex=regex, exact=False, icase=icase)
        names |= _user_names(users)
        yield _by_name(inv, sig, w.value, names, f"every process named {w.value}")
    if not p.operands and users:
        who = ",".join(w.value for w in users)
        yield _by_name(inv, sig, f"user {who}", _user_names(users), f"every process of {who}")


@analyzer("killall5")
def killall5(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """killall5 signals every process but the kernel's and its own session."""
    sig = _leading_signal(inv.args)[0] or "TERM"
    if sig == "0":
        return
    yield _kill(
        inv,
        "all processes",
        Severity.HIGH,
        f"{_sig_text(sig)} to every process outside this session",
        {"all"},
        "process.kill_by_name",
    )


@analyzer("fuser")
def fuser(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`fuser -k FILE|PORT/tcp`: SIGKILL (by default) to every process using it."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "KILL"
    p = parse_argv(rest, short_value="n", long_value={"namespace"})
    if not p.has("-k", "--kill") or p.has("-l", "--list-signals"):
        return
    for w in p.operands:
        spec = w.value
        names = _path_names(spec)
        port = re.match(r"(\d+)/(?:tcp|udp)", spec)
        if port and port.group(1) in PORTS:
            names.add(PORTS[port.group(1)])
        yield _by_name(inv, sig, f"processes using {spec}", names, f"every process using {spec}")
