"""Process facts: what a pid is (user, command, role, connections), read with psutil.

Evidence for `kill` analysis and the process dry run, never a verdict. A pid
is described by its user, name, full command line, start time, children,
listening sockets, systemd unit (from /proc/PID/cgroup) and a role: the
PostgreSQL postmaster (with its client connection count) or one of its
backends, MySQL/MariaDB, Redis, MongoDB, sshd, PID 1, guardsh itself or the
user's own shell.

Which pids a pattern or a pid expression names is facts/pids.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from guardsh.model import ProcInfo

# Process name -> (role, words). The main process is the one whose parent has another name.
_SERVERS = {
    "postgres": ("postgres", "PostgreSQL"),
    "postmaster": ("postgres", "PostgreSQL"),
    "mysqld": ("mysql", "MySQL"),
    "mariadbd": ("mariadb", "MariaDB"),
    "redis-server": ("redis", "Redis"),
    "mongod": ("mongodb", "MongoDB"),
}
_CRITICAL = frozenset(
    {"sshd", "systemd", "init", "kubelet", "dockerd", "containerd", "etcd", "pgbouncer",
     "patroni", "mongos", "haproxy", "nginx", "keepalived"}
)  # fmt: skip
_SHELLS = frozenset({"bash", "zsh", "sh", "dash", "fish", "ksh", "tcsh", "csh", "guardsh"})
# PostgreSQL auxiliary processes (`postgres: [cluster: ]checkpointer`): not client connections.
_PG_AUX = re.compile(
    r"^(checkpointer|background writer|walwriter|autovacuum (launcher|worker)|"
    r"logical replication (launcher|worker|apply|tablesync)|stats collector|archiver|"
    r"startup|walreceiver|walsummarizer|logger|io worker|parallel worker|"
    r"[\w ]*bgworker|pg_wait_sampling|TimescaleDB|pg_cron)",
)
_UNIT = re.compile(r"[^/]+\.(service|scope|socket|mount)$")


@dataclass(frozen=True, slots=True)
class Proc:
    """One process as the card shows it."""

    pid: int
    ppid: int
    name: str
    cmdline: tuple[str, ...]
    user: str | None
    started: float | None  # epoch seconds
    role: str | None = None  # "postgres-postmaster", "postgres-worker", "init", ...
    what: str = ""  # the role in words: "PostgreSQL postmaster of /var/lib/postgresql/15/main"
    tags: frozenset[str] = frozenset()
    children: tuple[int, ...] = ()
    connections: int | None = None  # client connections of a server's main process
    listening: tuple[str, ...] = ()
    unit: str | None = None

    @property
    def command(self) -> str:
        return " ".join(self.cmdline) or f"[{self.name}]"

    def summary(self) -> str:
        """`PostgreSQL postmaster of /srv/pg, 3 client connections (pid 41, user postgres)`."""
        head = self.what or self.name
        if self.connections is not None:
            n = self.connections
            head += f", {n} client connection{'s' if n != 1 else ''}"
        return f"{head} (pid {self.pid}, user {self.user or '?'})"

    def as_json(self) -> dict[str, object]:
        return {
            "pid": self.pid, "ppid": self.ppid, "name": self.name, "user": self.user,
            "cmdline": list(self.cmdline), "started": self.started, "role": self.role,
            "what": self.what, "tags": sorted(self.tags), "children": len(self.children),
            "connections": self.connections, "listening": list(self.listening),
            "unit": self.unit,
        }  # fmt: skip


# ---------------------------------------------------------------- one pid


def _proc(p: psutil.Process) -> Proc | None:
    try:
        with p.oneshot():
            return Proc(
                pid=p.pid,
                ppid=p.ppid(),
                name=p.name(),
                cmdline=tuple(_cmdline(p)),
                user=_user(p),
                started=p.create_time(),
            )
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return Proc(pid=p.pid, ppid=0, name="?", cmdline=(), user=None, started=None)


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        args = list(p.cmdline())
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return []
    while args and not args[-1]:  # a retitled process (`postgres: checkpointer`) pads with ""
        args.pop()
    return args


def _user(p: psutil.Process) -> str | None:
    try:
        return str(p.username())
    except (psutil.AccessDenied, KeyError):
        return None


def unit_of(pid: int) -> str | None:
    """The systemd unit (or scope) holding `pid`, from /proc/PID/cgroup."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as fh:
            return unit_from_cgroup(fh.read())
    except OSError:
        return None


