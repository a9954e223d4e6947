"""fs analyzers: rm, unlink, find -delete, shred, truncate, cp/mv/ln/tee over,
chmod/chown/chgrp -R, rsync --delete, and `>` redirections.

Objects are paths as written (trailing `/` dropped). Tags: `protected-path`
(system trees, top-level dirs, a home, `.`/`..`, `$EMPTY/`), `glob`,
`unknown-object`, `no-preserve-root`. Documented severity choices:
- rm -r, find -delete, rsync --delete, shred: HIGH. Plain rm/unlink: LOW,
  HIGH on a protected path or a whole-directory glob (`*`, `dir/*`).
- truncate to 0 / `cp /dev/null F` / `: > F`: LOW, HIGH under /var/lib, on
  a database file or a protected path. A size > 0 or `+N` only grows: quiet.
- `>`/`>|`/`&>` onto a file: HIGH on a protected path (the classic `>` for
  `>>`); LOW when the facts show the file exists; else quiet (a new file).
  `>>`, `<`, `/dev/...` (disk's job) never.
- cp/mv/ln onto a target: LOW when the target is protected, `-f` is given or the
  facts show it exists; `-n`/`-i`/`-b` never overwrite: quiet. mv of a
  protected path (or into /dev/null) removes it from where it was: fs.delete
  LOW (a move is undone by moving back).
- `echo b|o|c > /proc/sysrq-trigger`: system.reboot / system.shutdown HIGH.
- chmod/chown/chgrp -R: HIGH on a protected path, LOW otherwise.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Sequence

from guardsh.analyze.registry import Context, analyzer, fallback, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import parse_argv

# Trees where anything deleted or overwritten breaks the system or a service.
TREES = ("/etc", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr/bin",
         "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/var/lib", "/dev",
         "/proc", "/sys")  # fmt: skip
# Directories whose children are homes, system areas or whole volumes.
PARENTS = frozenset({"/home", "/var", "/usr", "/mnt", "/media"})
# Top-level names judged protected even when reached by a relative path.
TOP = frozenset({"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media",
                 "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
                 "data", "snap"})  # fmt: skip
NOT_PROTECTED = ("/var/lib/apt/lists",)  # the idiomatic cache cleanup
DB_FILE = re.compile(r"\.(db|sqlite3?|ibd|frm|myd|myi|mdf|ldf|wt|rdb|aof)$", re.I)
_MATCH_ALL = frozenset({"*", ".*", "*.*", "?*", ".[!.]*"})
_DOTS = re.compile(r"\.\.?(?:/\.\.?)*/?")
_HELP = frozenset({"--help", "--version"})


def _help(inv: Invocation) -> bool:
    return any(w.value in _HELP for w in inv.args if w.known)


def _strip(path: str) -> str:
    """`/var/lib/x/` -> `/var/lib/x`; `/` stays."""
    return path.rstrip("/") or path[:1]


def protected(path: str, home: str | None = None, top_level: bool = True) -> bool:
    """True for an absolute normalized path that the documented lists protect.

    top_level: any `/name` counts (an absolute path as typed); a relative path
    that resolves to the top level counts only for the FHS names in TOP.
    """
    if path.startswith(NOT_PROTECTED):
        return False
    if path == "/" or path == home or path in PARENTS:
        return True
    parent = posixpath.dirname(path)
    if parent == "/":
        return top_level or path[1:] in TOP
    if parent in PARENTS:
        return True
    return any(path == t or path.startswith(t + "/") for t in TREES)


_WRITE_TREES = tuple(t for t in TREES if t not in ("/dev", "/proc", "/sys"))


def _write_protected(w: Word, inv: Invocation, ctx: Context) -> bool:
    """Overwriting matters inside system trees; writing into /tmp or a home does not."""
    if not w.known or not (w.value.startswith("/") or _local(inv)):
        return False
    full = posixpath.normpath(posixpath.join(_cwd(inv, ctx), w.value))
    if full.startswith(NOT_PROTECTED):
        return False
    return any(full == t or full.startswith(t + "/") for t in _WRITE_TREES)


def _local(inv: Invocation) -> bool:
    """Facts (files) and the session's cwd describe this host only."""
    return inv.target.kind == "local"


