"""Processes: who a kill would hit, read from this host's process table (psutil).

`kill PID`: the process — user, full command line, start time, unit, sockets
it listens on, children, and its role (PostgreSQL postmaster with N client
connections, Redis, sshd, PID 1, guardsh or your own shell). `kill $(cat
FILE)`, `` `pgrep X` ``, `$(pidof X)`: resolved by facts.procs (only those
read-only forms). `pkill`, `killall`, `kill -1`, `killall5`: the full list
of processes that match now. Runs nothing; nothing is signalled.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from guardsh.confirm.providers.base import (
    Outcome,
    Request,
    local_only,
    ok,
    plural,
    provider,
    unavailable,
)
from guardsh.facts import pids as pidsel
from guardsh.facts import procs
from guardsh.facts.pids import Match
from guardsh.facts.procs import Proc

SHOWN = 15  # processes listed on the card; the JSON has them all
_PKILL_VALUES = frozenset({"-u", "-U", "-P", "-g", "-G", "-s", "-t", "-F", "--signal", "--euid",
                           "--uid", "--parent", "--pgroup", "--group", "--session",
                           "--terminal", "--pidfile", "--ns", "--nslist"})  # fmt: skip


@provider("procs", "process.kill", "process.kill_by_name")
def dry_run(req: Request) -> Outcome:
    away = local_only(req)
    if away is not None:
        return away
    f = req.finding
    chosen, how = _pids(req)
    if chosen is None:
        return unavailable(how)
    return _describe(chosen, how, single=f.action == "process.kill")


def _pids(req: Request) -> tuple[list[int] | None, str]:
    """(pids, how they were chosen) or (None, why they cannot be known here)."""
    f = req.finding
    inv = req.invocation
    obj = f.object or ""
    prog = inv.program if inv is not None else ""
    if f.action == "process.kill":
        if obj == "-1":
            return pidsel.signalable(_uid(req)), "every process the user may signal (kill -1)"
        if obj.lstrip("-").isdigit():
            pid = int(obj)
            if pid == 0:
                return _group(os.getpgid(0)), "this shell's own process group"
            if pid < 0:
                return _group(-pid), f"process group {-pid}"
            return [pid], f"pid {pid}"
        if obj.startswith("%"):
            return None, f"{obj} is a job of the interactive shell: not visible from here"
        if inv is not None:
            for w in inv.args:
                if not w.known and (w.value == obj or obj.startswith("processes ")):
                    got = pidsel.resolve_pids(w.value, req.cwd)
                    if got is not None:
                        return got, f"{w.value} (evaluated here, read-only)"
        if obj.startswith("processes named ") and inv is not None:
            name = obj.removeprefix("processes named ")
            return pidsel.matching(Match(pattern=name, style="pidof")), f"processes named {name}"
        return None, f"{obj or 'the pid'} is not known before the command runs"
    if inv is None:
        return None, "the command's words were not found"
    if any(not w.known for w in inv.args):
        return None, f"{prog}: a word is not known before the command runs"
    args = [w.value for w in inv.args]
    if prog in ("pkill", "skill"):
        m = pidsel.pgrep_match(args)
        if m is None:
            return None, f"{prog}: options this dry run does not read"
        return pidsel.matching(m), f"{prog} {' '.join(args)}"
    if prog == "killall":
        return _killall(args)
    if prog == "killall5":
        mine = os.getsid(0)
        others = [p for p in pidsel.signalable(0) if _sid(p) != mine]
        return others, "every process outside this session"
    return None, f"{prog}: no process list for this command yet"


def _uid(req: Request) -> int:
    inv = req.invocation
    if inv is not None and "sudo" in inv.via and inv.user in (None, "root"):
        return 0
    return os.geteuid()


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _group(pgid: int) -> list[int]:
    out = []
    for pid in pidsel.matching(Match()):
        try:
            if os.getpgid(pid) == pgid:
                out.append(pid)
        except OSError:
            continue
    return out


def _killall(args: Sequence[str]) -> tuple[list[int] | None, str]:
    regex = icase = False
    users: set[str] = set()
    names: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-u", "--user", "-s", "--signal", "-n", "--ns", "-o", "-y", "--older-than",
                 "--younger-than", "-Z", "--context"):  # fmt: skip
            if a in ("-u", "--user") and i + 1 < len(args):
                users.add(args[i + 1])
            elif a in ("-o", "-y", "--older-than", "--younger-than", "-Z", "--context", "-n"):
                return None, f"killall {a}: not read by this dry run"
            i += 2
            continue
        if a in ("-r", "--regexp"):
            regex = True
        elif a in ("-I", "--ignore-case"):
            icase = True
        elif a.startswith("-") and len(a) > 1:
            pass  # -9, -KILL, -e, -g, -i, -q, -v, -w
        else:
            names.append(a)
        i += 1
    if not names:
        if not users:
            return None, "killall: no name"
        found = pidsel.matching(Match(users=frozenset(users)))
        return found, f"every process of {','.join(sorted(users))}"
    hits: list[int] = []
    for n in names:
        m = Match(pattern=n, style="killall", regex=regex, icase=icase, users=frozenset(users))
        hits += [p for p in pidsel.matching(m) if p not in hits]
    return hits, f"processes named {' '.join(names)}"


def _describe(pids: Sequence[int], how: str, *, single: bool) -> Outcome:
    found: list[Proc] = []
    missing: list[int] = []
    for pid in pids:
        d = procs.describe(pid, full=len(pids) <= SHOWN)
        if d is None:
            missing.append(pid)
        else:
            found.append(d)
    single = single and len(found) <= 1
    data = {"how": how, "count": len(found), "processes": [p.as_json() for p in found],
            "missing": missing}  # fmt: skip
    if single and found:
        lines = _card(found[0])
        if missing:
            lines.append(f"the other numbers ({', '.join(map(str, missing[:6]))}) "
                         "are no process now: kill reports them")  # fmt: skip
        return ok(lines, data)
    if single:
        gone = ", ".join(map(str, pids[:6])) or "the pid"
        return ok([f"{gone}: no such process now (kill would fail)"], data)
    order = sorted(found, key=lambda p: (not ({"db-main", "init", "self"} & p.tags), p.pid))
    lines = [f"{how}: {plural(len(found), 'process', 'processes')} match now"]
    for p in order[:SHOWN]:
        lines.append(f"pid {p.pid:>7}  {p.user or '?':<10} {_short(p)}")
    if len(order) > SHOWN:
        lines.append(f"… and {len(order) - SHOWN} more")
    if missing:
        lines.append(f"gone or never there: {', '.join(map(str, missing[:10]))}")
    return ok(lines, data)


def _short(p: Proc) -> str:
    role = f"[{p.what}] " if p.what else ""
    cmd = p.command
    return role + (cmd if len(cmd) <= 80 else cmd[:79] + "…")


def _card(p: Proc) -> list[str]:
    lines = [p.summary(), f"command: {p.command[:300]}"]
    if p.started:
        when = dt.datetime.fromtimestamp(p.started).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"started: {when} ({procs.age(p.started)})")
    if p.unit:
        lines.append(f"systemd unit: {p.unit}")
    if p.listening:
        lines.append(f"listening: {', '.join(p.listening[:8])}")
    if p.children:
        kids = plural(len(p.children), "child process", "child processes")
        if p.connections is not None:
            kids += f" ({plural(p.connections, 'client connection')})"
        lines.append(f"children: {kids}")
    if "self" in p.tags:
        lines.append("this is your own session: the shell you are typing in goes with it")
    return lines
