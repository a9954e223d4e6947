"""Dry runs with real programs: git (a bare remote and two clones), Redis
(tests/servers.py) and terraform (its built-in `terraform_data` resource,
which needs no provider download and no cloud account)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.confirm.dryrun_support import dry, one
from tests.servers import RedisServer

GIT_ENV = {"GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.org",
           "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.org"}  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


def commit(repo: Path, name: str) -> str:
    (repo / name).write_text(name)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "--short=7", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, Path]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    git(tmp_path, "clone", "-q", str(remote), str(mine))
    commit(mine, "base")
    git(mine, "push", "-q", "origin", "HEAD:main")
    git(tmp_path, "clone", "-q", str(remote), str(theirs))
    return remote, mine, theirs


def test_force_push_lists_the_commits_it_drops(repos: tuple[Path, Path, Path]) -> None:
    remote, mine, theirs = repos
    c2, c3 = commit(theirs, "two"), commit(theirs, "three")
    git(theirs, "push", "-q", "origin", "main")
    commit(mine, "mine")
    # not fetched yet: the remote head is unknown here
    r = one(dry("git push --force origin main", cwd=mine)[1], "git.force_push")
    assert r.status == "ok", r.lines
    assert "never fetched" in r.lines[0]
    head = git(remote, "rev-parse", "main")
    assert r.data["remote_head"] == head
    git(mine, "fetch", "-q", "origin")
    r = one(dry("git push -f origin main", cwd=mine)[1], "git.force_push")
    assert r.lines[0] == "2 commits on origin/main but not in main: the push drops them:"
    assert [ln.split()[0] for ln in r.lines[1:3]] == [c3, c2]
    assert r.lines[1].endswith(": add three") and "Ann, " in r.lines[1]
    assert git(remote, "rev-parse", "main") == head  # nothing was pushed
    git(mine, "rebase", "-q", "origin/main")
    r = one(dry("git push -f origin main", cwd=mine)[1], "git.force_push")
    assert r.lines[0].startswith("no commit is lost")


def test_refspec_and_branch_delete(repos: tuple[Path, Path, Path]) -> None:
    remote, mine, theirs = repos
    git(theirs, "checkout", "-q", "-b", "feature")
    only = commit(theirs, "feature-only")
    git(theirs, "push", "-q", "origin", "feature")
    git(mine, "fetch", "-q", "origin")
    git(mine, "branch", "-q", "old", "HEAD")
    r = one(dry("git push origin +old:feature", cwd=mine)[1], "git.force_push")
    assert r.lines[0] == "1 commit on origin/feature but not in old: the push drops them:"
    assert r.data["dropped"] == [git(remote, "rev-parse", "feature")]
    r = one(dry("git push origin --delete feature", cwd=mine)[1], "git.delete_remote_branch")
    assert r.lines[0].startswith("1 commit only on that branch")
    assert r.lines[1].split()[0] == only
    git(mine, "branch", "-q", "keep", "origin/feature")
    r = one(dry("git push origin --delete feature", cwd=mine)[1], "git.delete_remote_branch")
    assert r.lines[0].startswith("no commit is lost: every commit of origin/feature")
    assert r.lines[0].endswith("is on another ref here")


@pytest.mark.server
def test_redis_flushdb_flushall_and_del(redis_server: RedisServer) -> None:
    cli = redis_server.cli
    cli("-n", "3", "FLUSHDB")
    for i in range(5):
        cli("-n", "3", "SET", f"k{i}", "v")
    cli("-n", "3", "EXPIRE", "k0", "600")
    cli("-n", "4", "SET", "other", "v")
    conn = f"-h {redis_server.host} -p {redis_server.port}"
    r = one(dry(f"redis-cli {conn} -n 3 FLUSHDB")[1], "redis.flush")
    assert r.status == "ok", r.lines
    assert r.data["keys"] == int(cli("-n", "3", "DBSIZE")) == 5
    assert r.lines[0] == "FLUSHDB removes 5 keys from db 3"
    r = one(dry(f"redis-cli {conn} FLUSHALL")[1], "redis.flush")
    info = cli("INFO", "keyspace")
    total = sum(int(ln.split("keys=")[1].split(",")[0]) for ln in info.splitlines()
                if ln.startswith("db"))  # fmt: skip
    assert r.data["keys"] == total >= 6
    assert "db3: 5 keys (1 with a TTL)" in r.lines
    r = one(dry(f"redis-cli {conn} -n 3 DEL k1 k2 nosuch")[1], "redis.delete")
    assert (r.data["existing"], r.data["named"]) == (2, 3)
    assert int(cli("-n", "3", "DBSIZE")) == 5  # nothing was deleted
    r = one(dry("redis-cli -h 127.0.0.1 -p 1 FLUSHDB")[1], "redis.flush")
    assert r.status == "failed"


def test_real_terraform_plan(tmp_path: Path) -> None:
    tf = shutil.which("terraform")
    if tf is None:
        pytest.skip("terraform is not installed (the stub test covers the arguments)")
    env = {**os.environ, "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": os.devnull,
           "CHECKPOINT_DISABLE": "1"}  # fmt: skip
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = "x"\n}\n'
        'resource "terraform_data" "b" {\n  count = 2\n  input = "y"\n}\n'
    )
    for args in (["init", "-input=false", "-no-color"],
                 ["apply", "-auto-approve", "-input=false", "-no-color"]):  # fmt: skip
        subprocess.run([tf, *args], cwd=tmp_path, env=env, check=True, capture_output=True)
    extra = {"TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    r = one(dry("terraform destroy", cwd=tmp_path, variables=extra)[1], "terraform.destroy")
    assert r.status == "ok", r.lines
    assert r.lines[0] == "Plan: 0 to add, 0 to change, 3 to destroy"
    assert sorted(c["address"] for c in r.data["changes"]) == [
        "terraform_data.a", "terraform_data.b[0]", "terraform_data.b[1]"]  # fmt: skip
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = "z"\n}\n'
        'resource "terraform_data" "c" {\n  input = "new"\n}\n'
    )
    r = one(dry("terraform apply -auto-approve", cwd=tmp_path, variables=extra)[1],
            "terraform.apply")  # fmt: skip
    assert r.lines[0] == "Plan: 1 to add, 1 to change, 2 to destroy"
    state = (tmp_path / "terraform.tfstate").read_text()
    assert state.count('"type": "terraform_data"') == 2  # a and b: nothing was applied


def test_force_push_outside_a_repository_fails(tmp_path: Path) -> None:
    r = one(dry("git push -f origin main", cwd=tmp_path)[1], "git.force_push")
    assert r.status == "failed"
    assert r.lines[0].startswith("git failed: fatal: ")