def _cwd(inv: Invocation, ctx: Context) -> str:
    return inv.cwd or ctx.snapshot.cwd


def classify(w: Word, inv: Invocation, ctx: Context) -> tuple[str, set[str]]:
    """(object, tags) of a path operand; `protected-path` follows `protected`."""
    raw = w.value
    obj = _strip(raw) if w.known else raw
    tags: set[str] = set()
    home = ctx.snapshot.home
    if not w.known:
        tags.add("unknown-object")
        # The unknown part may be empty: `$DIR/` may be `/`, `/var/lib/$X` `/var/lib/`.
        cut = min((i for i in (raw.find("$"), raw.find("`")) if i >= 0), default=len(raw))
        prefix, rest = raw[:cut], raw[cut:]
        tail = re.sub(r"^(?:\$\{?\w+\}?|\$\(.*?\)|`.*?`)+", "", rest)
        if (not prefix and tail in ("/", "/*", "/.*")) or (
            prefix.startswith("/") and protected(_strip(posixpath.dirname(prefix + "x")), home)
        ):
            tags.add("protected-path")
        return obj, tags
    path = raw
    whole_dir = False
    if w.glob:
        tags.add("glob")
        head, _, last = path.rstrip("/").rpartition("/")
        if last in _MATCH_ALL and not any(c in head for c in "*?["):
            path = head or ("/" if raw.startswith("/") else ".")
            tags.add("all-entries")
            whole_dir = True
    if not whole_dir and (_DOTS.fullmatch(path) or path in ("~", "~/")):
        tags.add("protected-path")
        return obj, tags
    absolute = path.startswith("/")
    if not absolute and not _local(inv):
        return obj, tags  # relative to a remote cwd we do not know
    full = posixpath.normpath(path if absolute else posixpath.join(_cwd(inv, ctx), path))
    if protected(full, home if _local(inv) else None, top_level=absolute):
        tags.add("protected-path")
    return obj, tags


def _fs(
    inv: Invocation,
    action: str,
    obj: str,
    sev: Severity,
    tags: set[str],
    detail: str,
    target: Target | None = None,
) -> Finding:
    """A finding with the public tags (`all-entries` is internal)."""
    return finding(inv, action, obj, sev, tags=_public(tags), detail=detail, target=target)


def _tree(
    inv: Invocation, obj: str, tags: set[str], detail: str, target: Target | None = None
) -> Finding:
    return _fs(inv, "fs.delete_recursive", obj, Severity.HIGH, tags, detail, target)


def _sev(tags: set[str], high_when: Sequence[str] = ("protected-path",)) -> Severity:
    return Severity.HIGH if tags.intersection(high_when) else Severity.LOW


def _public(tags: set[str]) -> set[str]:
    return tags - {"all-entries"}


# ---------------------------------------------------------------- rm, unlink, find


@analyzer("rm")
def rm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Each path operand of rm is one finding; -r makes it a tree."""
    if _help(inv):
        return
    p = parse_argv(inv.args)
    recursive = p.has("-r", "-R", "--recursive")
    extra = {"no-preserve-root"} if p.has("--no-preserve-root") else set()
    for w in p.operands:
        obj, tags = classify(w, inv, ctx)
        tags |= extra
        if recursive:
            yield _tree(inv, obj, tags, f"remove {obj} and everything under it")
        else:
            sev = _sev(tags, ("protected-path", "all-entries"))
            yield _fs(inv, "fs.delete", obj, sev, tags, f"remove {obj}")


@analyzer("unlink")
def unlink(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    if _help(inv):
        return
    for w in inv.args[:1]:
        obj, tags = classify(w, inv, ctx)
        yield _fs(inv, "fs.delete", obj, _sev(tags), tags, f"remove {obj}")


_FIND_GLOBAL = frozenset({"-H", "-L", "-P"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_FIND_QUIET = frozenset({"-delete", "-print", "-print0", "-ls", "-depth", "-d"})


@analyzer("find")
def find(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`find START... EXPR -delete`: the start points and the tests name the object.

    `-exec rm {} +` is the unwrapper's (it hands over an `rm` invocation).
    """
    args = inv.args
    i = 0
    while i < len(args) and (args[i].value in _FIND_GLOBAL or args[i].value.startswith("-O")):
        i += 1
    if i < len(args) and args[i].value == "-D":
        i += 2
    starts: list[Word] = []
    while i < len(args) and not (args[i].known and args[i].value[:1] in ("-", "(", "!", ")", ",")):
        starts.append(args[i])
        i += 1
    tests: list[str] = []
    delete = False
    in_exec = False
    for w in args[i:]:
        t = w.value
        if in_exec:
            in_exec = t not in (";", "+")
            continue
        if t in _FIND_EXEC:
            in_exec = True
        elif t == "-delete":
            delete = True
        elif t not in _FIND_QUIET:
            tests.append(t if w.known else w.value)
    if not delete:
        return
    tags: set[str] = set()
    for w in starts:
        tags |= classify(w, inv, ctx)[1]
    where = " ".join(_strip(w.value) for w in starts) or "."
    obj = " ".join([where, *(shlex.quote(t) for t in tests)])
    yield _tree(inv, obj, tags, f"find deletes what matches under {where}")


