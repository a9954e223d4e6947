"""The SQL dry run against a real PostgreSQL server (tests/servers.py).

Each figure is checked against what the server itself reports, and after
each dry run the data is checked to be untouched: the destructive statement
is never sent.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from guardsh.confirm.providers import sql as sqlprov
from guardsh.confirm.providers.base import Request
from guardsh.confirm.providers.sqlplan import Plan
from guardsh.model import NO_SPAN, Finding, Severity
from guardsh.parse.dburl import db_target, parse_url
from tests.confirm.dryrun_support import dry, one, snap
from tests.servers import PgServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def db(pg_server: PgServer) -> Iterator[str]:
    """Database `dry`: items(1000 rows, every tenth of kind 'a'), kinds, two small tables."""
    dsn = pg_server.create_database("dry")
    pg_server.psql(
        "CREATE TABLE items (id int PRIMARY KEY, kind text, pad text);"
        "INSERT INTO items SELECT g, CASE WHEN g % 10 = 0 THEN 'a' ELSE 'b' END,"
        " repeat('x', 200) FROM generate_series(1, 1000) g;"
        "CREATE TABLE kinds (name text, doomed bool);"
        "INSERT INTO kinds VALUES ('a', true), ('b', false);"
        "CREATE TABLE small1 (v int); INSERT INTO small1 SELECT generate_series(1, 30);"
        "CREATE TABLE small2 (v int); INSERT INTO small2 SELECT generate_series(1, 70);"
        'CREATE TABLE "Odd Name" (v int); INSERT INTO "Odd Name" VALUES (1), (2);'
        "CREATE TABLE child (item int REFERENCES items(id));"
        "ANALYZE;",
        db="dry",
    )
    yield dsn


def count(pg: PgServer, sql: str, db: str = "dry") -> int:
    return int(pg.psql(sql, db=db).strip())


def test_delete_where_counts_the_same_rows(pg_server: PgServer, db: str) -> None:
    _, results = dry(f"psql {db} -c \"DELETE FROM items WHERE kind = 'a'\"")
    r = one(results, "sql.delete")
    assert r.status == "ok", r.lines
    assert r.data["rows"] == count(pg_server, "SELECT count(*) FROM items WHERE kind = 'a'") == 100
    assert r.data["total"] == 1000
    assert r.lines[0] == "deletes 100 rows of 1,000 in the table"
    assert count(pg_server, "SELECT count(*) FROM items") == 1000  # nothing was deleted


def test_update_and_update_all(pg_server: PgServer, db: str) -> None:
    _, results = dry(f"psql {db} -c \"UPDATE items SET kind = 'z' WHERE id <= 250\"")
    r = one(results, "sql.update")
    assert (r.status, r.data["rows"], r.data["total"]) == ("ok", 250, 1000)
    assert r.lines[0].startswith("updates 250 rows")
    _, results = dry(f"echo \"UPDATE items SET kind = 'z'\" | psql {db}")
    r = one(results, "sql.update_all")
    assert (r.status, r.data["rows"]) == ("ok", 1000), r.lines
    assert count(pg_server, "SELECT count(*) FROM items WHERE kind = 'z'") == 0


def test_delete_using_counts_the_joined_rows_once(pg_server: PgServer, db: str) -> None:
    line = (
        f"psql {db} -c 'DELETE FROM items AS i USING kinds k "
        "WHERE i.kind = k.name AND k.doomed RETURNING i.id'"
    )
    r = one(dry(line)[1], "sql.delete")
    expect = count(
        pg_server, "SELECT count(*) FROM items i WHERE EXISTS (SELECT 1 FROM kinds k "
        "WHERE i.kind = k.name AND k.doomed)"
    )  # fmt: skip
    assert r.data["rows"] == expect == 100


def test_delete_all_from_a_file_with_a_cte(pg_server: PgServer, db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cleanup.sql").write_text(
        "SELECT 1;\nWITH old AS (SELECT id FROM items WHERE id > 900)\n"
        "DELETE FROM items WHERE id IN (SELECT id FROM old);\n"
    )
    r = one(dry(f"psql {db} -f cleanup.sql", cwd=tmp_path)[1], "sql.delete")
    assert (r.status, r.data["rows"]) == ("ok", 100), r.lines


def test_truncate_reports_the_estimate_and_size(pg_server: PgServer, db: str) -> None:
    pg_server.psql("ANALYZE items", db="dry")
    r = one(dry(f"psql {db} -c 'TRUNCATE items CASCADE'")[1], "sql.truncate")
    assert r.status == "ok", r.lines
    (t,) = r.data["tables"]
    assert t["rows_estimate"] == count(
        pg_server, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'items'::regclass"
    )
    assert t["rows_estimate"] == 1000
    assert t["bytes"] == count(pg_server, "SELECT pg_total_relation_size('items')")
    assert t["referenced_by"] == ["child"]
    assert "CASCADE also reaches child" in r.lines[0]
    assert count(pg_server, "SELECT count(*) FROM items") == 1000


def test_drop_table_measures_each_named_table(pg_server: PgServer, db: str) -> None:
    _, results = dry(f"psql {db} -c 'DROP TABLE small1, \"Odd Name\"'")
    drops = sorted((r for r in results if r.action == "sql.drop_table"), key=lambda r: r.object)
    assert [r.object for r in drops] == ["Odd Name", "small1"]
    for r in drops:
        assert r.status == "ok", r.lines
        (t,) = r.data["tables"]
        assert t["bytes"] == count(
            pg_server, f"SELECT pg_total_relation_size(to_regclass('{t['table']}'))"
        )
    assert count(pg_server, "SELECT count(*) FROM small1") == 30


def test_drop_database_size_and_connections(pg_server: PgServer, db: str) -> None:
    pg_server.create_database("victim")
    holders = [
        subprocess.Popen(
            [
                str(pg_server.bin_dir / "psql"),
                "-X",
                "-q",
                pg_server.dsn("victim"),
                "-c",
                "SELECT pg_sleep(60)",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(3)
    ]
    try:
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'victim'"
        deadline = time.monotonic() + 20
        while count(pg_server, waiting, db="postgres") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        r = one(dry(f"psql {db} -c 'DROP DATABASE victim'")[1], "sql.drop_database")
        assert r.status == "ok", r.lines
        assert r.data["connections"] == 3
        assert r.data["bytes"] == count(
            pg_server, "SELECT pg_database_size('victim')", db="postgres"
        )
        assert "3 other active connections" in r.lines[0]
    finally:
        for h in holders:
            h.kill()
            h.wait()
        pg_server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'victim' AND pid <> pg_backend_pid()",
            db="postgres",
        )
    absent = one(dry(f"psql {db} -c 'DROP DATABASE nosuchdb'")[1], "sql.drop_database")
    assert absent.data["exists"] is False


def test_password_in_the_url_never_reaches_the_record(pg_server: PgServer, db: str) -> None:
    url = f"postgresql://postgres:s3cret@{pg_server.host}:{pg_server.port}/dry"
    r = one(dry(f"psql '{url}' -c 'DELETE FROM small2 WHERE v > 35'")[1], "sql.delete")
    assert (r.status, r.data["rows"]) == ("ok", 35), r.lines
    assert "s3cret" not in repr(r.as_json())


def test_side_effects_in_the_where_clause_are_not_evaluated(db: str) -> None:
    line = f"psql {db} -c \"DELETE FROM items WHERE id = 1 AND pg_notify('c', 'x') IS NULL\""
    r = one(dry(line)[1], "sql.delete")
    assert r.status == "unavailable"
    assert "pg_notify" in r.lines[0]


def test_the_helper_session_is_read_only(pg_server: PgServer, db: str) -> None:
    """Even a write smuggled into a plan, with the user's PGOPTIONS asking for a
    writable session, cannot commit: BEGIN TRANSACTION READ ONLY holds."""
    s = snap("/", {"PGOPTIONS": "-c default_transaction_read_only=off"})
    target = db_target("postgresql", parse_url(db) or {})
    req = Request(
        finding=Finding("sql.delete", "small2", Severity.LOW, target, NO_SPAN),
        invocation=None,
        line="",
        snapshot=s,
        env=dict(s.variables),
        deadline=time.monotonic() + 10,
    )
    smuggled = Plan("rows", (("w", "INSERT INTO small2 VALUES (-1)"),), "")
    argv, env = sqlprov._command(req, smuggled, None)
    assert argv[argv.index("-h") + 1] == pg_server.host  # the target's own connection
    c = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20, check=False)
    assert c.returncode != 0
    assert "cannot execute INSERT in a read-only transaction" in c.stderr
    assert count(pg_server, "SELECT count(*) FROM small2 WHERE v = -1") == 0


def test_a_slow_count_is_cut_off_by_the_time_limit(db: str) -> None:
    slow = "DELETE FROM items WHERE (SELECT count(*) FROM generate_series(1, 300000000)) > 0"
    t0 = time.monotonic()
    r = one(dry(f'psql {db} -c "{slow}"', timeout=2.0)[1], "sql.delete")
    took = time.monotonic() - t0
    assert r.status in ("failed", "timeout"), r.lines
    assert "timeout" in " ".join(r.lines) or "time" in " ".join(r.lines)
    assert took < 4.0


def test_unreachable_server_fails_quickly(pg_server: PgServer) -> None:
    from tests.servers import free_port

    line = f"psql postgresql://postgres@127.0.0.1:{free_port()}/dry -c 'TRUNCATE items'"
    t0 = time.monotonic()
    r = one(dry(line)[1], "sql.truncate")
    assert r.status == "failed"
    assert "psql failed" in r.lines[0]
    assert time.monotonic() - t0 < 6


def test_without_psql_the_dry_run_is_unavailable(db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = one(dry(f"psql {db} -c 'TRUNCATE items'", variables={"PATH": str(tmp_path)})[1],
            "sql.truncate")  # fmt: skip
    assert r.status == "unavailable"
    assert "psql is not installed" in r.lines[0]
