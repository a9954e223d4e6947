"""git subcommands that destroy in the local repository: refs, the way back to
lost commits, tracked files. The git analyzer dispatches to SUBCOMMANDS.

Severity choices:
- `tag -d` and `update-ref -d REF` are LOW (git.delete_ref, tag `tag` for
  tags; the commit stays, and a pushed tag stays on the remote).
  `update-ref -d refs/heads/X` is `branch -D X`: git.delete_branch, LOW.
- `reflog expire --expire=now` or `--expire-unreachable=now` (with `--all`
  or named refs: with neither, git expires nothing), `gc --prune=now` (or
  `-c gc.pruneExpire=now`, `-c gc.reflogExpire[Unreachable]=now`) and
  `prune` (no grace period unless `--expire`) destroy the way back after a
  reset --hard, a branch -D, a stash drop: git.prune HIGH. A cut-off of a day
  or more (git's own defaults are weeks) stays quiet, as does `-n`.
- `rm -r` (and a quoted glob pathspec, which git matches in every directory)
  deletes tracked files from the work tree and the index: git.rm LOW, as
  they come back from HEAD. `-f` also drops their uncommitted changes (tag
  `force`), still LOW, as reset --hard of the whole tree is. `--cached`
  (index only) and `-n` are quiet; one named file is a deliberate edit.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator

from guardsh.analyze.git_repo import Repo, branch_tags, span
from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Span, Word
from guardsh.parse.argv import Parsed, parse_argv

Handler = Callable[[Invocation, Context, Parsed, Word, tuple[Word, ...]], Iterator[Finding]]

# approxidate texts that leave no grace period: now, all, N seconds/minutes/hours (ago)
_IMMEDIATE = re.compile(r"^(now|all|\d+[. ]?(seconds?|minutes?|hours?)([. ]ago)?)$", re.I)
_TAG_LONG = frozenset(
    {"message", "file", "local-user", "cleanup", "sort", "format", "contains", "no-contains",
     "merged", "no-merged", "points-at", "color", "column"}
)  # fmt: skip


def _immediate(value: str | None) -> bool:
    return value is not None and _IMMEDIATE.match(value.strip()) is not None


def _unknown(w: Word) -> list[str]:
    return [] if w.known else ["unknown-object"]


def _tag(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, short_value="muF", long_value=_TAG_LONG)
    if not p.has("-d", "--delete"):
        return
    for t in p.operands:
        yield finding(
            inv, "git.delete_ref", t.value, Severity.LOW, evidence=span(inv, sub, t),
            tags=["tag", *_unknown(t)], detail=f"tag {t.value} is deleted in this repository",
        )  # fmt: skip


def _update_ref(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, short_value="m")
    if not p.has("-d") or not p.operands:
        return
    ref = p.operands[0]
    ev = span(inv, sub, *args)
    if ref.value.startswith("refs/heads/"):
        name = ref.value[11:]
        yield finding(
            inv, "git.delete_branch", name, Severity.LOW, evidence=ev,
            tags=[*branch_tags(name if ref.known else None), "update-ref"],
            detail=f"branch {name} is deleted even if not merged",
        )  # fmt: skip
        return
    is_tag = ref.value.startswith("refs/tags/")
    yield finding(
        inv, "git.delete_ref", ref.value.removeprefix("refs/tags/"), Severity.LOW, evidence=ev,
        tags=(["tag"] if is_tag else []) + ["update-ref", *_unknown(ref)],
        detail=f"ref {ref.value} is deleted",
    )  # fmt: skip


def _prune_finding(inv: Invocation, where: str, ev: Span, tag: str, what: str) -> Finding:
    return finding(
        inv, "git.prune", where, Severity.HIGH, evidence=ev, tags=[tag],
        detail=f"{what}: commits lost to a reset, a branch -D or a stash drop cannot be "
        f"recovered in {where}",
    )  # fmt: skip


def _reflog(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, long_value={"expire", "expire-unreachable"})
    if not p.operands or p.operands[0].value != "expire" or p.has("-n", "--dry-run"):
        return
    refs = p.operands[1:]
    cut = [
        o for o in p.opts
        if o.name in ("--expire", "--expire-unreachable") and o.value is not None
        and _immediate(o.value.value)
    ]  # fmt: skip
    if not cut or not (refs or p.has("--all")):
        return
    which = "every reflog" if p.has("--all") else "the reflog of " + " ".join(r.value for r in refs)
    yield _prune_finding(
        inv, Repo(inv, ctx, g).cwd, span(inv, sub, *args), "reflog", f"{which} is emptied"
    )


def _gc(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args)
    repo = Repo(inv, ctx, g)
    prune = p.value("--prune")
    why: list[str] = []
    if p.has("--no-prune"):
        pass
    elif prune is not None and prune.known and _immediate(prune.value):
        why.append(f"--prune={prune.value}")
    elif prune is None and _immediate(repo.config.get("gc.pruneexpire")):
        why.append("gc.pruneExpire=" + repo.config["gc.pruneexpire"])
    for key in ("gc.reflogexpire", "gc.reflogexpireunreachable"):
        if _immediate(repo.config.get(key)):
            why.append(f"{key}={repo.config[key]}")
    if why:
        what = f"git gc with {', '.join(why)}"
        yield _prune_finding(inv, repo.cwd, span(inv, sub, *args), "gc", what)


def _prune(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, long_value={"expire"})
    expire = p.value("--expire")
    if p.has("-n", "--dry-run", "-h") or (expire is not None and not _immediate(expire.value)):
        return
    what = "every unreachable loose object is deleted"
    yield _prune_finding(inv, Repo(inv, ctx, g).cwd, span(inv, sub, *args), "prune", what)


def _rm(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, long_value={"pathspec-from-file"})
    if p.has("--cached", "-n", "--dry-run", "-h"):
        return
    pathspec_glob = any(
        w.known and not w.glob and any(c in w.value for c in "*?[") for w in p.operands
    )
    if not p.has("-r") and not pathspec_glob:
        return
    repo = Repo(inv, ctx, g)
    paths = [posixpath.normpath(posixpath.join(repo.cwd, w.value)) for w in p.operands]
    src = p.value("--pathspec-from-file")
    obj = " ".join(paths) or (f"paths in {src.value}" if src is not None else repo.cwd)
    force = p.has("-f", "--force")
    tags = (["force"] if force else []) + (["pathspec-glob"] if pathspec_glob else [])
    lost = "with their uncommitted changes" if force else "(they come back from HEAD)"
    yield finding(
        inv, "git.rm", obj, Severity.LOW, evidence=span(inv, sub, *args), tags=tags,
        detail=f"tracked files under {obj} are deleted from the work tree {lost}",
    )  # fmt: skip


SUBCOMMANDS: dict[str, Handler] = {
    "tag": _tag,
    "update-ref": _update_ref,
    "reflog": _reflog,
    "gc": _gc,
    "prune": _prune,
    "rm": _rm,
}
