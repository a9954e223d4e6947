"""What a signal does to which process: signal names, the processes a host
cannot lose, and the severity table the process families share (a helper
module, not a family; it registers nothing).

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
from collections.abc import Iterable
from functools import lru_cache

from guardsh.analyze.registry import finding
from guardsh.model import Finding, Invocation, Severity, Word

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


_TOKEN = re.compile(r"[A-Za-z0-9_.+-]+")


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


def severity(sig: str, tags: set[str], known: bool) -> Severity:
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


def sig_text(sig: str) -> str:
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


def name_tags(names: Iterable[str]) -> set[str]:
    names = set(names)
    tags: set[str] = set()
    if names & CRITICAL_USERS:
        tags.add("critical")
    if names & DB_MAIN:
        tags.add("db-main")
    return tags


def path_names(path: str) -> set[str]:
    """Critical names written in a path: /var/run/postgresql/15-main.pid."""
    return {t for t in re.split(r"[/.]", path.lower()) if t in CRITICAL}


# ---------------------------------------------------------------- findings


def kill_finding(
    inv: Invocation,
    obj: str,
    sev: Severity,
    detail: str,
    tags: Iterable[str] = (),
    action: str = "process.kill",
) -> Finding:
    return finding(inv, action, obj, sev, tags=tags, detail=detail)


PGREP_VALUES = {"delimiter", "pgroup", "group", "parent", "session", "terminal", "euid", "uid",
                "pidfile", "ns", "nslist", "signal", "runstates"}  # fmt: skip


def user_names(users: Iterable[Word]) -> set[str]:
    return {n for w in users for n in w.value.split(",") if n in CRITICAL_USERS}
