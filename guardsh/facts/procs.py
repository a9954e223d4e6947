"""Process facts for `kill` analysis: what a pid is, read with psutil."""

from __future__ import annotations

import contextlib
import os

from guardsh.model import ProcInfo

_DB_MAIN = {
    "postgres": "PostgreSQL postmaster",
    "postmaster": "PostgreSQL postmaster",
    "mysqld": "MySQL server",
    "mariadbd": "MariaDB server",
    "redis-server": "Redis server",
    "mongod": "MongoDB server",
}
_CRITICAL = {"sshd", "systemd", "init", "kubelet", "dockerd", "containerd", "etcd", "guardsh"}


def info(pid: int) -> ProcInfo | None:
    """What the process `pid` is, or None when there is no such process."""
    import psutil

    try:
        p = psutil.Process(pid)
        with p.oneshot():
            name = p.name()
            cmdline = " ".join(p.cmdline())
            user = p.username()
            ppid = p.ppid()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    tags: set[str] = set()
    role = None
    detail = f"{name} (pid {pid}, user {user})"
    if pid == 1:
        tags |= {"init", "critical"}
        role = "init"
    if pid in (os.getpid(), os.getppid()):
        tags.add("self")
        role = role or "self"
    base = name.split(":")[0].strip()
    if base in _DB_MAIN:
        parent_same = False
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            parent_same = psutil.Process(ppid).name() == name
        if not parent_same:
            tags |= {"db-main", "critical"}
            role = _DB_MAIN[base]
            detail = f"{role} {cmdline} (pid {pid}, user {user})"
        else:
            role = f"{_DB_MAIN[base]} worker"
    elif base in _CRITICAL:
        tags.add("critical")
        role = base
    return ProcInfo(
        pid=pid,
        name=name,
        cmdline=cmdline,
        user=user,
        role=role,
        tags=frozenset(tags),
        detail=detail,
    )
