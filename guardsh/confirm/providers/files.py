"""Files: what `rm -r`, `find -delete`, `rsync --delete`, a truncating `>`
or `chmod -R` would touch, read from this host's file tree.

Counts files, directories and bytes, names the mount points the walk
crosses (rm -r deletes on them too) and the protected paths inside (`/`,
`/etc`, `/var/lib/postgresql`, `/home`, ...). The walk never follows a
symbolic link and stops at its time bound: the card then says "at least".
Kernel pseudo filesystems (/proc, /sys, /dev, ...) are named as mount points
but not walked: their entries are not files rm could delete.
"""

from __future__ import annotations

import glob
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from guardsh.confirm.providers.base import (
    Outcome,
    Request,
    human_bytes,
    local_only,
    ok,
    plural,
    provider,
    unavailable,
)

PROTECTED = ("/", "/etc", "/var/lib/postgresql", "/var/lib/mysql", "/home", "/root", "/usr",
             "/boot", "/var", "/var/lib", "/bin", "/sbin", "/lib", "/srv", "/opt")  # fmt: skip
MARGIN = 0.25  # seconds left to the runner after the walk stops
CHECK_EVERY = 256  # entries between two looks at the clock
PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs",
    "tracefs", "pstore", "bpf", "mqueue", "hugetlbfs", "configfs", "fusectl", "binfmt_misc",
    "autofs", "efivarfs", "rpc_pipefs", "nsfs",
})  # fmt: skip
MOUNTS = "/proc/self/mounts"


