"""Which pids a command names: pgrep/pkill/pidof/killall patterns matched
against this host's process table, what `kill -1` reaches, and the pid
expressions a tired person types.

`resolve_pids(expr)` evaluates only the read-only forms `$(cat FILE)`,
`$(< FILE)`, `` `cat FILE` ``, `$(head -1 FILE)`, `$(pgrep [-f] [-x] [-i]
[-u U] X)` and `$(pidof X)`: pid files are read directly, and pgrep/pidof
are answered by walking the process table here, never by spawning anything.
Anything else is None: "not known".
"""

from __future__ import annotations

import os
import re
import shlex
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import psutil

_FIELDS = ["pid", "ppid", "name", "cmdline", "username", "uids", "create_time"]


@dataclass(frozen=True, slots=True)
class Match:
    """How pgrep/pkill, pidof or killall choose processes."""

    pattern: str | None = None
    full: bool = False  # -f: search the whole command line
    exact: bool = False  # -x
    icase: bool = False  # -i
    invert: bool = False  # -v
    users: frozenset[str] = frozenset()  # -u (effective user: names or uids)
    parents: frozenset[int] = frozenset()  # -P
    newest: bool = False  # -n
    oldest: bool = False  # -o
    style: str = "pgrep"  # pgrep | pidof | killall
    regex: bool = True  # killall without -r: exact names


def _rows() -> Iterator[dict[str, object]]:
    for p in psutil.process_iter(_FIELDS, ad_value=None):
        yield p.info


def _user_ok(row: dict[str, object], users: frozenset[str]) -> bool:
    if not users:
        return True
    uids = row.get("uids")
    euid = str(uids[1]) if isinstance(uids, tuple) and len(uids) > 1 else None
    return row.get("username") in users or euid in users


def _name_ok(m: Match, name: str, argv: Sequence[str]) -> bool:
    pat = m.pattern or ""
    if m.style == "pidof":
        names = {name, os.path.basename(argv[0]) if argv else ""}
        return pat in names or (pat.startswith("/") and bool(argv) and argv[0] == pat)
    if m.style == "killall" and not m.regex:
        base = os.path.basename(argv[0]) if argv else ""
        if m.icase:
            return pat.lower() in (name.lower(), base.lower())
        return pat in (name, base) or (pat.startswith("/") and bool(argv) and argv[0] == pat)
    subject = " ".join(argv) if m.full and argv else name[:15] if m.style == "pgrep" else name
    try:
        rx = re.compile(pat, re.I if m.icase else 0)
    except re.error:
        return False
    return (rx.fullmatch(subject) if m.exact else rx.search(subject)) is not None


def matching(m: Match, *, exclude: Iterable[int] = ()) -> list[int]:
    """Pids the command would select now (itself excluded, as pgrep/pkill do)."""
    skip = {os.getpid(), *exclude}
    hits: list[tuple[float, int]] = []
    for row in _rows():
        pid = row["pid"]
        if not isinstance(pid, int) or pid in skip:
            continue
        name = str(row.get("name") or "")
        argv = [str(a) for a in row.get("cmdline") or [] if a]  # type: ignore[attr-defined]
        if m.parents and row.get("ppid") not in m.parents:
            continue
        if not _user_ok(row, m.users):
            continue
        if m.pattern is not None and _name_ok(m, name, argv) == m.invert:
            continue
        if m.pattern is None and m.invert:
            continue
        started = row.get("create_time")
        hits.append((started if isinstance(started, float) else 0.0, pid))
    hits.sort()
    if m.newest and hits:
        hits = hits[-1:]
    elif m.oldest and hits:
        hits = hits[:1]
    return [pid for _, pid in hits]


def signalable(uid: int | None = None, *, exclude: Iterable[int] = ()) -> list[int]:
    """What `kill -SIG -1` reaches: every process the user may signal but
    init and the caller (for root: every process but those; kernel threads left out)."""
    uid = os.geteuid() if uid is None else uid
    skip = {1, os.getpid(), *exclude}
    out = []
    for row in _rows():
        pid = row["pid"]
        if not isinstance(pid, int) or pid in skip or row.get("ppid") == 2 or pid == 2:
            continue
        uids = row.get("uids")
        if uid == 0 or (isinstance(uids, tuple) and uid in (uids[0], uids[1])):
            out.append(pid)
    return out


# ---------------------------------------------------------------- pid expressions

_SUBST = re.compile(r"^\s*(?:\$\((?P<a>.*)\)|`(?P<b>[^`]*)`)\s*$", re.S)
_UNSAFE = re.compile(r"[;&|<>`$(){}\n*?\[\]]")


