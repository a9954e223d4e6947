"""Process facts on real processes: spawned `sleep` children, a listening
socket, the real PostgreSQL postmaster (its real pid file, real client
connections) and a real Redis server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardsh.facts import pids, procs
from guardsh.facts.pids import Match
from tests.confirm.dryrun_support import settled_count
from tests.servers import PgServer, RedisServer

MARK = "987.654321"  # a sleep argument no other process on the host uses


@pytest.fixture
def sleepers() -> Iterator[list[int]]:
    kids = [subprocess.Popen(["sleep", MARK]) for _ in range(3)]
    try:
        yield [k.pid for k in kids]
    finally:
        for k in kids:
            k.kill()
            k.wait()


def test_describe_a_child(sleepers: list[int]) -> None:
    p = procs.describe(sleepers[0])
    assert p is not None
    assert (p.name, p.cmdline, p.ppid) == ("sleep", ("sleep", MARK), os.getpid())
    assert p.started is not None and abs(time.time() - p.started) < 60
    assert p.role is None and not p.tags
    info = procs.info(sleepers[0])
    assert info is not None and info.cmdline == f"sleep {MARK}"
    me = procs.describe(os.getpid())
    assert me is not None and me.role == "guardsh" and "self" in me.tags
    assert set(sleepers) <= set(me.children)


def test_pid_1_is_init() -> None:
    p = procs.info(1)
    assert p is not None
    assert p.role == "init" and {"init", "critical"} <= p.tags


def test_no_such_pid() -> None:
    assert procs.info(2**22 + 12345) is None


def test_pgrep_pkill_and_killall_lists(sleepers: list[int]) -> None:
    assert set(pids.matching(Match(pattern=MARK, full=True))) == set(sleepers)
    # without -f pgrep reads the name: `sleep` matches, the argument does not
    assert pids.matching(Match(pattern=MARK)) == []
    mine = Match(pattern="sleep", exact=True, parents=frozenset({os.getpid()}))
    assert set(pids.matching(mine)) == set(sleepers)
    assert pids.matching(Match(pattern="slee", exact=True, parents=frozenset({os.getpid()}))) == []
    newest = pids.matching(Match(pattern=MARK, full=True, newest=True))
    assert len(newest) == 1 and newest[0] in sleepers
    killall = Match(pattern="sleep", style="killall", regex=False)
    assert set(sleepers) <= set(pids.matching(killall))
    assert not set(sleepers) & set(
        pids.matching(Match(pattern="slee", style="killall", regex=False))
    )
    assert set(sleepers) <= set(pids.matching(Match(pattern="^sl.*p$", style="killall")))


def test_pgrep_arguments() -> None:
    m = pids.pgrep_match(["-9", "-f", "-u", "postgres,root", "-x", "postgres -D"])
    assert m is not None
    assert (m.pattern, m.full, m.exact, m.users) == ("postgres -D", True, True,
                                                     frozenset({"postgres", "root"}))  # fmt: skip
    assert pids.pgrep_match(["-fx", "a"]) == Match(pattern="a", full=True, exact=True)
    assert pids.pgrep_match(["-F", "/run/x.pid"]) is None  # pid files by pgrep: not read
    assert pids.pgrep_match(["a", "b"]) is None  # one pattern only


def test_resolve_pid_expressions(tmp_path: Path, sleepers: list[int]) -> None:
    pidfile = tmp_path / "app.pid"
    pidfile.write_text(f"{sleepers[0]}\n")
    for expr in (f"$(cat {pidfile})", f"`cat {pidfile}`", f"$(< {pidfile})",
                 f"$(head -1 {pidfile})", "$(cat app.pid)"):  # fmt: skip
        assert pids.resolve_pids(expr, str(tmp_path)) == [sleepers[0]], expr
    assert set(pids.resolve_pids(f"$(pgrep -f {MARK})") or []) == set(sleepers)
    assert set(sleepers) <= set(pids.resolve_pids("$(pidof sleep)") or [])
    assert len(pids.resolve_pids("$(pidof -s sleep)") or []) == 1
    assert pids.resolve_pids(f"$(cat {tmp_path}/missing.pid)") is None
    # anything but the known read-only forms is never evaluated
    for expr in (f"$(cat {pidfile}; touch {tmp_path}/x)", "$(ps aux | grep sleep)",
                 f"$(cat $(echo {pidfile}))", "$(rm -rf /nonexistent)", "$PID",
                 f"$(cat {pidfile} > {tmp_path}/y)"):  # fmt: skip
        assert pids.resolve_pids(expr, str(tmp_path)) is None, expr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert pids.pid_resolver(str(tmp_path))("$(cat app.pid)") == [sleepers[0]]


def test_kill_minus_one_reach(sleepers: list[int]) -> None:
    reach = pids.signalable()
    assert set(sleepers) <= set(reach)
    assert 1 not in reach and os.getpid() not in reach


def test_listening_socket_and_cgroup_unit() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen();"
         "print(s.getsockname()[1], flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        p = procs.describe(child.pid)
        assert p is not None and f"127.0.0.1:{port}" in p.listening
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    text = "1:name=systemd:/\n0::/system.slice/postgresql@15-main.service\n"
    assert procs.unit_from_cgroup(text) == "postgresql@15-main.service"
    assert procs.unit_from_cgroup("0::/user.slice/user-1000.slice/session-4.scope\n") == (
        "session-4.scope"
    )
    assert procs.unit_from_cgroup("0::/\n") is None


def test_age_words() -> None:
    assert procs.age(1000.0, 1000.0 + 3 * 86400 + 5) == "3 days ago"
    assert procs.age(1000.0, 1060.0) == "1 minute ago"
    assert procs.age(None) == "?"


# ---------------------------------------------------------------- real servers


def _clients(pg: PgServer, n: int) -> list[subprocess.Popen[bytes]]:
    hold = [
        subprocess.Popen(
            [str(pg.bin_dir / "psql"), "-X", "-q", pg.dsn(), "-c", "SELECT pg_sleep(60)"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]
    deadline = time.monotonic() + 20
    query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"
    while int(pg.psql(query).strip()) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return hold


@pytest.mark.server
def test_postmaster_from_its_real_pid_file(pg_server: PgServer) -> None:
    pidfile = pg_server.data_dir / "postmaster.pid"
    pid = int(pidfile.read_text().splitlines()[0])
    hold = _clients(pg_server, 3)
    try:
        server_says = settled_count(pg_server, pid)
        p = procs.describe(pid)
        assert p is not None
        assert p.role == "postgres-postmaster"
        assert {"db-main", "critical"} <= p.tags
        assert p.connections == server_says >= 3
        assert f"127.0.0.1:{pg_server.port}" in p.listening
        assert any(a.endswith(f".s.PGSQL.{pg_server.port}") for a in p.listening)
        assert str(pg_server.data_dir) in p.what
        info = procs.info(pid)
        assert info is not None and "db-main" in info.tags
        assert f"{server_says} client connections" in info.detail
        # the pid expressions a tired person types
        assert pids.resolve_pids(f"$(head -1 {pidfile})") == [pid]
        assert pid == (pids.resolve_pids(f"$(cat {pidfile})") or [None])[0]
        assert pids.resolve_pids(f"$(pgrep -f 'postgres -D {pg_server.data_dir}')") == [pid]
        # a client backend is not the main process
        kids = [k for k in (procs.describe(c) for c in p.children) if k is not None]
        assert all(k.role == "postgres-worker" and not k.tags for k in kids)
        backends = [k for k in kids if k.what.startswith("PostgreSQL client backend")]
        assert len(backends) == server_says
        assert any(k.what.startswith("PostgreSQL auxiliary process (checkpointer") for k in kids)
    finally:
        for h in hold:
            h.kill()
            h.wait()
        pg_server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()"
        )


@pytest.mark.server
def test_redis_server_role_and_its_connections(redis_server: RedisServer) -> None:
    pid = int(redis_server.cli("INFO", "server").split("process_id:")[1].split()[0])
    socks = [socket.create_connection((redis_server.host, redis_server.port)) for _ in range(2)]
    try:
        time.sleep(0.2)
        clients = int(redis_server.cli("INFO", "clients").split("connected_clients:")[1].split()[0])
        p = procs.describe(pid)
        assert p is not None and p.role == "redis-server" and "db-main" in p.tags
        assert p.connections == clients - 1 == 2  # the INFO client itself is gone
    finally:
        for s in socks:
            s.close()
