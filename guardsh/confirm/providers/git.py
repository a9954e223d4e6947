"""git: the remote commits a force push would drop (or a branch delete would
orphan), listed before the push.

Runs `git ls-remote REMOTE refs/heads/BRANCH` (the remote's head now; when
the remote cannot be reached, the remote-tracking ref from the last fetch)
and `git rev-list REMOTE_HEAD ^LOCAL` — commits on the remote that the
pushed ref does not contain. Nothing is fetched, nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

from guardsh.confirm.providers.base import (
    Completed,
    Outcome,
    Request,
    failed,
    first_error,
    local_only,
    ok,
    plural,
    provider,
    run,
    unavailable,
)

SHOWN = 10
_FORMAT = "--format=%h %an, %ar: %s"


@provider("git", "git.force_push", "git.delete_remote_branch")
def dry_run(req: Request) -> Outcome:
    away = local_only(req)
    if away is not None:
        return away
    f = req.finding
    obj = f.object or ""
    remote, _, branch = obj.partition("/")
    if not branch or "*" in branch or "unknown-object" in f.tags:
        return unavailable("the branch is not known before the command runs")
    inv = req.invocation
    if inv is None or any(not w.known for w in inv.args):
        return unavailable("the push's arguments are not all known before it runs")
    git = ["git", *_globals(req)]
    env = dict(req.env, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    ran: list[list[str]] = []

    def git_run(*args: str) -> Completed:
        argv = [*git, *args]
        ran.append(argv)
        return run(argv, req, env=env)

    head, stale, error = _remote_head(git_run, remote, branch)
    if error is not None:
        return failed(error, ran)
    if head is None:
        return ok([f"{remote} has no branch {branch} now: nothing on it is lost"],
                  {"remote_head": None}, ran)  # fmt: skip
    have = git_run("cat-file", "-e", f"{head}^{{commit}}").rc == 0
    note = f" (from the last fetch of {remote}: it may have moved since)" if stale else ""
    if not have:
        return ok([f"{remote}/{branch} is at {head[:12]}{note}, a commit this clone has "
                   "never fetched: everything after your last fetch would be lost"],
                  {"remote_head": head, "fetched": False}, ran)  # fmt: skip
    if f.action == "git.delete_remote_branch":
        own = f"--exclude=refs/remotes/{remote}/{branch}"
        c = git_run("rev-list", _FORMAT, head, "--not", own, "--all")
        what = "only on that branch (on no other ref here)"
    else:
        local = _source(req, branch)
        c = git_run("rev-list", _FORMAT, head, f"^{local}")
        what = f"on {remote}/{branch} but not in {local}: the push drops them"
    if c.rc != 0:
        return failed(first_error(c), ran)
    commits = _commits(c.out)
    data = {"remote_head": head, "stale": stale, "dropped": [h for h, _ in commits]}
    if not commits and f.action == "git.delete_remote_branch":
        return ok([f"no commit is lost: every commit of {remote}/{branch} ({head[:12]}){note} "
                   "is on another ref here"], data, ran)  # fmt: skip
    if not commits:
        return ok([f"no commit is lost: {remote}/{branch} ({head[:12]}){note} is already "
                   "contained in what is pushed"], data, ran)  # fmt: skip
    lines = [f"{plural(len(commits), 'commit')} {what}{note}:"]
    lines += [f"  {text}" for _, text in commits[:SHOWN]]
    if len(commits) > SHOWN:
        lines.append(f"  … and {len(commits) - SHOWN} more")
    if "lease" in f.tags:
        lines.append("with --force-with-lease the push is refused if the remote moved "
                     "since your last fetch")  # fmt: skip
    return ok(lines, data, ran)


def _globals(req: Request) -> list[str]:
    """`git -C DIR ...`: the options before the subcommand that choose the repo."""
    inv = req.invocation
    assert inv is not None
    out: list[str] = []
    words = [w.value for w in inv.args]
    i = 0
    while i < len(words) and words[i].startswith("-"):
        w = words[i]
        if w in ("-C", "--git-dir", "--work-tree") and i + 1 < len(words):
            out += [w, words[i + 1]]
            i += 2
            continue
        if w.startswith(("--git-dir=", "--work-tree=")):
            out.append(w)
        elif w == "-c" and i + 1 < len(words):
            i += 1
        i += 1
    return out


def _remote_head(
    git_run: Callable[..., Completed], remote: str, branch: str
) -> tuple[str | None, bool, str | None]:
    """(the remote branch's head, whether it comes from the last fetch, an error)."""
    c = git_run("ls-remote", remote, f"refs/heads/{branch}")
    if c.rc == 0:
        for ln in c.out.splitlines():
            sha, _, ref = ln.partition("\t")
            if ref.strip() == f"refs/heads/{branch}":
                return sha.strip(), False, None
        return None, False, None
    t = git_run("rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}")
    if t.rc == 0 and t.out.strip():
        return t.out.strip(), True, None
    return None, True, first_error(c)


def _source(req: Request, branch: str) -> str:
    """The local side of the pushed refspec: `+src:dst`, `src`, else HEAD."""
    inv = req.invocation
    assert inv is not None
    words = [w.value for w in inv.args]
    if "push" not in words:
        return "HEAD"
    ops = [w for w in words[words.index("push") + 1 :] if not w.startswith("-")]
    for spec in ops[1:]:
        src, colon, dst = spec.lstrip("+").partition(":")
        name = (dst if colon else src).removeprefix("refs/heads/")
        if name == branch or (src == "HEAD" and not colon):
            return src or "HEAD"
    return "HEAD"


def _commits(out: str) -> list[tuple[str, str]]:
    """`git rev-list --format` output: `commit SHA` then the formatted line."""
    res: list[tuple[str, str]] = []
    sha = None
    for ln in out.splitlines():
        if ln.startswith("commit ") and sha is None:
            sha = ln[7:].strip()
        elif sha is not None:
            res.append((sha, ln.strip()))
            sha = None
    return res
