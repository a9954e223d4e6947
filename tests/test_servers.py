"""The server fixtures start real servers that real clients can use."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.servers import PgServer, RedisServer, ServerError

pytestmark = pytest.mark.server


def test_pg_server_runs_sql(pg_server: PgServer) -> None:
    db = "servers_smoke"
    assert pg_server.create_database(db) == pg_server.dsn(db)
    pg_server.psql("CREATE TABLE t (id int PRIMARY KEY, name text)", db=db)
    pg_server.psql("INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 42) g", db=db)
    assert pg_server.psql("SELECT count(*) FROM t", db=db).strip() == "42"
    # The table lives in that database only.
    with pytest.raises(ServerError, match='relation "t" does not exist'):
        pg_server.psql("SELECT count(*) FROM t")


def test_pg_server_listens_on_loopback_and_socket(pg_server: PgServer) -> None:
    assert pg_server.host == "127.0.0.1"
    assert pg_server.dsn("app") == f"postgresql://postgres@127.0.0.1:{pg_server.port}/app"
    with socket.create_connection((pg_server.host, pg_server.port), timeout=5):
        pass
    assert (pg_server.socket_dir / f".s.PGSQL.{pg_server.port}").is_socket()
    # psql given the DSN reaches the same server.
    out = subprocess.run(
        [str(pg_server.bin_dir / "psql"), "-XAtq", pg_server.dsn(), "-c", "SHOW port"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert out.strip() == str(pg_server.port)


def test_pg_server_psql_reports_errors(pg_server: PgServer) -> None:
    with pytest.raises(ServerError, match="syntax error"):
        pg_server.psql("SELEC 1")


def test_redis_server_set_get(redis_server: RedisServer) -> None:
    before = int(redis_server.cli("DBSIZE"))  # the server is shared by the session's tests
    assert redis_server.cli("SET", "guardsh:key", "value 1") == "OK"
    assert redis_server.cli("GET", "guardsh:key") == "value 1"
    assert int(redis_server.cli("DBSIZE")) == before + 1
    assert redis_server.cli("DEL", "guardsh:key") == "1"
    assert redis_server.cli("GET", "guardsh:key") == ""


def test_redis_server_has_no_persistence(redis_server: RedisServer) -> None:
    # `save` is set to the empty string (redis-cli prints it as an empty line, stripped here).
    assert redis_server.cli("CONFIG", "GET", "save") == "save"
    assert redis_server.cli("CONFIG", "GET", "appendonly").splitlines() == ["appendonly", "no"]
    assert redis_server.url() == f"redis://127.0.0.1:{redis_server.port}/0"
