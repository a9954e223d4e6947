"""Unit tables for the git analyzers, on hand-built invocations."""

from __future__ import annotations

import pytest

import guardsh.analyze.git  # noqa: F401  (registers the analyzers)
from guardsh.model import Severity
from tests.analyze.support import brief, run

H, L = "high", "low"
HEAD_MAIN = {"/srv/app/.git/HEAD": "ref: refs/heads/main\n"}
HEAD_FEAT = {"/srv/app/.git/HEAD": "ref: refs/heads/feature/x\n"}

FIRING = [
    ("git push --force origin feature", [("git.force_push", "origin/feature", H)]),
    ("git push -f origin main", [("git.force_push", "origin/main", H)]),
    ("git push origin +main", [("git.force_push", "origin/main", H)]),
    ("git push origin +HEAD:refs/heads/release/1.2", [("git.force_push", "origin/release/1.2", H)]),
    ("git push --force-with-lease origin feature", [("git.force_push", "origin/feature", L)]),
    ("git push --force-with-lease=main:abc123 origin main", [("git.force_push", "origin/main", H)]),
    (
        "git push -f origin a b",
        [("git.force_push", "origin/a", H), ("git.force_push", "origin/b", H)],
    ),
    ("git push origin a +b", [("git.force_push", "origin/b", H)]),
    ("git push origin --delete feature", [("git.delete_remote_branch", "origin/feature", H)]),
    ("git push -d upstream main", [("git.delete_remote_branch", "upstream/main", H)]),
    ("git push origin :old-branch", [("git.delete_remote_branch", "origin/old-branch", H)]),
    ("git push --prune origin", [("git.delete_remote_branch", "origin/*", H)]),
    (
        "git push --mirror backup",
        [("git.force_push", "backup/*", H), ("git.delete_remote_branch", "backup/*", H)],
    ),
    ("git -C /srv/other push -f origin dev", [("git.force_push", "origin/dev", H)]),
    ("git --no-pager -c color.ui=never push -f origin dev", [("git.force_push", "origin/dev", H)]),
    ("git push -f origin $BRANCH", [("git.force_push", "origin/$BRANCH", H)]),
    ("git reset --hard", [("git.reset_hard", "/srv/app", L)]),
    ("git reset --hard HEAD~1", [("git.reset_hard", "/srv/app", L)]),
    ("git -C sub reset -q --hard origin/main", [("git.reset_hard", "/srv/app/sub", L)]),
    ("git --work-tree=/srv/www reset --hard", [("git.reset_hard", "/srv/www", L)]),
    ("git checkout .", [("git.reset_hard", "/srv/app", L)]),
    ("git checkout -- .", [("git.reset_hard", "/srv/app", L)]),
    ("git checkout -f main", [("git.reset_hard", "/srv/app", L)]),
    ("git switch --discard-changes main", [("git.reset_hard", "/srv/app", L)]),
    ("git restore .", [("git.reset_hard", "/srv/app", L)]),
    ("git restore -W -S :/", [("git.reset_hard", "/srv/app", L)]),
    ("git clean -f", [("git.clean", "/srv/app", L)]),
    ("git clean -fd", [("git.clean", "/srv/app", L)]),
    ("git clean -fdx", [("git.clean", "/srv/app", H)]),
    ("git clean -f -X", [("git.clean", "/srv/app", H)]),
    ("git clean -ffd", [("git.clean", "/srv/app", H)]),
    ("git clean -i", [("git.clean", "/srv/app", L)]),
    ("git clean --force -- build '*.o'", [("git.clean", "/srv/app/build /srv/app/*.o", L)]),
    ("git clean -f -e '*.env' -d", [("git.clean", "/srv/app", L)]),
    ("git -c clean.requireForce=false clean -d", [("git.clean", "/srv/app", L)]),
    ("git branch -D feature", [("git.delete_branch", "feature", L)]),
    (
        "git branch --delete --force a b",
        [("git.delete_branch", "a", L), ("git.delete_branch", "b", L)],
    ),
    ("git branch -d -f main", [("git.delete_branch", "main", L)]),
    ("git stash drop", [("git.stash_drop", "stash@{0}", L)]),
    ("git stash drop stash@{2}", [("git.stash_drop", "stash@{2}", L)]),
    ("git stash clear", [("git.stash_drop", "all", L)]),
    ("git tag -d v1.2", [("git.delete_ref", "v1.2", L)]),
    ("git tag --delete a b", [("git.delete_ref", "a", L), ("git.delete_ref", "b", L)]),
    ("git tag -d $OLD", [("git.delete_ref", "$OLD", L)]),
    ("git update-ref -d refs/tags/v1", [("git.delete_ref", "v1", L)]),
    ("git update-ref -d refs/heads/main", [("git.delete_branch", "main", L)]),
    ("git update-ref -m drop -d refs/notes/x", [("git.delete_ref", "refs/notes/x", L)]),
    ("git reflog expire --expire=now --all", [("git.prune", "/srv/app", H)]),
    ("git reflog expire --all --expire-unreachable=now", [("git.prune", "/srv/app", H)]),
    ("git reflog expire --expire all refs/stash", [("git.prune", "/srv/app", H)]),
    ("git reflog expire --expire=30.minutes.ago --all", [("git.prune", "/srv/app", H)]),
    ("git gc --prune=now", [("git.prune", "/srv/app", H)]),
    ("git gc --aggressive --prune=all", [("git.prune", "/srv/app", H)]),
    ("git -c gc.pruneExpire=now gc", [("git.prune", "/srv/app", H)]),
    ("git -c gc.reflogExpireUnreachable=now gc", [("git.prune", "/srv/app", H)]),
    ("git -C sub prune", [("git.prune", "/srv/app/sub", H)]),
    ("git prune --expire=now", [("git.prune", "/srv/app", H)]),
    ("git rm -r src", [("git.rm", "/srv/app/src", L)]),
    ("git rm -rf src/ docs", [("git.rm", "/srv/app/src /srv/app/docs", L)]),
    ("git rm -q src -r", [("git.rm", "/srv/app/src", L)]),
    ("git rm -r -- .", [("git.rm", "/srv/app", L)]),
    ("git rm '*.log'", [("git.rm", "/srv/app/*.log", L)]),
]