def resolve_pids(expr: str, cwd: str = "/") -> list[int] | None:
    """The pids `expr` would produce at run time, when it is one of the known
    read-only forms; None when it is anything else (never evaluated)."""
    text = expr.strip()
    if text.isdigit():
        return [int(text)]
    m = _SUBST.match(text)
    if m is None:
        return None
    inner = (m.group("a") if m.group("a") is not None else m.group("b")).strip()
    if inner.startswith("<"):
        return _pidfile(inner[1:].strip(), cwd)
    if _UNSAFE.search(inner.replace("\\$", "")):
        return None
    try:
        words = shlex.split(inner)
    except ValueError:
        return None
    if not words:
        return None
    cmd, args = os.path.basename(words[0]), words[1:]
    if cmd == "cat" and len(args) == 1 and not args[0].startswith("-"):
        return _pidfile(args[0], cwd)
    if cmd == "head" and args and args[:-1] in (["-1"], ["-n1"], ["-n", "1"]):
        return _pidfile(args[-1], cwd, first=True)
    if cmd == "pgrep":
        pm = pgrep_match(args)
        return None if pm is None else matching(pm)
    if cmd == "pidof":
        return _pidof(args)
    return None


def _pidfile(path: str, cwd: str, first: bool = False) -> list[int] | None:
    """A pid file's pids (postmaster.pid: its first line is the pid)."""
    if not path or _UNSAFE.search(path):
        return None
    try:
        path = shlex.split(path)[0]
    except (ValueError, IndexError):
        return None
    full = os.path.join(cwd, os.path.expanduser(path))
    try:
        with open(full, encoding="utf-8", errors="replace") as fh:
            text = fh.read(64 * 1024)
    except OSError:
        return None
    # `$(cat F)` is word-split: every number in the file becomes a kill operand
    # (postmaster.pid also holds its port and start time); `head -1` keeps line 1.
    lines = text.splitlines()[:1] if first else text.splitlines()
    return [int(t) for ln in lines for t in ln.split() if t.isdigit()]


_SIGNALS = frozenset(s.name[3:] for s in signal.Signals) | {"RTMIN", "RTMAX", "IOT", "POLL"}
_PGREP_FLAGS = {
    "-f": "full", "--full": "full", "-x": "exact", "--exact": "exact", "-i": "icase",
    "--ignore-case": "icase", "-v": "invert", "--inverse": "invert", "-n": "newest",
    "--newest": "newest", "-o": "oldest", "--oldest": "oldest",
}  # fmt: skip
_PGREP_QUIET = frozenset({"-l", "--list-name", "-a", "--list-full", "-c", "--count", "-e",
                          "--echo"})  # fmt: skip


def pgrep_match(args: Sequence[str]) -> Match | None:
    """pgrep/pkill arguments -> a Match; None for options this reader does not know."""
    flags: dict[str, bool] = {}
    users: set[str] = set()
    parents: set[int] = set()
    pattern: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            pattern = args[i + 1] if i + 1 < len(args) else None
            break
        if a in ("-u", "-U", "--euid", "--uid", "-P", "--parent"):
            if i + 1 >= len(args):
                return None
            vals = args[i + 1].split(",")
            if a in ("-P", "--parent"):
                if not all(v.isdigit() for v in vals):
                    return None
                parents |= {int(v) for v in vals}
            else:
                users |= set(vals)
            i += 2
            continue
        if a in ("--signal",):
            i += 2
            continue
        if a.startswith("-") and (a[1:].isdigit() or a[1:].upper().removeprefix("SIG") in _SIGNALS):
            i += 1  # -9 / -KILL / -SIGKILL: pkill's signal
            continue
        if a.startswith("-") and len(a) > 1:
            if a in _PGREP_FLAGS:
                flags[_PGREP_FLAGS[a]] = True
            elif a in _PGREP_QUIET or a.startswith("--signal="):
                pass
            elif not a.startswith("--") and all(
                f"-{c}" in _PGREP_FLAGS or f"-{c}" in _PGREP_QUIET for c in a[1:]
            ):
                for c in a[1:]:
                    if f"-{c}" in _PGREP_FLAGS:
                        flags[_PGREP_FLAGS[f"-{c}"]] = True
            else:
                return None
            i += 1
            continue
        if pattern is not None:
            return None  # pgrep takes one pattern
        pattern = a
        i += 1
    if pattern is None and not users and not parents:
        return None
    return Match(
        pattern=pattern,
        users=frozenset(users),
        parents=frozenset(parents),
        full=flags.get("full", False),
        exact=flags.get("exact", False),
        icase=flags.get("icase", False),
        invert=flags.get("invert", False),
        newest=flags.get("newest", False),
        oldest=flags.get("oldest", False),
    )


def _pidof(args: Sequence[str]) -> list[int] | None:
    single = False
    names = []
    for a in args:
        if a in ("-s",):
            single = True
        elif a in ("-x", "-c", "-n", "-q", "-z"):
            continue
        elif a.startswith("-"):
            return None
        else:
            names.append(a)
    if not names:
        return None
    pids: list[int] = []
    for n in names:
        pids += [p for p in matching(Match(pattern=n, style="pidof")) if p not in pids]
    pids.sort(reverse=True)  # pidof prints the newest first
    return pids[:1] if single else pids


def pid_resolver(cwd: str) -> Callable[[str], list[int] | None]:
    """`Facts.extra["resolve_pids"]`: resolve_pids with relative pid files under `cwd`."""

    def resolve(expr: str) -> list[int] | None:
        return resolve_pids(expr, cwd)

    return resolve
