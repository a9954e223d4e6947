"""git analyzers: history rewrites on remotes, lost local work.

Severity choices:
- force push (`-f`, `--force`, `+refspec`, `--mirror`) is HIGH; with
  `--force-with-lease` alone it is LOW (others' unseen commits are safe),
  but HIGH on a protected branch (main, master, trunk, release*, prod*,
  stable*, live): the rewrite still hits everyone who pulled. Protected
  branches are tagged `protected-branch`; with no refspec the current branch
  is read from `.git/HEAD` through the facts reader.
- deleting a remote branch (`--delete`, `:branch`, `--prune`) is HIGH.
- `reset --hard`, `checkout .`/`restore .`/`checkout -f`/`switch
  --discard-changes` (all of the work tree) lose uncommitted local work: LOW
  (git.reset_hard, tag `discard` for the checkout forms). A single path is
  a deliberate edit and stays quiet.
- `clean -f`/`-fd` is LOW; `-x`/`-X` (ignored files: .env, uploads, data)
  and `-ff` (nested repositories) are HIGH; `-i` is LOW; `-n` is quiet.
- `branch -D` is LOW (the reflog keeps the commits); `stash drop|clear` LOW.
- tag -d, update-ref -d, reflog expire, gc --prune, prune and rm -r: see
  git_local.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from guardsh.analyze.git_local import SUBCOMMANDS as LOCAL_SUBCOMMANDS
from guardsh.analyze.git_repo import Repo, branch_tags, span
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Word
from guardsh.parse.argv import Parsed, parse_argv

_GLOBAL_LONG = frozenset(
    {"git-dir", "work-tree", "namespace", "config-env", "super-prefix", "list-cmds"}
)
_PUSH_LONG = frozenset({"repo", "receive-pack", "exec", "push-option"})
_WHOLE_TREE = frozenset({".", "./", ":/", ":(top)", "*", ":/*"})


@analyzer("git")
def git(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    g = parse_argv(inv.args, short_value="Cc", long_value=_GLOBAL_LONG, stop_at_operand=True)
    if not g.rest or not g.rest[0].known:
        return
    sub, args = g.rest[0].value, g.rest[1:]
    handler = _SUBCOMMANDS.get(sub)
    if handler is not None:
        yield from handler(inv, ctx, g, g.rest[0], args)


def _push(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, short_value="o", long_value=_PUSH_LONG)
    if p.has("-n", "--dry-run", "-h", "--help"):
        return
    force = p.has("-f", "--force")
    lease = p.has("--force-with-lease") and not force
    remote_word = p.operands[0] if p.operands else None
    remote = remote_word.value if remote_word is not None else "origin"
    refspecs = p.operands[1:]
    delete = p.has("-d", "--delete")
    if p.has("--mirror"):
        yield finding(
            inv, "git.force_push", f"{remote}/*", Severity.HIGH, evidence=span(inv, sub, *args),
            tags=["mirror"], detail=f"every ref on {remote} is overwritten to match this repo",
        )  # fmt: skip
        yield finding(
            inv, "git.delete_remote_branch", f"{remote}/*", Severity.HIGH,
            evidence=span(inv, sub, *args), tags=["mirror"],
            detail=f"refs on {remote} that do not exist here are deleted",
        )  # fmt: skip
        return
    if p.has("--prune"):
        yield finding(
            inv, "git.delete_remote_branch", f"{remote}/*", Severity.HIGH,
            evidence=span(inv, sub, *args), tags=["prune"],
            detail=f"branches on {remote} without a local counterpart are deleted",
        )  # fmt: skip
    if not refspecs:
        if delete or not (force or lease):
            return
        branch = Repo(inv, ctx, g).current_branch(ctx)
        if p.has("--all", "--branches", "--tags"):
            branch = "*"
        yield _force(inv, remote, branch, lease, span(inv, sub, *args))
        return
    for ref in refspecs:
        text = ref.value
        if not ref.known:
            action = "git.delete_remote_branch" if delete else "git.force_push"
            if delete or force or lease or text.startswith("+"):
                yield finding(
                    inv, action, f"{remote}/{text.lstrip('+')}",
                    Severity.LOW if lease else Severity.HIGH,
                    evidence=span(inv, sub, ref), tags=["unknown-object"],
                    detail=f"git push to {remote} with a refspec not known statically",
                )  # fmt: skip
            continue
        plus = text.startswith("+")
        src, colon, dst = text.lstrip("+").partition(":")
        if delete or (colon and not src):
            name = _short(dst if colon else src)
            yield finding(
                inv, "git.delete_remote_branch", f"{remote}/{name}", Severity.HIGH,
                evidence=span(inv, sub, ref), tags=branch_tags(name),
                detail=f"branch {name} is deleted on {remote}",
            )  # fmt: skip
            continue
        if not (force or lease or plus):
            continue
        name = dst if colon else src
        if name == "HEAD":
            name = Repo(inv, ctx, g).current_branch(ctx) or "HEAD"
        yield _force(inv, remote, _short(name), lease and not plus, span(inv, sub, ref))


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def _force(inv: Invocation, remote: str, branch: str | None, lease: bool, ev: Span) -> Finding:
    tags = branch_tags(branch)
    sev = Severity.LOW if lease and "protected-branch" not in tags else Severity.HIGH
    if lease:
        tags.append("lease")
    obj = f"{remote}/{branch}" if branch else remote
    return finding(
        inv, "git.force_push", obj, sev, evidence=ev, tags=tags,
        detail=f"history of {obj} is rewritten" + (" (with lease)" if lease else ""),
    )  # fmt: skip


def _reset(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args)
    if p.has("--hard"):
        where = Repo(inv, ctx, g).cwd
        yield finding(
            inv, "git.reset_hard", where, Severity.LOW, evidence=span(inv, sub, *args),
            detail=f"uncommitted changes in {where} are lost",
        )  # fmt: skip


def _whole_tree(paths: tuple[Word, ...]) -> bool:
    return any(w.known and w.value in _WHOLE_TREE for w in paths)


def _checkout(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    """`checkout .`, `checkout -- .`, `checkout -f BRANCH`, `switch --discard-changes`."""
    p = parse_argv(
        args, short_value="bBcC" if sub.value == "switch" else "bB",
        long_value={"orphan", "conflict", "pathspec-from-file", "create", "force-create"},
    )  # fmt: skip
    if p.has("-p", "--patch"):
        return
    forced = p.has("-f", "--force", "--discard-changes")
    if sub.value == "checkout" and p.has("-b", "-B", "--orphan") and not forced:
        return
    if forced or (sub.value == "checkout" and _whole_tree(p.operands)):
        where = Repo(inv, ctx, g).cwd
        yield finding(
            inv, "git.reset_hard", where, Severity.LOW, evidence=span(inv, sub, *args),
            tags=["discard"], detail=f"uncommitted changes in {where} are discarded",
        )  # fmt: skip


def _restore(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, short_value="s", long_value={"source", "pathspec-from-file"})
    staged_only = p.has("-S", "--staged") and not p.has("-W", "--worktree")
    if staged_only or p.has("-p", "--patch"):
        return
    if _whole_tree(p.operands):
        where = Repo(inv, ctx, g).cwd
        yield finding(
            inv, "git.reset_hard", where, Severity.LOW, evidence=span(inv, sub, *args),
            tags=["discard"], detail=f"uncommitted changes in {where} are discarded",
        )  # fmt: skip


def _clean(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args, short_value="e", long_value={"exclude"})
    if p.has("-n", "--dry-run", "-h"):
        return
    forces = sum(1 for o in p.opts if o.name in ("-f", "--force"))
    repo = Repo(inv, ctx, g)
    no_require = repo.config.get("clean.requireforce", "").lower() in (
        "false", "no", "off", "0",
    )  # fmt: skip
    interactive = p.has("-i", "--interactive")
    if not forces and not no_require and not interactive:
        return  # git refuses to clean without -f
    paths = [w.value for w in p.operands]
    obj = " ".join(posixpath.join(repo.cwd, x) for x in paths) if paths else repo.cwd
    tags: list[str] = []
    sev = Severity.LOW
    if p.has("-x", "-X"):
        tags.append("ignored-files")
        sev = Severity.HIGH
    if forces >= 2:
        tags.append("nested-repos")
        sev = Severity.HIGH
    if p.has("-d"):
        tags.append("directories")
    if interactive:
        tags.append("interactive")
        sev = Severity.LOW
    what = "untracked and ignored" if p.has("-x") else "ignored" if p.has("-X") else "untracked"
    yield finding(
        inv, "git.clean", obj, sev, evidence=span(inv, sub, *args), tags=tags,
        detail=f"{what} files under {obj} are deleted (not recoverable from git)",
    )  # fmt: skip


def _branch(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(
        args, short_value="u",
        long_value={"set-upstream-to", "contains", "no-contains", "merged", "no-merged",
                    "points-at", "format", "sort", "column"},
    )  # fmt: skip
    hard = p.has("-D") or (p.has("-d", "--delete") and p.has("-f", "--force"))
    if not hard:
        return
    remote = p.has("-r", "--remotes")
    for b in p.operands:
        tags = branch_tags(b.value if b.known else None)
        yield finding(
            inv, "git.delete_branch", b.value, Severity.LOW, evidence=span(inv, sub, b),
            tags=tags + (["remote-tracking"] if remote else []),
            detail=f"branch {b.value} is deleted even if not merged",
        )  # fmt: skip


def _stash(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    p = parse_argv(args)
    if not p.operands or p.operands[0].value not in ("drop", "clear"):
        return
    verb = p.operands[0]
    which = "all" if verb.value == "clear" else (
        p.operands[1].value if len(p.operands) > 1 else "stash@{0}"
    )  # fmt: skip
    yield finding(
        inv, "git.stash_drop", which, Severity.LOW, evidence=span(inv, sub, *args),
        tags=["all"] if verb.value == "clear" else [],
        detail="every stash is dropped" if which == "all" else f"{which} is dropped",
    )  # fmt: skip


def _submodule(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    """`git submodule foreach [--recursive] CMD`: CMD is shell text."""
    p = parse_argv(args, stop_at_operand=True)
    rest = p.rest
    if len(rest) < 2 or rest[0].value != "foreach":
        return
    cmd = list(rest[1:])
    while cmd and cmd[0].value in ("--recursive", "-q", "--quiet"):
        cmd = cmd[1:]
    if cmd:
        text = " ".join(w.value for w in cmd)
        yield from ctx.recurse_shell(text, inv.target, span(inv, *cmd))


def _delete_branch(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    """git-extras `git delete-branch NAME...`: the local and the origin branch."""
    for b in parse_argv(args).operands:
        tags = branch_tags(b.value if b.known else None)
        yield finding(
            inv, "git.delete_branch", b.value, Severity.LOW, evidence=span(inv, sub, b),
            tags=tags, detail=f"local branch {b.value} is deleted",
        )  # fmt: skip
        yield finding(
            inv, "git.delete_remote_branch", f"origin/{b.value}", Severity.HIGH,
            evidence=span(inv, sub, b), tags=tags, detail=f"branch {b.value} is deleted on origin",
        )  # fmt: skip


def _worktree(
    inv: Invocation, ctx: Context, g: Parsed, sub: Word, args: tuple[Word, ...]
) -> Iterator[Finding]:
    """`git worktree remove --force PATH`: its uncommitted changes go too."""
    p = parse_argv(args)
    if len(p.operands) < 2 or p.operands[0].value != "remove" or not p.has("-f", "--force"):
        return
    path = posixpath.normpath(posixpath.join(Repo(inv, ctx, g).cwd, p.operands[1].value))
    yield finding(
        inv, "git.reset_hard", path, Severity.LOW, evidence=span(inv, sub, *args),
        tags=["discard", "worktree"],
        detail=f"worktree {path} removed with its uncommitted changes",
    )  # fmt: skip


_SUBCOMMANDS = {
    **LOCAL_SUBCOMMANDS,
    "delete-branch": _delete_branch,
    "worktree": _worktree,
    "push": _push,
    "reset": _reset,
    "checkout": _checkout,
    "switch": _checkout,
    "restore": _restore,
    "clean": _clean,
    "branch": _branch,
    "stash": _stash,
    "submodule": _submodule,
}