QUIET = [
    "git status",
    "git log --grep=delete",
    "git log --grep='push --force'",
    "git push",
    "git push origin main",
    "git push -u origin main",
    "git push origin main:main",
    "git push --tags",
    "git push --all origin",
    "git push --dry-run --force origin main",
    "git push -n -d origin main",
    "git push --force-if-includes origin main",
    "git -c alias.nuke='push -f' status",
    "git branch -d feature",
    "git branch -m old new",
    "git branch --all",
    "git reset",
    "git reset HEAD~",
    "git reset --soft HEAD~2",
    "git reset --merge",
    "git reset -p /srv/app/file",
    "git checkout main",
    "git checkout -b main",
    "git checkout main -- /srv/app/file",
    "git checkout /srv/app/file",
    "git checkout -p .",
    "git switch -c main HEAD~1",
    "git restore /srv/app/file",
    "git restore --staged :/",
    "git restore -S .",
    "git restore --patch",
    "git clean",
    "git clean -d",
    "git clean -n -fdx",
    "git clean --dry-run",
    "git stash",
    "git stash list",
    "git stash pop",
    "git help push",
    "git bisect reset",
    "git reset-file /srv/app/file",
    "git $SUB -f",
    "git tag",
    "git tag -l 'v1.*'",
    "git tag -a v1 -m 'delete -d'",
    "git tag -f v1",
    "git update-ref refs/heads/x HEAD",
    "git reflog",
    "git reflog show --all",
    "git reflog expire --all",
    "git reflog expire --expire=now",
    "git reflog expire --expire=never --all",
    "git reflog expire --expire=90.days.ago --all",
    "git reflog expire -n --expire=now --all",
    "git gc",
    "git gc --prune",
    "git gc --prune=2.weeks.ago",
    "git gc --no-prune",
    "git gc --prune=$WHEN",
    "git prune -n",
    "git prune --dry-run",
    "git prune --expire=2.weeks.ago",
    "git rm x",
    "git rm -f x",
    "git rm --cached x",
    "git rm -r --cached .",
    "git rm -n -r x",
    "git rm --dry-run -rf x",
    "git log --grep=rm",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_protected_branch_tag() -> None:
    (f,) = run("git push -f origin main")
    assert "protected-branch" in f.tags
    (g,) = run("git push -f origin feature")
    assert "protected-branch" not in g.tags
    (h,) = run("git push origin --delete release/2.0")
    assert "protected-branch" in h.tags


def test_bare_force_push_reads_current_branch() -> None:
    (f,) = run("git push -f", files=HEAD_MAIN)
    assert (f.object, f.severity) == ("origin/main", Severity.HIGH)
    assert "protected-branch" in f.tags
    (g,) = run("git push --force-with-lease", files=HEAD_FEAT)
    assert (g.object, g.severity) == ("origin/feature/x", Severity.LOW)
    assert "lease" in g.tags


def test_lease_on_protected_branch_from_head_is_high() -> None:
    (f,) = run("git push --force-with-lease origin", files=HEAD_MAIN)
    assert (f.object, f.severity) == ("origin/main", Severity.HIGH)


def test_head_refspec_resolves_to_current_branch() -> None:
    (f,) = run("git push -f origin HEAD", files=HEAD_MAIN)
    assert f.object == "origin/main" and "protected-branch" in f.tags


def test_current_branch_found_from_subdirectory_and_worktree() -> None:
    files = {
        "/srv/.git": "gitdir: repo/.git/worktrees/w1\n",
        "/srv/repo/.git/worktrees/w1/HEAD": "ref: refs/heads/master\n",
    }
    (f,) = run("git -C app/sub push -f", files=files)
    assert f.object == "origin/master"


def test_unknown_branch_is_tagged() -> None:
    (f,) = run("git push --force")
    assert (f.object, f.severity) == ("origin", Severity.HIGH)
    assert "unknown-object" in f.tags
    (g,) = run("git push --force-with-lease")
    assert g.severity is Severity.LOW


def test_git_dir_option_is_used_for_head() -> None:
    files = {"/srv/x.git/HEAD": "ref: refs/heads/prod\n"}
    (f,) = run("git --git-dir=/srv/x.git push -f", files=files)
    assert f.object == "origin/prod" and "protected-branch" in f.tags


def test_clean_tags() -> None:
    (f,) = run("git clean -fdx")
    assert {"ignored-files", "directories"} <= f.tags


def test_submodule_foreach_recurses_into_shell() -> None:
    seen: list[str] = []
    run("git submodule foreach --recursive 'git reset --hard'", recursed=seen)
    assert seen == ["git reset --hard"]
    seen.clear()
    run("git submodule update --init", recursed=seen)
    assert seen == []


def test_evidence_covers_subcommand_and_ref() -> None:
    line = "git push origin a +b"
    (f,) = run(line)
    assert f.evidence.text(line) == "push origin a +b"


def test_git_extras_delete_branch_deletes_local_and_remote() -> None:
    assert brief(run("git delete-branch old")) == [
        ("git.delete_branch", "old", "low"),
        ("git.delete_remote_branch", "origin/old", "high"),
    ]


def test_worktree_remove_force_discards() -> None:
    assert brief(run("git worktree remove --force ../wt")) == [("git.reset_hard", "/srv/wt", "low")]
    assert run("git worktree remove ../wt") == []
    assert run("git worktree prune") == []


def test_unknown_plus_refspec_object_drops_the_plus() -> None:
    (f,) = run('git push origin "+$BRANCH"')
    assert (f.object, f.severity) == ("origin/$BRANCH", Severity.HIGH)
    assert "unknown-object" in f.tags


def test_new_local_tags() -> None:
    (f,) = run("git rm -rf src")
    assert f.tags == {"force"}
    (g,) = run("git rm '*.log'")
    assert g.tags == {"pathspec-glob"}
    (h,) = run("git tag -d $OLD")
    assert h.tags == {"tag", "unknown-object"}
    (i,) = run("git update-ref -d refs/heads/main")
    assert i.tags == {"protected-branch", "update-ref"}
    (j,) = run("git reflog expire --expire=now --all")
    assert j.tags == {"reflog"} and j.severity is Severity.HIGH
