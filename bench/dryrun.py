"""Benchmark: wall time of each dry-run provider on the test data.

Builds the same kind of data the tests use, then times `dryrun.run` for one
command line per provider (each run is a full provider call: re-unwrapping
the line, helper programs, parsing their output):

- procs: `kill -9 $(cat postmaster.pid)` of a real PostgreSQL postmaster with
  client connections, and `pkill -f` over 20 spawned sleeps;
- files: `rm -rf` of a 20,000-file tree;
- sql: DELETE ... WHERE count, TRUNCATE estimate and DROP DATABASE on a real
  server (100,000-row table);
- redis: FLUSHDB/FLUSHALL on a real redis-server;
- git: force push against a local bare remote;
- terraform: a real `plan -destroy` (terraform_data, no cloud) when installed;
- kube, helm, systemctl: stub executables (no cluster/systemd here), so only
  guardsh's own overhead plus one process start each.

    python3 bench/dryrun.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guardsh.confirm import dryrun
from guardsh.facts import gather
from guardsh.pipeline import check
from tests.confirm.dryrun_support import CLOCK, stub
from tests.factories import DEFAULT_POLICY
from tests.servers import PgServer, _pg_runner, _run, _start_pg, _start_redis, _stop, find_pg_bin

Case = tuple[str, str, str, dict[str, str]]  # (provider label, line, cwd, variables)


def measure(line: str, cwd: str, variables: dict[str, str], runs: int) -> tuple[list[float], str]:
    env = dict(os.environ)
    env.update(variables)
    snap = gather.snapshot(variables=env, cwd=cwd, hostname="bench")
    d = check(line, snap, DEFAULT_POLICY, CLOCK, gather.facts(snap))
    times = []
    status = "?"
    for _ in range(runs):
        t0 = time.perf_counter()
        results = dryrun.run(d, snap, DEFAULT_POLICY)
        times.append((time.perf_counter() - t0) * 1000)
        status = ",".join(sorted({r.status for r in results})) or "no finding"
    return times, status


@contextmanager
def postgres(base: Path) -> Iterator[PgServer | None]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        yield None
        return
    prefix, uid, gid = _pg_runner()
    (base / "sock").mkdir()
    if uid is not None and gid is not None:
        for p in (base, base / "sock"):
            os.chown(p, uid, gid)
    pg = _start_pg(bin_dir, base, prefix)
    try:
        yield pg
    finally:
        with suppress(Exception):
            _run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(pg.data_dir), "-m", "fast",
                  "-w", "stop"], cwd=base)  # fmt: skip


def cases(work: Path, pg: PgServer | None, redis_port: int | None) -> Iterator[Case]:
    # files
    tree = work / "tree"
    for i in range(40):
        d = tree / f"d{i}"
        d.mkdir(parents=True)
        for j in range(500):
            (d / f"f{j}").write_bytes(b"x" * 64)
    yield "files (rm -rf, 20,000 files)", f"rm -rf {tree}", str(work), {}
    # processes
    yield "procs (pkill -f, 20 sleeps)", "pkill -f 'sleep 765.4321'", "/", {}
    if pg is not None:
        pidfile = pg.data_dir / "postmaster.pid"
        yield "procs (kill postmaster)", f"kill -9 $(cat {pidfile})", "/", {}
        db = pg.dsn("bench")
        yield "sql (DELETE WHERE count)", f"psql {db} -c 'DELETE FROM t WHERE id % 7 = 0'", "/", {}
        yield "sql (TRUNCATE estimate)", f"psql {db} -c 'TRUNCATE t'", "/", {}
        yield "sql (DROP DATABASE)", f"psql {pg.dsn()} -c 'DROP DATABASE bench'", "/", {}
    if redis_port is not None:
        conn = f"redis-cli -h 127.0.0.1 -p {redis_port}"
        yield "redis (FLUSHDB)", f"{conn} -n 1 FLUSHDB", "/", {}
        yield "redis (FLUSHALL)", f"{conn} FLUSHALL", "/", {}
    # git
    repo = work / "mine"
    yield "git (force push)", "git push -f origin main", str(repo), {}
    # stubs
    bin_dir = work / "bin"
    path = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    yield "kube (delete ns, stub)", "kubectl --context prod delete ns pay", "/", path
    yield "helm (uninstall, stub)", "helm uninstall shop -n app --kube-context prod", "/", path
    yield "systemctl (stop, stub)", "systemctl stop nginx", "/", path
    if shutil.which("terraform"):
        yield "terraform (plan -destroy, real)", "terraform destroy", str(work / "tf"), {
            "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}  # fmt: skip


def prepare(work: Path, pg: PgServer | None) -> None:
    from guardsh.confirm.providers import kube

    if pg is not None:
        pg.create_database("bench")
        pg.psql("CREATE TABLE t (id int, pad text); INSERT INTO t SELECT g, repeat('x', 100) "
                "FROM generate_series(1, 100000) g; ANALYZE t", db="bench")  # fmt: skip
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}  # fmt: skip

    def git(cwd: Path, *a: str) -> None:
        subprocess.run(["git", *a], cwd=cwd, env=git_env, check=True, capture_output=True)

    git(work, "init", "-q", "--bare", "-b", "main", "remote.git")
    git(work, "clone", "-q", "remote.git", "mine")
    for i in range(30):
        (work / "mine" / f"f{i}").write_text(str(i))
        git(work / "mine", "add", ".")
        git(work / "mine", "commit", "-q", "-m", f"c{i}")
    git(work / "mine", "push", "-q", "origin", "HEAD:main")
    git(work / "mine", "reset", "-q", "--hard", "HEAD~10")
    bin_dir = work / "bin"
    stub(bin_dir, "kubectl", [
        (["--context", "prod", "delete", "namespace", "pay", "--dry-run=server", "-o", "name"],
         "namespace/pay\n", 0),
        (["--context", "prod", "get", kube.NS_KINDS, "-n", "pay", "-o", "name"],
         "pod/a\npod/b\nservice/a\ndeployment.apps/a\n", 0)])  # fmt: skip
    stub(bin_dir, "helm", [
        (["status", "shop", "-n", "app", "--kube-context", "prod", "-o", "json"],
         '{"name": "shop", "info": {"status": "deployed"}, "version": 3}', 0),
        (["get", "manifest", "shop", "-n", "app", "--kube-context", "prod"],
         "---\nkind: Service\nmetadata:\n  name: shop\n", 0)])  # fmt: skip
    stub(bin_dir, "systemctl", [
        (["show", "nginx", "--property=Id,Description,LoadState,ActiveState,SubState,"
          "UnitFileState,MainPID,ActiveEnterTimestamp"],
         "Id=nginx.service\nLoadState=loaded\nActiveState=active\nSubState=running\n"
         "MainPID=0\n", 0),
        (["list-dependencies", "--reverse", "--plain", "--no-pager", "nginx"],
         "nginx.service\n  multi-user.target\n", 0)])  # fmt: skip
    if shutil.which("terraform"):
        tf = work / "tf"
        tf.mkdir()
        (tf / "main.tf").write_text('resource "terraform_data" "a" {\n  count = 5\n'
                                    '  input = "x"\n}\n')  # fmt: skip
        env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
        for a in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            subprocess.run(["terraform", *a], cwd=tf, env=env, check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="guardsh-bench-dryrun-"))
    os.chmod(work, 0o755)
    sleeps = [subprocess.Popen(["sleep", "765.4321"]) for _ in range(20)]
    redis = None
    try:
        (work / "pg").mkdir()
        with postgres(work / "pg") as pg:
            redis_bin, cli = shutil.which("redis-server"), shutil.which("redis-cli")
            port = None
            if redis_bin and cli:
                (work / "redis").mkdir()
                server, redis = _start_redis(redis_bin, cli, work / "redis")
                port = server.port
                for db in ("0", "1"):
                    server.cli("-n", db, "DEBUG", "POPULATE", "10000")
            holders = _hold(pg)
            prepare(work, pg)
            rows: list[tuple[str, float, float, float, str]] = []
            for label, line, cwd, variables in cases(work, pg, port):
                times, status = measure(line, cwd, variables, args.runs)
                rows.append((label, statistics.median(times), min(times), max(times), status))
            for h in holders:
                h.kill()
                h.wait()
    finally:
        for s in sleeps:
            s.kill()
            s.wait()
        if redis is not None:
            _stop(redis)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'provider (case)':<34} {'median ms':>10} {'min':>8} {'max':>8}  status")
    for label, med, lo, hi, status in rows:
        print(f"{label:<34} {med:>10.1f} {lo:>8.1f} {hi:>8.1f}  {status}")


def _hold(pg: PgServer | None) -> list[subprocess.Popen[bytes]]:
    """Five idle client connections, so the postmaster card counts them."""
    if pg is None:
        return []
    out = [
        subprocess.Popen(
            [str(pg.bin_dir / "psql"), "-X", "-q", pg.dsn(), "-c", "SELECT pg_sleep(600)"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(5)
    ]
    time.sleep(0.5)
    return out


if __name__ == "__main__":
    main()