def unit_from_cgroup(text: str) -> str | None:
    """`0::/system.slice/postgresql@15-main.service` -> `postgresql@15-main.service`."""
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        for part in reversed(path.split("/")):
            if _UNIT.fullmatch(part):
                return part
    return None


def listening(pid: int) -> tuple[str, ...]:
    """`127.0.0.1:5432`, `[::]:22`, `unix:/run/postgresql/.s.PGSQL.5432` the process listens on."""
    out: list[str] = []
    with contextlib.suppress(psutil.Error, OSError):
        for c in psutil.Process(pid).net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN and c.laddr:
                ip, port = c.laddr[0], c.laddr[1]
                out.append(f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}")
    with contextlib.suppress(psutil.Error, OSError):
        for c in psutil.Process(pid).net_connections(kind="unix"):
            laddr: object = c.laddr  # a path for unix sockets
            raddr: object = c.raddr
            path = laddr if isinstance(laddr, str) else ""
            if path and not raddr and f"unix:{path}" not in out:
                out.append(f"unix:{path}")
    return tuple(sorted(set(out), key=out.index))


def _established(pid: int, ports: set[int]) -> int:
    """Established TCP connections to one of `ports` held by `pid`."""
    n = 0
    with contextlib.suppress(psutil.Error, OSError):
        for c in psutil.Process(pid).net_connections(kind="inet"):
            if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr[1] in ports:
                n += 1
    return n


def _pg_title(cmdline: Sequence[str]) -> str | None:
    """`postgres: 15/main: app appdb 10.0.0.5(5123) idle` -> the part after the prefix(es)."""
    text = " ".join(cmdline)
    if not text.startswith(("postgres: ", "postmaster: ")):
        return None
    rest = text.split(": ", 1)[1]
    if ": " in rest and not _PG_AUX.match(rest):
        head, _, tail = rest.partition(": ")
        if " " not in head:  # `15/main: ...`: the cluster_name prefix
            rest = tail
    return rest.strip()


def _ancestors() -> set[int]:
    out: set[int] = set()
    with contextlib.suppress(psutil.Error):
        out = {p.pid for p in psutil.Process().parents()}
    return out