# ---------------------------------------------------------------- shred, truncate


def _dev(path: str) -> bool:
    return path.startswith("/dev/")


@analyzer("shred")
def shred(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """shred destroys a file's content even without -u; a device is disk's."""
    if _help(inv):
        return
    p = parse_argv(inv.args, short_value="ns", long_value={"iterations", "size"})
    remove = p.has("-u", "--remove")
    for w in p.operands:
        if _dev(w.value) or w.value == "-":
            continue
        obj, tags = classify(w, inv, ctx)
        how = "overwrite and remove" if remove else "overwrite the content of"
        yield _fs(inv, "fs.delete", obj, Severity.HIGH, tags, f"{how} {obj}")


_SHRINK = re.compile(r"(?:[-<]|/)\s*\d|0+(?:[KMGTPEZY](?:i?B)?|[kKMGTPEZYB]|KB)?$|0+$")


def _truncate_severity(w: Word, inv: Invocation, ctx: Context) -> tuple[str, set[str], Severity]:
    obj, tags = classify(w, inv, ctx)
    full = posixpath.normpath(posixpath.join(_cwd(inv, ctx), w.value))
    high = "protected-path" in tags or full.startswith("/var/lib/") or DB_FILE.search(obj)
    return obj, tags, Severity.HIGH if high else Severity.LOW


@analyzer("truncate")
def truncate(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`truncate -s 0|-N|<N|/N FILE`: content cut away. `-s 10G`/`+N` only grows."""
    if _help(inv):
        return
    p = parse_argv(inv.args, short_value="sro", long_value={"size", "reference", "io-blocks"})
    size = p.value("-s", "--size")
    if size is None or (size.known and not _SHRINK.match(size.value.strip())):
        return
    for w in p.operands:
        if _dev(w.value):
            continue
        obj, tags, sev = _truncate_severity(w, inv, ctx)
        yield _fs(inv, "fs.truncate", obj, sev, tags, f"truncate {obj} to size {size.value}")


# ---------------------------------------------------------------- cp, mv, ln, tee


def _exists(path: str, inv: Invocation, ctx: Context) -> bool:
    if path.endswith("/") or not _local(inv):
        return False
    full = posixpath.join(_cwd(inv, ctx), path)
    return ctx.facts.read_file(full) is not None


def _over(inv: Invocation, ctx: Context, w: Word, force: bool, verb: str) -> Iterator[Finding]:
    if _dev(w.value):
        return
    obj, tags = classify(w, inv, ctx)
    tags.discard("protected-path")
    if _write_protected(w, inv, ctx):
        tags.add("protected-path")
    elif not (force or _exists(w.value, inv, ctx)):
        return
    yield _fs(inv, "fs.overwrite", obj, Severity.LOW, tags, f"{verb} over {obj}")


_NO_CLOBBER = ("-n", "--no-clobber", "-i", "--interactive", "-b", "--backup")


@analyzer("cp", "mv")
def cp_mv(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """cp/mv onto a target; `cp /dev/null F` truncates; mv of a protected path deletes it."""
    if _help(inv):
        return
    p = parse_argv(inv.args, short_value="tS", long_value={"target-directory", "suffix"})
    tdir = p.value("-t", "--target-directory")
    ops = list(p.operands)
    if tdir is None and len(ops) < 2:
        return
    dest = tdir or ops.pop()
    if inv.program == "mv":
        for w in ops:
            obj, tags = classify(w, inv, ctx)
            if "protected-path" in tags or dest.value == "/dev/null":
                yield _fs(
                    inv, "fs.delete", obj, Severity.LOW, tags, f"move {obj} away to {dest.value}"
                )
    elif any(w.value == "/dev/null" for w in ops) and not _dev(dest.value):
        obj, tags, sev = _truncate_severity(dest, inv, ctx)
        yield _fs(inv, "fs.truncate", obj, sev, tags, f"empty {obj}")
        return
    update = p.value("--update")
    if p.has(*_NO_CLOBBER) or (update is not None and update.value == "none"):
        return
    yield from _over(inv, ctx, dest, p.has("-f", "--force"), inv.program)


@analyzer("ln")
def ln(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`ln -sf SRC DEST` replaces DEST."""
    p = parse_argv(inv.args, short_value="tS", long_value={"target-directory", "suffix"})
    if not p.has("-f", "--force") or len(p.operands) < 2 or p.has("-b", "--backup", "-i"):
        return
    yield from _over(inv, ctx, p.operands[-1], True, "ln")


@analyzer("tee")
def tee(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """tee FILE writes FILE from the start unless -a."""
    p = parse_argv(inv.args, long_value={"output-error"})
    if p.has("-a", "--append") or _help(inv):
        return
    for w in p.operands:
        yield from _redirect_target(inv, ctx, w, "tee")


# ---------------------------------------------------------------- chmod, chown, chgrp


_CHMOD_MODE = re.compile(r"-[rwxXstugoa]+")


@analyzer("chmod", "chown", "chgrp")
def chmod(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """-R over a tree: one finding per path."""
    args = list(inv.args)
    mode: Word | None = None
    if inv.program == "chmod":  # `chmod -R -w dir`: -w is a mode
        for k, w in enumerate(args):
            if w.known and _CHMOD_MODE.fullmatch(w.value) and "R" not in w.value:
                mode = args.pop(k)
                break
    p = parse_argv(args)
    if not p.has("-R", "--recursive") or _help(inv):
        return
    ops = list(p.operands)
    if mode is None and p.value("--reference") is None and ops:
        mode = ops.pop(0)
    action = "fs.chmod_recursive" if inv.program == "chmod" else "fs.chown_recursive"
    extra = {"no-preserve-root"} if p.has("--no-preserve-root") else set()
    what = f"{inv.program} -R {mode.value if mode else ''}".rstrip()
    for w in ops:
        obj, tags = classify(w, inv, ctx)
        tags |= extra
        yield finding(inv, action, obj, _sev(tags), tags=_public(tags), detail=f"{what} {obj}")


# ---------------------------------------------------------------- rsync


_RSYNC_DELETE = ("--delete", "--del", "--delete-before", "--delete-during", "--delete-delay",
                 "--delete-after", "--delete-excluded", "--delete-missing-args")  # fmt: skip
_RSYNC_VALUES = {"rsh", "exclude", "include", "filter", "files-from", "password-file", "port",
                 "log-file", "bwlimit", "block-size", "temp-dir", "partial-dir", "compare-dest",
                 "copy-dest", "link-dest", "chmod", "chown", "timeout", "max-size", "min-size",
                 "max-delete", "backup-dir", "suffix", "out-format", "exclude-from",
                 "include-from", "remote-option", "rsync-path", "modify-window", "usermap",
                 "groupmap", "iconv", "checksum-choice", "compress-choice", "info",
                 "debug"}  # fmt: skip
_REMOTE = re.compile(
    r"^(?:rsync://(?:([^@/]+)@)?([^/:]+)[^/]*(/.*)?|(?:([^@/:]+)@)?([^/:]+)::?(.*))$"
)


@analyzer("rsync")
def rsync(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """--delete* removes what the source lacks from the destination (possibly remote)."""
    if _help(inv):
        return
    p = parse_argv(inv.args, short_value="efBTM", long_value=_RSYNC_VALUES)
    if p.has("-n", "--dry-run", "--list-only") or len(p.operands) < 2:
        return
    dest = p.operands[-1]
    target: Target | None = None
    obj, tags = dest.value, set()
    m = _REMOTE.match(dest.value) if dest.known else None
    if m is not None:
        user, host, path = (
            (m.group(1), m.group(2), m.group(3))
            if m.group(2)
            else (m.group(4), m.group(5), m.group(6))
        )
        fields = [("ssh_host", host)] + ([("ssh_user", user)] if user else [])
        target = Target("ssh", tuple(fields))
        obj = path or "~"
        tags = {"protected-path"} if path and protected(_strip(path)) else set()
    else:
        obj, tags = classify(dest, inv, ctx)
    if p.has(*_RSYNC_DELETE):
        yield _tree(
            inv, _strip(obj), tags, f"delete files in {obj} missing from the source", target
        )
    if p.has("--remove-source-files"):
        for w in p.operands[:-1]:
            src, stags = classify(w, inv, ctx)
            yield _fs(
                inv,
                "fs.delete",
                src,
                _sev(stags),
                stags,
                f"remove the files of {src} once sent to {obj}",
            )


# ---------------------------------------------------------------- redirections


_NO_OUTPUT = frozenset({"", ":", "true", "false"})  # "": a bare `> file`


def _no_output(inv: Invocation) -> bool:
    """`: > f`, `true > f`, `cat /dev/null > f`, `echo -n > f`: the file is emptied."""
    args = [a.value for a in inv.args]
    return (
        inv.program in _NO_OUTPUT
        or (inv.program == "cat" and args == ["/dev/null"])
        or (inv.program == "echo" and args == ["-n"])
        or (inv.program == "printf" and args in ([], [""]))
    )


# sysrq keys that end the system or every process at once ("?": not known here)
_SYSRQ = {"b": ("system.reboot", "reboot"), "c": ("system.reboot", "crash"),
          "o": ("system.shutdown", "power off"), "?": ("system.reboot", "reboot or crash"),
          "e": ("process.kill", "SIGTERM to every process"),
          "i": ("process.kill", "SIGKILL to every process")}  # fmt: skip


def _sysrq(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`echo b > /proc/sysrq-trigger`: the kernel acts at once, without syncing disks."""
    if inv.program in ("echo", "printf") and inv.args:
        key = inv.args[-1].value[:1] or "?"
    else:
        key = (inv.stdin.text or "?").strip()[:1] if inv.stdin is not None else "?"
    hit = _SYSRQ.get(key)
    if hit is not None:
        action, what = hit
        kill = action == "process.kill"
        obj = "all processes" if kill else ctx.snapshot.hostname
        yield finding(
            inv,
            action,
            obj,
            Severity.HIGH,
            tags={"all"} if kill else (),
            detail=f"sysrq {key!r}: {what}, immediately",
        )


def _redirect_target(inv: Invocation, ctx: Context, w: Word, how: str) -> Iterator[Finding]:
    if w.value == "/proc/sysrq-trigger":
        yield from _sysrq(inv, ctx)
        return
    if _dev(w.value) or w.value.startswith(("/proc/", "/sys/")) or w.value.isdigit():
        return
    if w.value == "-":
        return
    if how == ">" and _no_output(inv):
        obj, tags, sev = _truncate_severity(w, inv, ctx)
        yield _fs(inv, "fs.truncate", obj, sev, tags, f"empty {obj}")
        return
    obj, tags = classify(w, inv, ctx)
    tags.discard("protected-path")
    if _write_protected(w, inv, ctx):
        tags.add("protected-path")
        yield _fs(
            inv, "fs.overwrite", obj, Severity.HIGH, tags, f"{how} replaces the content of {obj}"
        )
    elif _exists(w.value, inv, ctx):
        yield _fs(
            inv, "fs.overwrite", obj, Severity.LOW, tags, f"{how} replaces the content of {obj}"
        )


@fallback
def redirects(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`>`, `>|`, `&>` onto a file; only the first redirection to a file counts."""
    seen: set[str] = set()
    for r in inv.redirects:
        if r.op not in (">", ">|", "&>") or r.target.value in seen:
            continue
        seen.add(r.target.value)
        yield from _redirect_target(inv, ctx, r.target, ">")
