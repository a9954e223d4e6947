"""fs analyzers that delete or re-permission: rm, unlink, find -delete, shred,
chmod/chown/chgrp -R, rsync --delete (overwriting content is fs_write's; path
judgement is fs_paths').

Documented severity choices:
- rm -r, find -delete, rsync --delete, shred: HIGH. Plain rm/unlink: LOW,
  HIGH on a protected path or a whole-directory glob (`*`, `dir/*`).
- chmod/chown/chgrp -R: HIGH on a protected path, LOW otherwise.

Anti-pattern / best practice:
  rm -rf /var/lib/postgresql                    -> fs.delete_recursive high
  rm notes.txt                                  -> fs.delete low
  grep -r "rm -rf" .                            -> nothing (not an rm)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from guardsh.analyze.fs_paths import (
    classify,
    fs_finding,
    is_dev,
    protected,
    public_tags,
    severity_of,
    strip_slash,
    wants_help,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import parse_argv


def _tree(
    inv: Invocation, obj: str, tags: set[str], detail: str, target: Target | None = None
) -> Finding:
    return fs_finding(inv, "fs.delete_recursive", obj, Severity.HIGH, tags, detail, target)


# ---------------------------------------------------------------- rm, unlink, find


@analyzer("rm")
def rm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Each path operand of rm is one finding; -r makes it a tree."""
    if wants_help(inv):
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
            sev = severity_of(tags, ("protected-path", "all-entries"))
            yield fs_finding(inv, "fs.delete", obj, sev, tags, f"remove {obj}")


@analyzer("unlink")
def unlink(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    if wants_help(inv):
        return
    for w in inv.args[:1]:
        obj, tags = classify(w, inv, ctx)
        yield fs_finding(inv, "fs.delete", obj, severity_of(tags), tags, f"remove {obj}")


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
    where = " ".join(strip_slash(w.value) for w in starts) or "."
    obj = " ".join([where, *(shlex.quote(t) for t in tests)])
    yield _tree(inv, obj, tags, f"find deletes what matches under {where}")


# ---------------------------------------------------------------- shred


@analyzer("shred")
def shred(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """shred destroys a file's content even without -u; a device is disk's."""
    if wants_help(inv):
        return
    p = parse_argv(inv.args, short_value="ns", long_value={"iterations", "size"})
    remove = p.has("-u", "--remove")
    for w in p.operands:
        if is_dev(w.value) or w.value == "-":
            continue
        obj, tags = classify(w, inv, ctx)
        how = "overwrite and remove" if remove else "overwrite the content of"
        yield fs_finding(inv, "fs.delete", obj, Severity.HIGH, tags, f"{how} {obj}")


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
    if not p.has("-R", "--recursive") or wants_help(inv):
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
        yield finding(
            inv, action, obj, severity_of(tags), tags=public_tags(tags), detail=f"{what} {obj}"
        )


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
    if wants_help(inv):
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
        tags = {"protected-path"} if path and protected(strip_slash(path)) else set()
    else:
        obj, tags = classify(dest, inv, ctx)
    if p.has(*_RSYNC_DELETE):
        yield _tree(
            inv, strip_slash(obj), tags, f"delete files in {obj} missing from the source", target
        )
    if p.has("--remove-source-files"):
        for w in p.operands[:-1]:
            src, stags = classify(w, inv, ctx)
            yield fs_finding(
                inv,
                "fs.delete",
                src,
                severity_of(stags),
                stags,
                f"remove the files of {src} once sent to {obj}",
            )
