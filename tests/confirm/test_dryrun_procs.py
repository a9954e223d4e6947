"""The process dry run on real processes (spawned `sleep`s, the real
PostgreSQL postmaster), through the real pipeline: line -> findings -> dry run."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.confirm.dryrun_support import decide, dry, one, settled_count, snap
from tests.servers import PgServer

MARK = "876.54321"


@pytest.fixture
def sleepers() -> Iterator[list[int]]:
    kids = [subprocess.Popen(["sleep", MARK]) for _ in range(3)]
    try:
        yield [k.pid for k in kids]
    finally:
        for k in kids:
            k.kill()
            k.wait()


def test_kill_one_pid(sleepers: list[int]) -> None:
    _, results = dry(f"kill -9 {sleepers[0]}")
    r = one(results, "process.kill")
    assert r.status == "ok", r.lines
    assert r.data["count"] == 1
    (p,) = r.data["processes"]
    assert (p["pid"], p["name"], p["cmdline"]) == (sleepers[0], "sleep", ["sleep", MARK])
    assert r.lines[1] == f"command: sleep {MARK}"
    assert r.lines[2].startswith("started: ")
    for pid in sleepers:  # nothing was signalled
        os.kill(pid, 0)


def test_kill_of_a_pid_file_and_of_pgrep(tmp_path: Path, sleepers: list[int]) -> None:
    (tmp_path / "app.pid").write_text(f"{sleepers[1]}\n")
    r = one(dry("kill $(cat app.pid)", cwd=tmp_path)[1], "process.kill")
    assert r.status == "ok" and [p["pid"] for p in r.data["processes"]] == [sleepers[1]]
    # the analysis resolves $(pgrep) itself: one finding, and one dry run, per process
    kills = [r for r in dry(f"kill -9 $(pgrep -f {MARK})")[1] if r.action == "process.kill"]
    assert all(r.status == "ok" for r in kills), [r.lines for r in kills]
    assert {p["pid"] for r in kills for p in r.data["processes"]} == set(sleepers)


def test_pkill_lists_every_process_it_would_hit(sleepers: list[int]) -> None:
    r = one(dry(f"pkill -f 'sleep {MARK}'")[1], "process.kill_by_name")
    assert r.status == "ok", r.lines
    assert {p["pid"] for p in r.data["processes"]} == set(sleepers)
    assert r.lines[0].endswith("3 processes match now")
    assert all(f"sleep {MARK}" in ln for ln in r.lines[1:4])
    r = one(dry(f"pkill -x -P {os.getpid()} sleep")[1], "process.kill_by_name")
    assert {p["pid"] for p in r.data["processes"]} == set(sleepers)
    r = one(dry("killall -9 sleep")[1], "process.kill_by_name")
    assert set(sleepers) <= {p["pid"] for p in r.data["processes"]}


def test_kill_minus_one_and_own_shell(sleepers: list[int]) -> None:
    r = one(dry("kill -9 -1")[1], "process.kill")
    pids = {p["pid"] for p in r.data["processes"]}
    assert set(sleepers) <= pids and 1 not in pids
    r = one(dry(f"kill {os.getppid()}")[1], "process.kill")
    assert "self" in r.data["processes"][0]["tags"]
    assert any("your own session" in ln for ln in r.lines)


def test_gone_pid_and_remote_target() -> None:
    r = one(dry("kill 4194300")[1], "process.kill")
    assert r.status == "ok" and "no such process now" in r.lines[0]
    r = one(dry("ssh db-9 'kill -9 4242'")[1], "process.kill")
    assert r.status == "unavailable" and "ssh:db-9" in r.lines[0]


@pytest.mark.server
def test_kill_of_the_real_postmaster(pg_server: PgServer) -> None:
    """DESIGN story 1: the analysis tags it db-main with its connection count,
    and the dry run shows the card."""
    hold = [
        subprocess.Popen(
            [
                str(pg_server.bin_dir / "psql"),
                "-X",
                "-q",
                pg_server.dsn(),
                "-c",
                "SELECT pg_sleep(60)",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    try:
        q = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"
        deadline = time.monotonic() + 20
        while int(pg_server.psql(q).strip()) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        pidfile = pg_server.data_dir / "postmaster.pid"
        pid = int(pidfile.read_text().splitlines()[0])
        server_says = settled_count(pg_server, pid)
        line = f"kill -9 $(cat {pidfile})"
        d = decide(line, snap("/"))
        (f,) = [f for f in d.findings if f.action == "process.kill"]
        assert f.object == str(pid)
        assert {"db-main", "critical"} <= f.tags
        assert server_says >= 4
        assert f"{server_says} client connections" in f.detail
        assert str(f.severity) == "high"
        _, results = dry(line)
        r = one(results, "process.kill")
        assert r.status == "ok", r.lines
        assert r.lines[0].startswith(f"PostgreSQL postmaster of {pg_server.data_dir}, "
                                     f"{server_says} client connections")  # fmt: skip
        assert any(ln.startswith("listening: ") and str(pg_server.port) in ln for ln in r.lines)
        assert any(f"({server_says} client connections)" in ln for ln in r.lines)
        os.kill(pid, 0)  # still alive: nothing was signalled
    finally:
        for h in hold:
            h.kill()
            h.wait()
        pg_server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()"
        )