def classify(proc: Proc, *, kids: Sequence[Proc] = (), detail: bool = True) -> Proc:
    """The role, tags and connection count of `proc` (children given by the caller)."""
    tags: set[str] = set()
    role: str | None = None
    what = ""
    conns: int | None = None
    base = proc.name.split(":")[0].strip()
    me = os.getpid()
    if proc.pid == 1:
        tags |= {"init", "critical"}
        role, what = "init", f"the init process ({proc.name}); killing it stops the host"
    elif proc.pid == me:
        tags.add("self")
        role, what = "guardsh", "guardsh itself"
    elif (proc.ppid == me and base in _SHELLS) or proc.pid in _ancestors():
        tags.add("self")
        if base == "sshd":
            tags.add("critical")
            role, what = "sshd-session", f"your SSH session ({proc.command})"
        elif base in _SHELLS or proc.name.startswith("python"):
            role, what = "user-shell", f"your own shell ({proc.name})"
        else:
            role, what = "ancestor", f"a parent of this session ({proc.name})"
    if role is None and base in _SERVERS:
        kind, words = _SERVERS[base]
        parent = _parent_name(proc.ppid)
        if parent == proc.name or (parent in ("postgres", "postmaster") and kind == "postgres"):
            title = _pg_title(proc.cmdline) if kind == "postgres" else None
            if title is not None and not _PG_AUX.match(title):
                # every child's role ends in "-worker": the kill analyzer keys on that suffix
                role, what = "postgres-worker", f"PostgreSQL client backend ({title})"
            else:
                role = f"{kind}-worker"
                what = f"{words} {'auxiliary process' if title else 'child process'}"
                what += f" ({title})" if title else ""
        else:
            tags |= {"db-main", "critical"}
            role = "postgres-postmaster" if kind == "postgres" else f"{kind}-server"
            datadir = _option(proc.cmdline, "-D", "--datadir", "--dbpath", "--dir")
            what = f"{words} {'postmaster' if kind == 'postgres' else 'server'}"
            what += f" of {datadir}" if datadir else ""
            conns = _connections(proc, kind, kids) if detail else None
    elif role is None and base in _CRITICAL:
        tags.add("critical")
        role, what = base, f"{base} (a service this host depends on)"
    return Proc(
        proc.pid, proc.ppid, proc.name, proc.cmdline, proc.user, proc.started,
        role, what, frozenset(tags), tuple(k.pid for k in kids), conns,
        proc.listening, proc.unit,
    )  # fmt: skip


def _parent_name(ppid: int) -> str | None:
    if ppid <= 0:
        return None
    try:
        return str(psutil.Process(ppid).name())
    except psutil.Error:
        return None


def _option(argv: Sequence[str], *names: str) -> str | None:
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if n.startswith("--") and a.startswith(n + "="):
                return a[len(n) + 1 :]
    return None


def _connections(proc: Proc, kind: str, kids: Sequence[Proc]) -> int | None:
    """Client connections: PostgreSQL's backends are child processes named by
    their process title; other servers hold their clients' sockets themselves."""
    if kind == "postgres":
        titles = [_pg_title(k.cmdline) for k in kids]
        if kids and all(t is None for t in titles):
            return None  # update_process_title = off: backends cannot be told apart
        return sum(1 for t in titles if t is not None and not _PG_AUX.match(t))
    ports = set()
    for addr in listening(proc.pid):
        port = addr.rsplit(":", 1)[-1]
        if port.isdigit():
            ports.add(int(port))
    return _established(proc.pid, ports)


def children(pid: int) -> list[Proc]:
    try:
        kids = psutil.Process(pid).children()
    except psutil.Error:
        return []
    return [c for c in (_proc(k) for k in kids) if c is not None]


def describe(pid: int, *, full: bool = True) -> Proc | None:
    """Everything the card shows about `pid`, or None when there is no such process.

    full=False leaves out the sockets and the unit (what analysis needs is the
    role, its tags and the connection count).
    """
    try:
        p = psutil.Process(pid)
    except (psutil.NoSuchProcess, ValueError):
        return None
    base = _proc(p)
    if base is None:
        return None
    # the child walk reads every process's stat: only the card and servers need it
    server = base.name.split(":")[0].strip() in _SERVERS
    kids = children(pid) if full or server else []
    if full:
        base = Proc(
            base.pid, base.ppid, base.name, base.cmdline, base.user, base.started,
            listening=listening(pid), unit=unit_of(pid),
        )  # fmt: skip
    return classify(base, kids=kids)


def info(pid: int) -> ProcInfo | None:
    """`Facts.proc`: what the process `pid` is, or None when there is no such process."""
    d = describe(pid, full=False)
    if d is None:
        return None
    return ProcInfo(
        pid=d.pid,
        name=d.name,
        cmdline=d.command,
        user=d.user,
        role=d.role,
        tags=d.tags,
        detail=d.summary(),
    )


def age(started: float | None, now: float | None = None) -> str:
    """`3 days ago`, `5 minutes ago`."""
    if started is None:
        return "?"
    secs = max(0, int((now or time.time()) - started))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size:
            n = secs // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return f"{secs} seconds ago"
