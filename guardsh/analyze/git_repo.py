"""What git analyzers share: where a git command acts, evidence spans, and
which branch names are protected (imported by git and git_local)."""

from __future__ import annotations

import posixpath
import re

from guardsh.analyze.registry import Context
from guardsh.model import Invocation, Span, Word
from guardsh.parse.argv import Parsed

PROTECTED = re.compile(
    r"^(main|master|trunk|live|production|(release|prod|stable)([/._-].*)?)$", re.IGNORECASE
)


def span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


class Repo:
    """Where the command acts: `-C`, `--git-dir`, `--work-tree`, else cwd."""

    __slots__ = ("config", "cwd", "git_dir")

    def __init__(self, inv: Invocation, ctx: Context, g: Parsed) -> None:
        cwd = inv.cwd or ctx.snapshot.cwd
        for d in g.values("-C"):
            cwd = posixpath.join(cwd, d.value)
        work = g.value("--work-tree")
        self.cwd = posixpath.normpath(posixpath.join(cwd, work.value) if work else cwd)
        gd = g.value("--git-dir")
        self.git_dir = posixpath.normpath(posixpath.join(cwd, gd.value)) if gd else None
        self.config = {k.lower(): v for k, _, v in (w.value.partition("=") for w in g.values("-c"))}

    def current_branch(self, ctx: Context) -> str | None:
        """The checked-out branch, from HEAD read through the facts reader."""
        read = ctx.facts.read_file
        dirs = [self.git_dir] if self.git_dir else []
        if not dirs:
            d = self.cwd
            for _ in range(8):
                dirs.append(posixpath.join(d, ".git"))
                parent = posixpath.dirname(d)
                if parent == d:
                    break
                d = parent
        for gd in dirs:
            head = read(posixpath.join(gd, "HEAD"))
            if head is None and not self.git_dir:
                link = read(gd)  # a worktree or submodule: `gitdir: PATH`
                if link and link.startswith("gitdir:"):
                    base = posixpath.dirname(gd)
                    head = read(posixpath.join(base, link[7:].strip(), "HEAD"))
            if head is not None:
                ref = head.strip()
                return ref.removeprefix("ref: refs/heads/") if ref.startswith("ref:") else None
        return None


def branch_tags(branch: str | None) -> list[str]:
    if branch is None:
        return ["unknown-object"]
    return ["protected-branch"] if PROTECTED.match(branch) else []