def pseudo_mounts(table: str = MOUNTS) -> frozenset[str]:
    """Mount points of kernel pseudo filesystems (octal escapes in the table decoded)."""
    try:
        with open(table, encoding="utf-8", errors="surrogateescape") as fh:
            rows = [line.split() for line in fh]
    except OSError:
        return frozenset({"/proc", "/sys", "/dev"})
    return frozenset(
        r[1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        for r in rows
        if len(r) >= 3 and r[2] in PSEUDO_FS
    )


@dataclass(slots=True)
class Tally:
    files: int = 0
    dirs: int = 0
    links: int = 0
    other: int = 0
    bytes: int = 0
    errors: int = 0
    complete: bool = True
    mounts: list[str] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return self.files + self.dirs + self.links + self.other

    def words(self) -> str:
        least = "" if self.complete else "at least "
        parts = [plural(self.files, "file"), plural(self.dirs, "directory", "directories")]
        if self.links:
            parts.append(plural(self.links, "symlink"))
        if self.other:
            parts.append(plural(self.other, "other entry", "other entries"))
        return f"{least}{', '.join(parts)}, {least}{human_bytes(self.bytes)}"

    def as_json(self) -> dict[str, object]:
        return {"files": self.files, "dirs": self.dirs, "symlinks": self.links,
                "other": self.other, "bytes": self.bytes, "complete": self.complete,
                "unreadable": self.errors, "mounts": list(self.mounts)}  # fmt: skip


def walk(root: str, deadline: float, *, skip: set[str] | None = None) -> Tally:
    """Count everything under `root` (itself included), without following links."""
    t = Tally()
    try:
        st = os.lstat(root)
    except OSError:
        t.errors += 1
        return t
    _count(t, st)
    if not stat.S_ISDIR(st.st_mode):
        return t
    stack = [(root, st.st_dev)]
    seen = 0
    pseudo = pseudo_mounts()
    while stack:
        path, dev = stack.pop()
        try:
            it = os.scandir(path)
        except OSError:
            t.errors += 1
            continue
        with it:
            for entry in _entries(it, t):
                seen += 1
                if seen % CHECK_EVERY == 0 and time.monotonic() > deadline:
                    t.complete = False
                    return t
                if skip is not None and entry.path in skip:
                    continue
                try:
                    est = entry.stat(follow_symlinks=False)
                except OSError:
                    t.errors += 1
                    continue
                _count(t, est)
                if stat.S_ISDIR(est.st_mode):
                    if est.st_dev != dev and len(t.mounts) < 50:
                        t.mounts.append(entry.path)
                    if entry.path not in pseudo:
                        stack.append((entry.path, est.st_dev))
    if time.monotonic() > deadline:
        t.complete = False
    return t


def _entries(it: Iterator[os.DirEntry[str]], t: Tally) -> Iterator[os.DirEntry[str]]:
    """The entries of a scandir, counting (not raising) an error while reading
    it (e.g. /proc/1/map_files: the listing itself is refused)."""
    while True:
        try:
            entry = next(it)
        except StopIteration:
            return
        except OSError:
            t.errors += 1
            return
        yield entry


def _count(t: Tally, st: os.stat_result) -> None:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        t.files += 1
        t.bytes += st.st_size
    elif stat.S_ISDIR(mode):
        t.dirs += 1
    elif stat.S_ISLNK(mode):
        t.links += 1
    else:
        t.other += 1


def protected_in(root: str) -> list[str]:
    """Protected paths that `root` is, or that lie under it."""
    root = root.rstrip("/") or "/"
    pre = "/" if root == "/" else root + "/"
    return [p for p in PROTECTED if p == root or p.startswith(pre)]


def _paths(req: Request, obj: str) -> list[str]:
    """The object as the shell would see it: `~` and globs expanded, relative to cwd."""
    home = req.snapshot.home
    text = home + obj[1:] if obj == "~" or obj.startswith("~/") else obj
    full = os.path.normpath(os.path.join(req.cwd, text))
    if any(c in obj for c in "*?["):
        return sorted(glob.glob(full))
    return [full]


@provider("files", "fs.delete_recursive", "fs.delete", "fs.truncate", "fs.overwrite",
          "fs.chmod_recursive", "fs.chown_recursive")  # fmt: skip
def dry_run(req: Request) -> Outcome:
    away = local_only(req)
    if away is not None:
        return away
    f = req.finding
    if not f.object or "unknown-object" in f.tags or "$" in f.object:
        return unavailable("the path is not known before the command runs")
    inv = req.invocation
    if inv is not None and inv.program == "find":
        roots = _find_roots(req)
        if roots is None:
            return unavailable("find's starting points are not known before it runs")
        paths = [p for r in roots for p in _paths(req, r)]
    else:
        paths = _paths(req, f.object)
    if not paths:
        return ok([f"{f.object} matches nothing now"], {"paths": []})
    deadline = req.deadline - MARGIN
    if f.action in ("fs.delete_recursive", "fs.chmod_recursive", "fs.chown_recursive"):
        inv = req.invocation
        if f.action == "fs.delete_recursive" and inv is not None and inv.program == "rsync":
            return _rsync(req, paths, deadline)
        return _trees(req, paths, deadline)
    return _single(f.action, paths)


def _find_roots(req: Request) -> list[str] | None:
    """find's starting points: the words before the first test or action."""
    inv = req.invocation
    assert inv is not None
    roots: list[str] = []
    for w in inv.args:
        v = w.value
        if v in ("-H", "-L", "-P") or (v.startswith(("-O", "-D")) and not roots):
            continue
        if v.startswith("-") or v in ("(", "!", ","):
            break
        if not w.known:
            return None
        roots.append(v)
    return roots or ["."]


def _trees(req: Request, paths: list[str], deadline: float) -> Outcome:
    f = req.finding
    verb = {"fs.delete_recursive": "removes", "fs.chmod_recursive": "changes the mode of",
            "fs.chown_recursive": "changes the owner of"}[f.action]  # fmt: skip
    prog = req.invocation.program if req.invocation is not None else ""
    upto = "up to " if prog == "find" else ""
    lines: list[str] = []
    total = Tally()
    per: list[dict[str, object]] = []
    for p in paths:
        if os.path.islink(p) and not (f.object or "").endswith("/"):
            lines.append(f"{p} is a symlink to {os.readlink(p)}: only the link goes")
            per.append({"path": p, "symlink": os.readlink(p)})
            total.links += 1
            continue
        if not os.path.lexists(p):
            lines.append(f"{p} does not exist now")
            per.append({"path": p, "exists": False})
            continue
        t = walk(p, deadline)
        for k in ("files", "dirs", "links", "other", "bytes", "errors"):
            setattr(total, k, getattr(total, k) + getattr(t, k))
        total.complete = total.complete and t.complete
        total.mounts += t.mounts
        per.append({"path": p, **t.as_json(), "protected": protected_in(p)})
    head = f"{prog or 'it'} {verb} {upto}{total.words()}"
    if len(paths) > 1:
        head += f" in {plural(len(paths), 'path')}"
    lines.insert(0, head)
    if not total.complete:
        lines.append("the walk stopped at its time limit: there is more")
    if prog == "find":
        lines.append("find's own tests (-name, -type, ...) are not applied: an upper bound")
    pseudo = pseudo_mounts() if total.mounts else frozenset()
    for m in total.mounts[:5]:
        if m in pseudo:
            lines.append(f"crosses {m}, a kernel filesystem (not counted)")
        else:
            lines.append(f"crosses the mount point {m}: that filesystem's files go too")
    for item in per:
        prot = item.get("protected")
        if isinstance(prot, list) and prot:
            lines.append(f"protected path{'s' if len(prot) > 1 else ''}: {', '.join(prot)}")
    if total.errors:
        lines.append(f"{plural(total.errors, 'entry', 'entries')} could not be read (not counted)")
    return ok(lines, {"paths": per, "total": total.as_json()})


def _rsync(req: Request, paths: list[str], deadline: float) -> Outcome:
    """`rsync --delete SRC... DST`: what is under DST but not in any source."""
    inv = req.invocation
    assert inv is not None
    ops = [w.value for w in inv.args if not w.value.startswith("-")]
    if len(ops) < 2 or any(":" in o.split("/")[0] for o in ops):
        return _trees(req, paths, deadline)  # remote side: an upper bound
    *srcs, dst = (os.path.join(req.cwd, o) for o in ops)
    t = Tally()
    for src in srcs:
        root = dst if src.endswith("/") else os.path.join(dst, os.path.basename(src))
        _extra(src.rstrip("/"), root, t, deadline)
    lines = [f"rsync --delete removes {t.words()} under {dst} missing from the source"]
    lines.append("--exclude/--filter rules are not applied: an upper bound")
    if not t.complete:
        lines.append("the walk stopped at its time limit: there is more")
    return ok(lines, {"total": t.as_json(), "dest": dst})


def _extra(src: str, dst: str, t: Tally, deadline: float) -> None:
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(dst, rel)))
        except OSError:
            continue
        for e in entries:
            if time.monotonic() > deadline:
                t.complete = False
                return
            r = os.path.join(rel, e.name)
            if not os.path.lexists(os.path.join(src, r)):
                sub = walk(e.path, deadline)
                for k in ("files", "dirs", "links", "other", "bytes"):
                    setattr(t, k, getattr(t, k) + getattr(sub, k))
                t.complete = t.complete and sub.complete
            elif e.is_dir(follow_symlinks=False):
                stack.append(r)


def _single(action: str, paths: list[str]) -> Outcome:
    lines = []
    items = []
    for p in paths:
        try:
            st = os.lstat(p)
        except OSError:
            lines.append(f"{p} does not exist now: nothing is lost")
            items.append({"path": p, "exists": False})
            continue
        kind = ("file" if stat.S_ISREG(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode)
                else "symlink" if stat.S_ISLNK(st.st_mode) else "special file")  # fmt: skip
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
        words = {"fs.delete": "removed", "fs.truncate": "emptied",
                 "fs.overwrite": "replaced"}.get(action, "changed")  # fmt: skip
        line = f"{p}: {kind}, {human_bytes(st.st_size)}, modified {when}: {words}"
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and action == "fs.delete":
            line += f" (the data stays: {st.st_nlink - 1} other hard link(s))"
        lines.append(line)
        prot = [x for x in PROTECTED if p.startswith(x + "/") and x != "/"]
        if prot:
            lines.append(f"under the protected path {prot[-1]}")
        items.append({"path": p, "exists": True, "kind": kind, "bytes": st.st_size,
                      "mtime": st.st_mtime, "links": st.st_nlink})  # fmt: skip
    return ok(lines, {"paths": items})
