"""How the fs families judge a path operand: is it protected, what object and
tags does it give a finding, and which finding does it make (a helper module,
not a family; it registers nothing).

Objects are paths as written (trailing `/` dropped). Tags: `protected-path`
(system trees, top-level dirs, a home, `.`/`..`, `$EMPTY/`), `glob`,
`unknown-object`, `no-preserve-root`; `all-entries` (a whole-directory glob:
`*`, `dir/*`) is internal and dropped by `fs_finding`. The files facts and
the session's cwd describe this host only (`is_local`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word

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
_MATCH_ALL = frozenset({"*", ".*", "*.*", "?*", ".[!.]*"})
_DOTS = re.compile(r"\.\.?(?:/\.\.?)*/?")
_HELP = frozenset({"--help", "--version"})


def wants_help(inv: Invocation) -> bool:
    return any(w.value in _HELP for w in inv.args if w.known)


def strip_slash(path: str) -> str:
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


def is_local(inv: Invocation) -> bool:
    """Facts (files) and the session's cwd describe this host only."""
    return inv.target.kind == "local"


def cwd_of(inv: Invocation, ctx: Context) -> str:
    return inv.cwd or ctx.snapshot.cwd


def classify(w: Word, inv: Invocation, ctx: Context) -> tuple[str, set[str]]:
    """(object, tags) of a path operand; `protected-path` follows `protected`."""
    raw = w.value
    obj = strip_slash(raw) if w.known else raw
    tags: set[str] = set()
    home = ctx.snapshot.home
    if not w.known:
        tags.add("unknown-object")
        # The unknown part may be empty: `$DIR/` may be `/`, `/var/lib/$X` `/var/lib/`.
        cut = min((i for i in (raw.find("$"), raw.find("`")) if i >= 0), default=len(raw))
        prefix, rest = raw[:cut], raw[cut:]
        tail = re.sub(r"^(?:\$\{?\w+\}?|\$\(.*?\)|`.*?`)+", "", rest)
        if (not prefix and tail in ("/", "/*", "/.*")) or (
            prefix.startswith("/") and protected(strip_slash(posixpath.dirname(prefix + "x")), home)
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
    if not absolute and not is_local(inv):
        return obj, tags  # relative to a remote cwd we do not know
    full = posixpath.normpath(path if absolute else posixpath.join(cwd_of(inv, ctx), path))
    if protected(full, home if is_local(inv) else None, top_level=absolute):
        tags.add("protected-path")
    return obj, tags


def fs_finding(
    inv: Invocation,
    action: str,
    obj: str,
    sev: Severity,
    tags: set[str],
    detail: str,
    target: Target | None = None,
) -> Finding:
    """A finding with the public tags (`all-entries` is internal)."""
    return finding(inv, action, obj, sev, tags=public_tags(tags), detail=detail, target=target)


def severity_of(tags: set[str], high_when: Sequence[str] = ("protected-path",)) -> Severity:
    return Severity.HIGH if tags.intersection(high_when) else Severity.LOW


def public_tags(tags: set[str]) -> set[str]:
    return tags - {"all-entries"}


def is_dev(path: str) -> bool:
    return path.startswith("/dev/")
