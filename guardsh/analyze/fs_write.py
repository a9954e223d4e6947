"""fs analyzers that replace a file's content: truncate, cp/mv/ln/tee over a
target, `cp /dev/null F`, `>` redirections, and `echo b > /proc/sysrq-trigger`
(deleting is fs's; path judgement is fs_paths').

Documented severity choices:
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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from guardsh.analyze.fs_paths import (
    NOT_PROTECTED,
    TREES,
    classify,
    cwd_of,
    fs_finding,
    is_dev,
    is_local,
    wants_help,
)
from guardsh.analyze.registry import Context, analyzer, fallback, finding
from guardsh.model import Finding, Invocation, Severity, Word
from guardsh.parse.argv import parse_argv

DB_FILE = re.compile(r"\.(db|sqlite3?|ibd|frm|myd|myi|mdf|ldf|wt|rdb|aof)$", re.I)
_WRITE_TREES = tuple(t for t in TREES if t not in ("/dev", "/proc", "/sys"))


def _write_protected(w: Word, inv: Invocation, ctx: Context) -> bool:
    """Overwriting matters inside system trees; writing into /tmp or a home does not."""
    if not w.known or not (w.value.startswith("/") or is_local(inv)):
        return False
    full = posixpath.normpath(posixpath.join(cwd_of(inv, ctx), w.value))
    if full.startswith(NOT_PROTECTED):
        return False
    return any(full == t or full.startswith(t + "/") for t in _WRITE_TREES)


_SHRINK = re.compile(r"(?:[-<]|/)\s*\d|0+(?:[KMGTPEZY](?:i?B)?|[kKMGTPEZYB]|KB)?$|0+$")


def _truncate_severity(w: Word, inv: Invocation, ctx: Context) -> tuple[str, set[str], Severity]:
    obj, tags = classify(w, inv, ctx)
    full = posixpath.normpath(posixpath.join(cwd_of(inv, ctx), w.value))
    high = "protected-path" in tags or full.startswith("/var/lib/") or DB_FILE.search(obj)
    return obj, tags, Severity.HIGH if high else Severity.LOW


@analyzer("truncate")
def truncate(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`truncate -s 0|-N|<N|/N FILE`: content cut away. `-s 10G`/`+N` only grows."""
    if wants_help(inv):
        return
    p = parse_argv(inv.args, short_value="sro", long_value={"size", "reference", "io-blocks"})
    size = p.value("-s", "--size")
    if size is None or (size.known and not _SHRINK.match(size.value.strip())):
        return
    for w in p.operands:
        if is_dev(w.value):
            continue
        obj, tags, sev = _truncate_severity(w, inv, ctx)
        yield fs_finding(inv, "fs.truncate", obj, sev, tags, f"truncate {obj} to size {size.value}")


# ---------------------------------------------------------------- cp, mv, ln, tee


def _exists(path: str, inv: Invocation, ctx: Context) -> bool:
    if path.endswith("/") or not is_local(inv):
        return False
    full = posixpath.join(cwd_of(inv, ctx), path)
    return ctx.facts.read_file(full) is not None


def _over(inv: Invocation, ctx: Context, w: Word, force: bool, verb: str) -> Iterator[Finding]:
    if is_dev(w.value):
        return
    obj, tags = classify(w, inv, ctx)
    tags.discard("protected-path")
    if _write_protected(w, inv, ctx):
        tags.add("protected-path")
    elif not (force or _exists(w.value, inv, ctx)):
        return
    yield fs_finding(inv, "fs.overwrite", obj, Severity.LOW, tags, f"{verb} over {obj}")


_NO_CLOBBER = ("-n", "--no-clobber", "-i", "--interactive", "-b", "--backup")


@analyzer("cp", "mv")
def cp_mv(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """cp/mv onto a target; `cp /dev/null F` truncates; mv of a protected path deletes it."""
    if wants_help(inv):
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
                yield fs_finding(
                    inv, "fs.delete", obj, Severity.LOW, tags, f"move {obj} away to {dest.value}"
                )
    elif any(w.value == "/dev/null" for w in ops) and not is_dev(dest.value):
        obj, tags, sev = _truncate_severity(dest, inv, ctx)
        yield fs_finding(inv, "fs.truncate", obj, sev, tags, f"empty {obj}")
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
    if p.has("-a", "--append") or wants_help(inv):
        return
    for w in p.operands:
        yield from _redirect_target(inv, ctx, w, "tee")


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
    if is_dev(w.value) or w.value.startswith(("/proc/", "/sys/")) or w.value.isdigit():
        return
    if w.value == "-":
        return
    if how == ">" and _no_output(inv):
        obj, tags, sev = _truncate_severity(w, inv, ctx)
        yield fs_finding(inv, "fs.truncate", obj, sev, tags, f"empty {obj}")
        return
    obj, tags = classify(w, inv, ctx)
    tags.discard("protected-path")
    if _write_protected(w, inv, ctx):
        tags.add("protected-path")
        yield fs_finding(
            inv, "fs.overwrite", obj, Severity.HIGH, tags, f"{how} replaces the content of {obj}"
        )
    elif _exists(w.value, inv, ctx):
        yield fs_finding(
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
