"""psql against a real PostgreSQL server: for each carrier (`-c`, a real `-f`
file, a pipe, a heredoc, a herestring, PGHOST/PGDATABASE, a service file),
`guardsh check` names the object and the server/database the line would hit,
runs nothing itself, and read-only statements that really run through psql
stay quiet.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.analyze.support import bash, check
from tests.servers import PgServer

pytestmark = pytest.mark.server

DB = "guardsh_sql_real"


def sql_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["action"].startswith("sql.")]


@pytest.fixture(scope="module")
def pg(pg_server: PgServer) -> Iterator[PgServer]:
    """A database with two tables and rows, created once for this module."""
    pg_server.create_database(DB)
    pg_server.psql(
        "CREATE TABLE users (id int PRIMARY KEY, name text);"
        "INSERT INTO users VALUES (1, 'ada'), (2, 'bob');"
        "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users(id));"
        "INSERT INTO orders VALUES (10, 1), (11, 2);",
        db=DB,
    )
    yield pg_server
    pg_server.psql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


@pytest.fixture()
def psql(pg: PgServer) -> str:
    """The psql command prefix that reaches the test database."""
    exe = shlex.quote(str(pg.bin_dir / "psql"))
    return f"{exe} -X -A -t -h {pg.host} -p {pg.port} -U {pg.user} -d {DB}"


def assert_target(f: dict[str, Any], pg: PgServer, db: str = DB) -> None:
    t = f["target"]
    assert t["kind"] == "db"
    assert (t["db_engine"], t["db_host"], t["db_port"], t["db_name"]) == (
        "postgresql",
        pg.host,
        str(pg.port),
        db,
    )
    assert t["db_url"] == f"postgresql://{pg.user}@{pg.host}:{pg.port}/{db}"


def assert_untouched(pg: PgServer) -> None:
    """`guardsh check` analyzes only: the data is still there."""
    assert pg.psql("SELECT count(*) FROM users", db=DB).strip() == "2"
    assert pg.psql("SELECT count(*) FROM orders", db=DB).strip() == "2"


# ------------------------------------------------------------------ carriers


def test_dash_c(pg: PgServer, psql: str) -> None:
    result = check(f"{psql} -c 'DROP TABLE users CASCADE'")
    (f,) = sql_findings(result)
    assert (f["action"], f["object"], f["severity"]) == ("sql.drop_table", "users", "high")
    assert_target(f, pg)
    assert result["exit"] in (0, 10)
    assert_untouched(pg)


def test_real_file(pg: PgServer, psql: str, tmp_path: Path) -> None:
    (tmp_path / "cleanup.sql").write_text("-- nightly\nDELETE FROM orders -- WHERE id = 10\n;\n")
    result = check(f"{psql} -f cleanup.sql", "--cwd", str(tmp_path))
    (f,) = sql_findings(result)
    assert (f["action"], f["object"]) == ("sql.delete_all", "orders")
    assert_target(f, pg)
    assert f["evidence"]["text"] == "-f cleanup.sql"
    assert_untouched(pg)


def test_missing_file_is_opaque(pg: PgServer, psql: str, tmp_path: Path) -> None:
    result = check(f"{psql} -f nothere.sql", "--cwd", str(tmp_path))
    assert [f["action"] for f in result["findings"]] == ["shell.opaque"]


def test_pipe(pg: PgServer, psql: str) -> None:
    result = check(f"echo 'TRUNCATE orders' | {psql}")
    (f,) = sql_findings(result)
    assert (f["action"], f["object"]) == ("sql.truncate", "orders")
    assert_target(f, pg)
    assert_untouched(pg)


def test_heredoc(pg: PgServer, psql: str) -> None:
    line = f"{psql} <<'EOF'\nBEGIN;\nUPDATE users SET name = 'x';\nCOMMIT;\nEOF\n"
    (f,) = sql_findings(check(line))
    assert (f["action"], f["object"], f["severity"]) == ("sql.update_all", "users", "high")
    assert_target(f, pg)
    assert_untouched(pg)


def test_herestring(pg: PgServer, psql: str) -> None:
    (f,) = sql_findings(check(f"{psql} <<< 'DROP SCHEMA public CASCADE'"))
    assert (f["action"], f["object"]) == ("sql.drop_schema", "public")
    assert_target(f, pg)


def test_pghost_pgdatabase(pg: PgServer) -> None:
    exe = shlex.quote(str(pg.bin_dir / "psql"))
    env = f"PGHOST={pg.host} PGPORT={pg.port} PGUSER={pg.user} PGDATABASE={DB}"
    line = f"{env} {exe} -c 'TRUNCATE users CASCADE'"
    (f,) = sql_findings(check(line))
    assert (f["action"], f["object"]) == ("sql.truncate", "users")
    assert_target(f, pg)
    # the same variables from the session (`--var`) instead of the line
    opts = ["--var", f"PGHOST={pg.host}", "--var", f"PGPORT={pg.port}", "--var", f"PGDATABASE={DB}"]
    (f,) = sql_findings(check(f"{exe} -U {pg.user} -c 'DROP TABLE orders'", *opts))
    assert_target(f, pg)
    assert_untouched(pg)


def test_service_file(pg: PgServer, tmp_path: Path) -> None:
    conf = tmp_path / "pg_service.conf"
    conf.write_text(
        f"[guardsh_test]\nhost={pg.host}\nport={pg.port}\nuser={pg.user}\ndbname={DB}\n"
    )
    exe = shlex.quote(str(pg.bin_dir / "psql"))
    line = f"PGSERVICEFILE={conf} PGSERVICE=guardsh_test {exe} -c 'DELETE FROM orders WHERE 1=1'"
    (f,) = sql_findings(check(line))
    assert (f["action"], f["object"]) == ("sql.delete_all", "orders")
    assert_target(f, pg)
    assert f["target"]["db_service"] == "guardsh_test"
    # the service file that a real psql reads gives the same database
    real = (
        f"PGSERVICEFILE={conf} {exe} -X -A -t service=guardsh_test -c 'SELECT current_database()'"
    )
    assert bash(real).strip() == DB
    assert sql_findings(check(real)) == []
    assert_untouched(pg)


def test_home_service_file(pg: PgServer, hermetic: Path) -> None:
    (hermetic / ".pg_service.conf").write_text(
        f"[home_svc]\nhost={pg.host}\nport={pg.port}\nuser={pg.user}\ndbname={DB}\n"
    )
    exe = shlex.quote(str(pg.bin_dir / "psql"))
    (f,) = sql_findings(check(f"{exe} service=home_svc -c 'DROP TABLE users'"))
    assert_target(f, pg)
    assert bash(f"{exe} -X -A -t service=home_svc -c 'SELECT 1'").strip() == "1"


def test_connect_meta_command_switches_database(pg: PgServer, psql: str) -> None:
    line = f"{psql} <<'EOF'\nSELECT 1;\n\\c postgres\nDROP TABLE users;\nEOF\n"
    (f,) = sql_findings(check(line))
    assert_target(f, pg, db="postgres")


# ------------------------------------------------------------------ quiet reads that really run

READS = [
    "-c 'SELECT count(*) FROM users'",
    "-c \"SELECT name FROM users WHERE name = 'drop table users'\"",
    "-c 'EXPLAIN DELETE FROM orders'",
    "-c 'WITH x AS (SELECT id FROM orders) SELECT count(*) FROM x'",
    "-c 'BEGIN' -c 'SELECT 1' -c 'COMMIT'",
]


@pytest.mark.parametrize("args", READS)
def test_read_only_statements_run_and_stay_quiet(pg: PgServer, psql: str, args: str) -> None:
    line = f"{psql} {args}"
    result = check(line)
    assert result["findings"] == [], result["findings"]
    assert result["exit"] == 0
    bash(line)  # really runs against the server
    assert_untouched(pg)


def test_read_only_file_pipe_and_heredoc_run_and_stay_quiet(
    pg: PgServer, psql: str, tmp_path: Path
) -> None:
    (tmp_path / "report.sql").write_text("SELECT count(*) FROM orders;\n-- DROP TABLE orders;\n")
    lines = [
        (f"{psql} -f report.sql", "2"),
        (f"echo 'SELECT count(*) FROM users' | {psql}", "2"),
        (f"{psql} <<'EOF'\nSELECT 'TRUNCATE users';\nEOF\n", "TRUNCATE users"),
        (f"{psql} <<< 'SELECT max(id) FROM orders'", "11"),
    ]
    for line, out in lines:
        result = check(line, "--cwd", str(tmp_path))
        assert result["findings"] == [], (line, result["findings"])
        assert bash(line, cwd=tmp_path).strip() == out
    assert_untouched(pg)
