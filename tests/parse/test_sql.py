"""Statement analysis: every form of issue 3, firing and quiet, as tables."""

from __future__ import annotations

import re

import pytest

from guardsh.model import Severity
from guardsh.parse.psqlmeta import split_mysql, split_psql, split_sqlite
from guardsh.parse.sql import analyze_generated, analyze_sql, has_sql_keyword
from guardsh.parse.sqllex import MYSQL, POSTGRES, mask, statements

H, L = Severity.HIGH, Severity.LOW


def ops(sql: str, dialect: str = "postgres") -> list[tuple[str, tuple[str, ...], Severity]]:
    return [(o.action, o.objects, o.severity) for o in analyze_sql(sql, dialect)]


def tags(sql: str, dialect: str = "postgres") -> list[frozenset[str]]:
    return [o.tags for o in analyze_sql(sql, dialect)]


FIRING: list[tuple[str, list[tuple[str, tuple[str, ...], Severity]]]] = [
    # DROP, in every shape
    ("DROP TABLE users", [("sql.drop_table", ("users",), H)]),
    ("drop table users;", [("sql.drop_table", ("users",), H)]),
    ("DrOp TaBlE users", [("sql.drop_table", ("users",), H)]),
    ("DROP TABLE IF EXISTS users CASCADE", [("sql.drop_table", ("users",), H)]),
    ("DROP TABLE a, b, public.c", [("sql.drop_table", ("a", "b", "public.c"), H)]),
    ('DROP TABLE "Users"', [("sql.drop_table", ("Users",), H)]),
    ('DROP TABLE "my ""odd"" table"', [("sql.drop_table", ('my "odd" table',), H)]),
    ("DROP TABLE `users`", [("sql.drop_table", ("users",), H)]),
    ("DROP DATABASE app", [("sql.drop_database", ("app",), H)]),
    ("DROP DATABASE IF EXISTS app WITH (FORCE)", [("sql.drop_database", ("app",), H)]),
    ("DROP SCHEMA public CASCADE", [("sql.drop_schema", ("public",), H)]),
    ("DROP SCHEMA IF EXISTS a, b", [("sql.drop_schema", ("a", "b"), H)]),
    ("DROP OWNED BY app_user", [("sql.drop_schema", ("app_user",), H)]),
    ("DROP ROLE reporting", [("sql.drop_other", ("reporting",), H)]),
    ("DROP USER IF EXISTS bob", [("sql.drop_other", ("bob",), H)]),
    ("DROP VIEW v_active", [("sql.drop_other", ("v_active",), L)]),
    ("DROP MATERIALIZED VIEW mv", [("sql.drop_other", ("mv",), L)]),
    ("DROP INDEX CONCURRENTLY idx_a", [("sql.drop_other", ("idx_a",), L)]),
    ("DROP FUNCTION f(int, text)", [("sql.drop_other", ("f",), L)]),
    ("DROP VIEW v CASCADE", [("sql.drop_other", ("v",), H)]),
    ("DROP EXTENSION postgis", [("sql.drop_other", ("postgis",), H)]),
    ("DROP TEMPORARY TABLE t", [("sql.drop_table", ("t",), H)]),
    # TRUNCATE
    ("TRUNCATE sessions", [("sql.truncate", ("sessions",), H)]),
    ("truncate table only a, b restart identity cascade", [("sql.truncate", ("a", "b"), H)]),
    # DELETE / UPDATE, all rows or scoped
    ("DELETE FROM t", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t -- WHERE id = 1", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t /* WHERE id = 1 */", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE 1=1", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE true", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE 'a'='a'", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE id = id", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE t.id = t.id", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE id = 5 OR 1=1", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE (1 = 1)", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE NOT false", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE 2 > 1 AND 'x' <> 'y'", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE name LIKE '%'", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE NULL IS NULL", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t USING (SELECT id FROM x WHERE x.a = 1) s", [("sql.delete_all", ("t",), H)]),
    ("DELETE FROM t WHERE id = 1", [("sql.delete", ("t",), L)]),
    ("DELETE FROM ONLY t WHERE id IN (SELECT id FROM x)", [("sql.delete", ("t",), L)]),
    ("DELETE FROM t WHERE 1=1 AND id = 4", [("sql.delete", ("t",), L)]),
    ("DELETE FROM t WHERE CURRENT OF c", [("sql.delete", ("t",), L)]),
    ("UPDATE users SET admin = true", [("sql.update_all", ("users",), H)]),
    ("UPDATE users SET a = 1 WHERE 1 = 1", [("sql.update_all", ("users",), H)]),
    ("UPDATE users SET a = (SELECT b FROM x WHERE x.id = 1)", [("sql.update_all", ("users",), H)]),
    ("UPDATE users SET a = 1 WHERE id = 7", [("sql.update", ("users",), L)]),
    ("UPDATE ONLY s.users u SET a = 1 FROM x WHERE u.id = x.id", [("sql.update", ("s.users",), L)]),
    # statements hiding behind others
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", [("sql.delete_all", ("t",), H)]),
    (
        "WITH x AS (SELECT 1), u AS (UPDATE t SET a=1 WHERE id=2 RETURNING id) SELECT * FROM u",
        [("sql.update", ("t",), L)],
    ),
    (
        "WITH old AS (SELECT id FROM s) DELETE FROM t WHERE id IN (SELECT id FROM old)",
        [("sql.delete", ("t",), L)],
    ),
    ("EXPLAIN ANALYZE DELETE FROM t", [("sql.delete_all", ("t",), H)]),
    ("EXPLAIN ANALYZE VERBOSE UPDATE t SET a = 1", [("sql.update_all", ("t",), H)]),
    ("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t WHERE id = 3", [("sql.delete", ("t",), L)]),
    ("EXPLAIN (ANALYZE true) TRUNCATE t", [("sql.truncate", ("t",), H)]),
    ("COPY (DELETE FROM t RETURNING *) TO STDOUT", [("sql.delete_all", ("t",), H)]),
    (
        "UPDATE t SET a = 1 WHERE id = 1; DROP TABLE users",
        [("sql.update", ("t",), L), ("sql.drop_table", ("users",), H)],
    ),
    ("SELECT 1; SELECT 'x;y'; DROP TABLE t", [("sql.drop_table", ("t",), H)]),
    ("/* a /* nested */ comment */ DROP TABLE t", [("sql.drop_table", ("t",), H)]),
    ("SELECT $$ ; $$; DROP TABLE t", [("sql.drop_table", ("t",), H)]),
    ("SELECT E'it\\'s; fine'; DROP TABLE t", [("sql.drop_table", ("t",), H)]),
    # ALTER
    ("ALTER TABLE users DROP COLUMN email", [("sql.alter_drop", ("users.email",), H)]),
    ("ALTER TABLE users DROP email", [("sql.alter_drop", ("users.email",), H)]),
    (
        "ALTER TABLE IF EXISTS ONLY users DROP CONSTRAINT users_pkey CASCADE",
        [("sql.alter_drop", ("users.users_pkey",), H)],
    ),
    (
        "ALTER TABLE t DROP COLUMN IF EXISTS a, DROP COLUMN b",
        [("sql.alter_drop", ("t.a",), H), ("sql.alter_drop", ("t.b",), H)],
    ),
    ("ALTER TABLE t RENAME TO t_old", [("sql.alter", ("t",), L)]),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint", [("sql.alter", ("t",), L)]),
    ("ALTER TABLE t ALTER COLUMN a DROP DEFAULT", [("sql.alter", ("t",), L)]),
    ("ALTER TABLE t ALTER COLUMN a DROP NOT NULL", [("sql.alter", ("t",), L)]),
    ("ALTER DATABASE app RENAME TO app_old", [("sql.alter", ("app",), L)]),
    ("ALTER ROLE bob WITH SUPERUSER", [("sql.alter", ("bob",), L)]),
    # permissions, sessions, dynamic SQL
    (
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO bob",
        [("sql.grant", ("all tables in public",), L)],
    ),
    ("GRANT ALL PRIVILEGES ON DATABASE app TO bob", [("sql.grant", ("app",), L)]),
    ("REVOKE SELECT ON users FROM PUBLIC", [("sql.grant", ("users",), L)]),
    ("GRANT admin TO bob", [("sql.grant", ("admin",), L)]),
    (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app'",
        [("sql.terminate", ("pid",), H)],
    ),
    ("SELECT pg_cancel_backend(4242)", [("sql.terminate", ("4242",), L)]),
    # server functions written as quoted identifiers or schema-qualified
    ('SELECT "pg_terminate_backend"(1)', [("sql.terminate", ("1",), H)]),
    ("SELECT pg_catalog.pg_terminate_backend(pid) FROM x", [("sql.terminate", ("pid",), H)]),
    ('SELECT "pg_catalog"."pg_terminate_backend"(42)', [("sql.terminate", ("42",), H)]),
    ('SELECT pg_catalog."pg_cancel_backend" (7)', [("sql.terminate", ("7",), L)]),
    ("""SELECT "pg_drop_replication_slot"('s1')""", [("sql.drop_other", ("s1",), H)]),
    (
        """SELECT "public"."dblink_exec"('c', 'DROP TABLE t')""",
        [("sql.dynamic", ("EXECUTE",), L), ("sql.drop_table", ("t",), H)],
    ),
    ("DO $$ BEGIN RAISE NOTICE 'hi'; END $$", [("sql.dynamic", ("DO block",), L)]),
    ("EXECUTE stmt1", [("sql.dynamic", ("stmt1",), L)]),
    ("CALL purge_old_rows()", [("sql.dynamic", ("purge_old_rows",), L)]),
    # writes and locks
    ("INSERT INTO audit (a) VALUES (1)", [("sql.write", ("audit",), L)]),
    ("INSERT INTO t SELECT * FROM s", [("sql.write", ("t",), L)]),
    ("COPY t FROM '/tmp/t.csv' CSV", [("sql.write", ("t",), L)]),
    ("COPY t FROM STDIN", [("sql.write", ("t",), L)]),
    ("VACUUM FULL users", [("sql.write", ("users",), L)]),
    ("VACUUM (FULL, ANALYZE) users", [("sql.write", ("users",), L)]),
    ("CLUSTER users USING users_pkey", [("sql.write", ("users",), L)]),
    ("REINDEX TABLE users", [("sql.write", ("users",), L)]),
    ("CREATE INDEX idx ON users (email)", [("sql.write", ("users",), L)]),
    ("CREATE UNIQUE INDEX idx ON users (email)", [("sql.write", ("users",), L)]),
    ("LOCK TABLE users IN ACCESS EXCLUSIVE MODE", [("sql.write", ("users",), L)]),
    ("REFRESH MATERIALIZED VIEW mv", [("sql.write", ("mv",), L)]),
    (
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        [("sql.write", ("t",), L), ("sql.delete", ("t",), L)],
    ),
]

QUIET = [
    "SELECT * FROM users",
    "select count(*) from t where note = 'drop table users'",
    "SELECT 'DELETE FROM t' AS example",
    "SELECT $$DROP TABLE t$$",
    "SELECT $body$ TRUNCATE t $body$",
    "-- DROP TABLE users\nSELECT 1",
    "/* DELETE FROM t */ SELECT 1",
    "/* outer /* DROP TABLE t */ still a comment */ SELECT 1",
    'SELECT "drop" FROM "delete"',
    'SELECT "pg_terminate_backend" FROM t',
    "SELECT '\"pg_terminate_backend\"(1)'",
    'SELECT "my_pg_terminate_backend"(1)',
    'SELECT "pg_terminate_backend_log"(1)',
    "EXPLAIN DELETE FROM t",
    "EXPLAIN UPDATE t SET a = 1",
    "EXPLAIN (ANALYZE false) DELETE FROM t",
    "EXPLAIN SELECT * FROM t",
    "EXPLAIN ANALYZE SELECT * FROM t",
    "EXPLAIN WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "SELECT * FROM t FOR UPDATE",
    "CREATE TABLE t (id int REFERENCES u(id) ON DELETE CASCADE ON UPDATE CASCADE)",
    "CREATE TABLE t (id int)",
    "CREATE INDEX CONCURRENTLY idx ON users (email)",
    "CREATE OR REPLACE FUNCTION f() RETURNS void AS $$ DELETE FROM t $$ LANGUAGE sql",
    "CREATE RULE r AS ON DELETE TO t DO INSTEAD (DELETE FROM u)",
    "VACUUM users",
    "VACUUM ANALYZE users",
    "ANALYZE users",
    "REINDEX TABLE CONCURRENTLY users",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
    "COPY t TO STDOUT",
    "COPY (SELECT * FROM t) TO STDOUT WITH CSV",
    "BEGIN; SELECT 1; COMMIT;",
    "SET search_path = app",
    "SHOW ALL",
    "COMMENT ON TABLE t IS 'drop me later'",
    "PREPARE p AS SELECT 1",
    "",
    "   ;;  ",
]


@pytest.mark.parametrize(("sql", "expected"), FIRING, ids=[s[:50] for s, _ in FIRING])
def test_firing(sql: str, expected: list[tuple[str, tuple[str, ...], Severity]]) -> None:
    assert ops(sql) == expected


@pytest.mark.parametrize("sql", QUIET, ids=[s[:50] for s in QUIET])
def test_quiet(sql: str) -> None:
    assert ops(sql) == []


def test_reasons_for_all_rows_are_in_the_detail() -> None:
    assert analyze_sql("DELETE FROM t")[0].detail == "DELETE FROM t (no WHERE)"
    assert "(WHERE is always true)" in analyze_sql("DELETE FROM t WHERE 1=1")[0].detail
    sub = analyze_sql("DELETE FROM t USING (SELECT 1 WHERE true) x")[0]
    assert "(WHERE only in a subquery)" in sub.detail
    assert analyze_sql("DROP TABLE a, b CASCADE")[0].detail == "DROP TABLE a, b CASCADE"


def test_offsets_point_at_the_statement() -> None:
    text = "SELECT 1;\n  DROP TABLE users;"
    (op,) = analyze_sql(text)
    assert text[op.start : op.end] == "DROP TABLE users"
    for insert in (  # only the head of an INSERT is read; its offsets cover all of it
        "INSERT INTO t (a, b, c, d) VALUES (1, 2, 3, 4)",
        'INSERT INTO "T" (a, b, c, d) VALUES (1, 2, 3, 4)',
    ):
        text = f"SELECT 1;\n{insert} -- c\n;"
        (op,) = analyze_sql(text)
        assert text[op.start : op.end] == insert


def test_tags() -> None:
    assert tags("TRUNCATE t CASCADE") == [frozenset({"cascade"})]
    assert "explain-analyze" in tags("EXPLAIN ANALYZE DELETE FROM t")[0]
    assert "locks" in tags("VACUUM FULL t")[0]
    assert "upsert" in tags("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1")[0]
    assert "all" in tags("GRANT ALL ON t TO bob")[0]
    assert "revoke" in tags("REVOKE ALL ON t FROM bob")[0]
    assert "public" in tags("GRANT SELECT ON t TO PUBLIC")[0]


@pytest.mark.parametrize(
    "sql",
    ["DROP", "DROP ", "DROP;", "DROP -- x", "DROP /* */", "drop\n", "DROP (", "DROP 'x'"],
)
def test_a_bare_drop_is_an_incomplete_drop_of_an_unknown_object(sql: str) -> None:
    for dialect in ("postgres", "mysql", "sqlite", "clickhouse"):
        (op,) = analyze_sql(sql, dialect)
        assert (op.action, op.objects, op.severity) == ("sql.drop_other", ("?",), L)
        assert {"incomplete", "unknown-object"} <= op.tags
        assert sql[op.start : op.end].upper().startswith("DROP")


def test_a_bare_drop_keeps_the_statements_before_it() -> None:
    got = ops("TRUNCATE users; DROP")
    assert got == [("sql.truncate", ("users",), H), ("sql.drop_other", ("?",), L)]
    assert ops("DO $$ BEGIN TRUNCATE t; DROP; END $$")[1:] == [
        ("sql.truncate", ("t",), H),
        ("sql.drop_other", ("?",), L),
    ]


def test_every_prefix_of_a_statement_is_analyzed_without_error() -> None:
    """A statement cut short (a typo, a paste, `-c 'TRUNCATE t; DROP'`) never
    crashes a verb handler: each handler reads past its keyword only through
    bounds-checked helpers."""
    for sql, _ in FIRING:
        cuts = [m.end() for m in re.finditer(r"\S+", sql)]
        for cut in cuts:
            for dialect in ("postgres", "mysql"):
                analyze_sql(sql[:cut], dialect)
                analyze_sql(sql[:cut], dialect, plpgsql=True)


DROP_FORMS: list[tuple[str, str, list[tuple[str, tuple[str, ...], Severity]]]] = [
    # PostgreSQL's multi-word DROP forms: the object is what the form names
    ("postgres", "DROP USER MAPPING FOR bob SERVER s", [("sql.drop_other", ("bob@s",), L)]),
    (
        "postgres",
        "DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER files",
        [("sql.drop_other", ("current_user@files",), L)],
    ),
    ("postgres", 'DROP USER MAPPING FOR "Bob" SERVER "S1"', [("sql.drop_other", ("Bob@S1",), L)]),
    ("postgres", "DROP USER MAPPING FOR PUBLIC SERVER s", [("sql.drop_other", ("public@s",), L)]),
    ("postgres", "DROP TRANSFORM FOR int LANGUAGE plpgsql", [("sql.drop_other", ("int",), L)]),
    (
        "postgres",
        "DROP TRANSFORM IF EXISTS FOR hstore LANGUAGE plpython3u CASCADE",
        [("sql.drop_other", ("hstore",), H)],
    ),
    (
        "postgres",
        "DROP TRANSFORM FOR double precision LANGUAGE plpython3u",
        [("sql.drop_other", ("double precision",), L)],
    ),
    (
        "postgres",
        "DROP OPERATOR CLASS widget_ops USING btree",
        [("sql.drop_other", ("widget_ops",), L)],
    ),
    (
        "postgres",
        "DROP OPERATOR FAMILY IF EXISTS float_ops USING btree CASCADE",
        [("sql.drop_other", ("float_ops",), H)],
    ),
    ("postgres", "DROP OPERATOR ^ (integer, integer)", [("sql.drop_other", ("^",), L)]),
    (
        "postgres",
        "DROP OPERATOR IF EXISTS public.=== (int, int), ~ (none, bit) CASCADE",
        [("sql.drop_other", ("public.===", "~"), H)],
    ),
    ("postgres", "DROP CAST (bigint AS int4)", [("sql.drop_other", ("bigint AS int4",), L)]),
    (
        "postgres",
        "DROP CAST IF EXISTS (text AS my_type) CASCADE",
        [("sql.drop_other", ("text AS my_type",), H)],
    ),
    ("postgres", "DROP RULE newrule ON mytable", [("sql.drop_other", ("mytable.newrule",), L)]),
    (
        "postgres",
        "DROP TRIGGER IF EXISTS audit_trg ON films CASCADE",
        [("sql.drop_other", ("films.audit_trg",), H)],
    ),
    ("postgres", "DROP POLICY IF EXISTS p1 ON my_table", [("sql.drop_other", ("my_table.p1",), L)]),
    ("postgres", "DROP EVENT TRIGGER snitch", [("sql.drop_other", ("snitch",), L)]),
    (
        "postgres",
        "DROP FOREIGN DATA WRAPPER IF EXISTS dbi CASCADE",
        [("sql.drop_other", ("dbi",), H)],
    ),
    (
        "postgres",
        "DROP TEXT SEARCH CONFIGURATION my_english",
        [("sql.drop_other", ("my_english",), L)],
    ),
    (
        "postgres",
        "DROP TEXT SEARCH DICTIONARY english_dict",
        [("sql.drop_other", ("english_dict",), L)],
    ),
    ("postgres", "DROP TEXT SEARCH PARSER my_parser", [("sql.drop_other", ("my_parser",), L)]),
    ("postgres", "DROP TEXT SEARCH TEMPLATE my_tmpl", [("sql.drop_other", ("my_tmpl",), L)]),
    ("postgres", "DROP ACCESS METHOD heptree", [("sql.drop_other", ("heptree",), L)]),
    ("postgres", "DROP SERVER IF EXISTS foo", [("sql.drop_other", ("foo",), H)]),
    ("postgres", "DROP PUBLICATION mypublication", [("sql.drop_other", ("mypublication",), H)]),
    ("postgres", "DROP SUBSCRIPTION mysub", [("sql.drop_other", ("mysub",), H)]),
    (
        "postgres",
        "DROP STATISTICS IF EXISTS accounting.users_uid_creation, public.grants_user_role",
        [("sql.drop_other", ("accounting.users_uid_creation", "public.grants_user_role"), L)],
    ),
    ("postgres", "DROP ROUTINE foo(integer), foo(text)", [("sql.drop_other", ("foo",), L)]),
    (
        "postgres",
        "DROP PROCEDURE do_db_maintenance()",
        [("sql.drop_other", ("do_db_maintenance",), L)],
    ),
    (
        "postgres",
        "DROP AGGREGATE myavg(integer), myavg(bigint)",
        [("sql.drop_other", ("myavg",), L)],
    ),
    (
        "postgres",
        'DROP AGGREGATE myrank(VARIADIC "any" ORDER BY VARIADIC "any")',
        [("sql.drop_other", ("myrank",), L)],
    ),
    ("postgres", "DROP FUNCTION IF EXISTS f(int), g", [("sql.drop_other", ("f", "g"), L)]),
    ("postgres", "DROP COLLATION german", [("sql.drop_other", ("german",), L)]),
    # ClickHouse: ON CLUSTER is where, not what
    ("clickhouse", "DROP DICTIONARY d ON CLUSTER c", [("sql.drop_other", ("d",), H)]),
    ("clickhouse", "DROP VIEW v ON CLUSTER c", [("sql.drop_other", ("v",), L)]),
    ("clickhouse", "DROP TABLE db.t ON CLUSTER c SYNC", [("sql.drop_table", ("db.t",), H)]),
    (
        "clickhouse",
        "DROP USER IF EXISTS u1, u2 ON CLUSTER c",
        [("sql.drop_other", ("u1", "u2"), H)],
    ),
    ("clickhouse", "DROP ROW POLICY p ON db.t", [("sql.drop_other", ("db.t.p",), L)]),
    ("clickhouse", "DROP TABLE IF EMPTY t", [("sql.drop_table", ("t",), H)]),
    ("clickhouse", "DROP SETTINGS PROFILE p", [("sql.drop_other", ("p",), L)]),
    ("clickhouse", "DROP NAMED COLLECTION foo", [("sql.drop_other", ("foo",), L)]),
    # MySQL's multi-word forms
    ("mysql", "DROP SPATIAL REFERENCE SYSTEM 4120", [("sql.drop_other", ("4120",), L)]),
    ("mysql", "DROP RESOURCE GROUP rg", [("sql.drop_other", ("rg",), L)]),
    ("mysql", "DROP LOGFILE GROUP lg ENGINE=NDB", [("sql.drop_other", ("lg",), L)]),
    ("mysql", "DROP UNDO TABLESPACE undo_003", [("sql.drop_other", ("undo_003",), H)]),
    (
        "mysql",
        "DROP TRIGGER IF EXISTS shop.upd_check",
        [("sql.drop_other", ("shop.upd_check",), L)],
    ),
]


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"), DROP_FORMS, ids=[s[:60] for _, s, _ in DROP_FORMS]
)
def test_drop_forms_name_their_object(
    dialect: str, sql: str, expected: list[tuple[str, tuple[str, ...], Severity]]
) -> None:
    assert ops(sql, dialect) == expected


def test_drop_form_tags_and_details() -> None:
    (op,) = analyze_sql("DROP USER MAPPING FOR bob SERVER s")
    assert "user-mapping" in op.tags
    assert op.detail == "DROP USER MAPPING bob@s"
    (op,) = analyze_sql("DROP CAST (bigint AS int4) CASCADE")
    assert {"cast", "cascade"} <= op.tags
    assert op.detail == "DROP CAST bigint AS int4 CASCADE"
    (op,) = analyze_sql("DROP TRANSFORM FOR int LANGUAGE plpgsql")
    assert op.detail == "DROP TRANSFORM int (LANGUAGE plpgsql)"


# ------------------------------------------------------------- transactions


def test_rollback_makes_the_inside_low() -> None:
    got = analyze_sql("BEGIN; DELETE FROM t; DROP TABLE u; ROLLBACK;")
    assert [(o.action, o.severity) for o in got] == [("sql.delete_all", L), ("sql.drop_table", L)]
    assert all("rolled-back" in o.tags for o in got)


def test_commit_keeps_severity_and_ops_outside_stay_high() -> None:
    assert ops("BEGIN; DROP TABLE t; COMMIT;") == [("sql.drop_table", ("t",), H)]
    got = ops("DROP TABLE a; BEGIN; DROP TABLE b; ROLLBACK; DROP TABLE c;")
    assert got == [
        ("sql.drop_table", ("a",), H),
        ("sql.drop_table", ("b",), L),
        ("sql.drop_table", ("c",), H),
    ]


def test_rollback_to_savepoint() -> None:
    got = ops(
        "BEGIN; DELETE FROM a; SAVEPOINT s1; DELETE FROM b; ROLLBACK TO SAVEPOINT s1; COMMIT;"
    )
    assert got == [("sql.delete_all", ("a",), H), ("sql.delete_all", ("b",), L)]


def test_start_transaction_and_abort() -> None:
    assert ops("START TRANSACTION; TRUNCATE t; ABORT;") == [("sql.truncate", ("t",), L)]


def test_mysql_ddl_commits_the_transaction() -> None:
    got = ops("BEGIN; DELETE FROM a; DROP TABLE b; ROLLBACK;", "mysql")
    assert got == [("sql.delete_all", ("a",), H), ("sql.drop_table", ("b",), H)]
    assert ops("BEGIN; DELETE FROM a; ROLLBACK;", "mysql") == [("sql.delete_all", ("a",), L)]


def test_open_transaction_is_not_assumed_rolled_back() -> None:
    assert ops("BEGIN; DROP TABLE t;") == [("sql.drop_table", ("t",), H)]


# ------------------------------------------------------------- dynamic SQL


def test_do_block_body_is_analyzed() -> None:
    got = analyze_sql("DO $$ BEGIN DELETE FROM t; END $$")
    assert [(o.action, o.objects) for o in got] == [
        ("sql.dynamic", ("DO block",)),
        ("sql.delete_all", ("t",)),
    ]
    assert "dynamic" in got[1].tags


def test_do_block_with_execute_of_built_sql() -> None:
    text = """DO $do$
    DECLARE r record;
    BEGIN
      FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE';
      END LOOP;
    END $do$;"""
    got = analyze_sql(text)
    drops = [o for o in got if o.action == "sql.drop_table"]
    assert drops and drops[0].objects == ("?",)
    assert {"dynamic", "unknown-object", "cascade"} <= drops[0].tags
    assert [o.action for o in got].count("sql.dynamic") == 2  # the DO block and the EXECUTE


def test_execute_format_and_literal() -> None:
    got = analyze_sql("DO $$ BEGIN EXECUTE format('TRUNCATE %I', 'x'); END $$")
    assert ("sql.truncate", ("?",)) in [(o.action, o.objects) for o in got]
    got = analyze_sql("DO $$ BEGIN IF true THEN EXECUTE 'DROP SCHEMA app CASCADE'; END IF; END $$")
    assert ("sql.drop_schema", ("app",)) in [(o.action, o.objects) for o in got]


def test_do_body_with_other_language_is_not_walked() -> None:
    got = analyze_sql("DO LANGUAGE plpython3u $$ plpy.execute('DROP TABLE t') $$")
    assert [o.action for o in got] == ["sql.dynamic"]


def test_prepared_statements() -> None:
    assert ops("PREPARE p AS DELETE FROM t; EXECUTE p;") == [("sql.delete_all", ("t",), H)]
    assert ops("PREPARE p (int) AS DELETE FROM t WHERE id = $1") == []
    assert ops("PREPARE s FROM 'DROP TABLE t'; EXECUTE s;", "mysql") == [
        ("sql.drop_table", ("t",), H)
    ]
    assert ops("EXECUTE IMMEDIATE 'TRUNCATE t'", "mysql")[1] == ("sql.truncate", ("t",), H)


def test_generated_sql_for_gexec() -> None:
    got = analyze_generated("SELECT format('DROP TABLE %I', tablename) FROM pg_tables")
    assert [(o.action, o.objects) for o in got] == [("sql.drop_table", ("?",))]
    assert analyze_generated("SELECT 'SELECT 1'") == ()


# ------------------------------------------------------------- dialects


def test_mysql_dialect() -> None:
    assert ops("DROP SCHEMA app", "mysql") == [("sql.drop_database", ("app",), H)]
    assert ops("DELETE FROM t # WHERE id = 1", "mysql") == [("sql.delete_all", ("t",), H)]
    assert ops('SELECT "drop table t"', "mysql") == []
    assert ops("SELECT 'it\\'s'; DROP TABLE t", "mysql") == [("sql.drop_table", ("t",), H)]
    assert ops("DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a WHERE t2.b = 1", "mysql") == [
        ("sql.delete", ("t1",), L)
    ]
    assert ops("/*!40000 ALTER TABLE t DISABLE KEYS */", "mysql") == [("sql.alter", ("t",), L)]
    assert ops("REPLACE INTO t VALUES (1)", "mysql") == [("sql.write", ("t",), L)]
    assert ops("KILL 42", "mysql") == [("sql.terminate", ("42",), H)]
    assert ops("KILL QUERY 42", "mysql") == [("sql.terminate", ("42",), L)]
    assert ops("SHUTDOWN", "mysql") == [("sql.terminate", ("server",), H)]
    assert ops("LOCK TABLES t WRITE", "mysql") == [("sql.write", ("t",), L)]
    assert ops("ALTER TABLE t DROP PARTITION p2020", "mysql") == [
        ("sql.alter_drop", ("t.p2020",), H)
    ]
    assert ops("RENAME TABLE a TO b", "mysql") == [("sql.alter", ("a",), L)]
    assert ops("CREATE INDEX i ON t (a)", "mysql") == []  # online in InnoDB


def test_clickhouse_mutations() -> None:
    assert ops("ALTER TABLE events DELETE WHERE 1 = 1", "clickhouse") == [
        ("sql.delete_all", ("events",), H)
    ]
    assert ops("ALTER TABLE events DELETE WHERE ts < '2020-01-01'", "clickhouse") == [
        ("sql.delete", ("events",), L)
    ]
    assert ops("ALTER TABLE events UPDATE a = 1 WHERE true", "clickhouse") == [
        ("sql.update_all", ("events",), H)
    ]
    assert ops("SYSTEM SHUTDOWN", "clickhouse") == [("sql.terminate", ("server",), H)]
    assert ops("OPTIMIZE TABLE events FINAL", "clickhouse") == [("sql.write", ("events",), L)]


def test_sqlite_dialect() -> None:
    assert ops("VACUUM", "sqlite") == [("sql.write", ("main",), L)]
    assert ops("INSERT OR REPLACE INTO t VALUES (1)", "sqlite") == [("sql.write", ("t",), L)]
    assert ops("UPDATE OR IGNORE t SET a = 1", "sqlite") == [("sql.update_all", ("t",), H)]


# ------------------------------------------------------------- the fast path

_SHAPED = [
    "INSERT INTO t VALUES (1, 'x')",
    "insert into app.t (a, b) values (1, 'it''s; fine')",
    "INSERT INTO t SELECT * FROM s",
    "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1",
    "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1",
    "REPLACE INTO t VALUES (1)",
    "UPSERT INTO t VALUES (1)",
    "INSERT INTO t$1 VALUES (1) -- trailing comment",
    "INSERT INTO t\n  VALUES (1)\n  ",
    "UPDATE t SET a=1 WHERE id=7",
    "update s.t set a = 'x', b = 2 where id = 7 and k <> 'y'",
    "UPDATE t SET a = 1 WHERE t.id >= 3.5 AND b != 'q' AND c < 1",
    "UPDATE t SET password = 'secret' WHERE id = 1",
    "UPDATE t SET note = 'identified by x' WHERE id = 1",
    "UPDATE t SET a = 1 /* c */ WHERE id = 1 -- c",
    "UPDATE t SET " + ", ".join(f"c{i} = {i}" for i in range(30)) + " WHERE id = 1",
    "DELETE FROM t WHERE id = 1",
    "delete from s.t where a = 'x' and b > 2",
    "DELETE FROM t WHERE id = 1\n",
]
_NOT_SHAPED = [
    "INSERT INTO TABLE t VALUES (1)",
    "INSERT OR REPLACE INTO t VALUES (1)",
    'INSERT INTO "T" VALUES (1)',
    "INSERT INTO t.* VALUES (1)",
    "INSERT INTO t . u VALUES (1)",
    "INSERT INTO __dyn__ VALUES (1)",
    "INSERT INTO tàble VALUES (1)",
    "UPDATE t SET a = 1",
    "UPDATE t SET a = 1 WHERE 1 = 1",
    "UPDATE t SET a = 1 WHERE id = 1 OR 1 = 1",
    "UPDATE t SET a = 1 WHERE id = id",
    "UPDATE t SET a = (SELECT 1) WHERE id = 1",
    "UPDATE t SET a = 1 WHERE id IN (1, 2)",
    "UPDATE t SET a = 1 WHERE id = 1 RETURNING *",
    "UPDATE t SET a = 1 WHERE id = 1e5",
    "UPDATE t SET a = 1 WHERE id = __dyn__",
    "UPDATE t x SET a = 1 WHERE id = 1",
    "UPDATE ONLY t SET a = 1 WHERE id = 1",
    "UPDATE t SET a = 1 WHERE b = 2 WHERE c = 3",
    "UPDATE t SET a = 1 WHERE TRUE = TRUE",
    "UPDATE t SET a = 1 WHERE CURRENT OF c",
    "DELETE FROM t",
    "DELETE FROM t WHERE true",
    "DELETE FROM t WHERE id = 1 LIMIT 1",
    "DELETE FROM ONLY t WHERE id = 1",
    "DELETE FROM t USING u WHERE t.id = 1",
    "DELETE t FROM t WHERE id = 1",
]


def test_the_fast_path_takes_the_simple_shapes() -> None:
    from guardsh.parse.sqlfast import fast
    from guardsh.parse.sqllex import DIALECTS

    for sql in _SHAPED + _NOT_SHAPED:
        for dialect in ("postgres", "mysql"):
            masked, _ = mask(sql, DIALECTS[dialect])
            first = sql.split()[0].upper()
            got = fast(sql, masked, 0, len(sql), first)
            assert (got is not None) == (sql in _SHAPED), (sql, dialect)


def test_the_fast_path_gives_what_the_token_walk_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    from guardsh.parse import sql as sqlmod

    texts = _SHAPED + _NOT_SHAPED + [s for s, _ in FIRING] + QUIET
    texts += [f"SELECT 1; {s};\n{s}" for s in _SHAPED]
    texts += ["BEGIN; " + s + "; ROLLBACK;" for s in _SHAPED]
    got = {}
    for dialect in ("postgres", "mysql", "sqlite", "clickhouse"):
        for text in texts:
            got[dialect, text] = sqlmod._analyze(text, dialect, False)
    monkeypatch.setattr(sqlmod, "SHAPES", frozenset())
    for (dialect, text), ops_ in got.items():
        assert ops_ == sqlmod._analyze(text, dialect, False), (dialect, text)


# ------------------------------------------------------------- lexer and pre-filter


def test_prefilter() -> None:
    assert not has_sql_keyword("SELECT * FROM t WHERE a = 1")
    assert has_sql_keyword("select 1; drop table t")


def test_mask_keeps_offsets() -> None:
    text = "SELECT 'a;b', \"c;d\", $x$ e;f $x$ -- g;h\n; /* i;j */ DROP"
    masked, _ = mask(text, POSTGRES)
    assert len(masked) == len(text)
    assert [text[s:e].strip() for s, e in statements(masked)] == [
        "SELECT 'a;b', \"c;d\", $x$ e;f $x$ -- g;h",
        "/* i;j */ DROP",
    ]


def test_mask_unterminated_literal_runs_to_the_end() -> None:
    masked, _ = mask("SELECT 'oops; DROP TABLE t", POSTGRES)
    assert "DROP" not in masked
    assert ops("SELECT 'oops; DROP TABLE t") == []


def test_mysql_backslash_escape() -> None:
    masked, _ = mask("SELECT 'a\\';DROP'", MYSQL)
    assert ";" not in masked


def test_cache_returns_the_same_tuple() -> None:
    text = "DROP TABLE cached_one"
    assert analyze_sql(text) is analyze_sql(text)


def test_big_migration_is_linear_and_finds_the_drop() -> None:
    body = "INSERT INTO t VALUES (1, 'x');\nCREATE TABLE x (a int);\n" * 2000
    got = analyze_sql(body + "DROP TABLE legacy;")
    assert got[-1].objects == ("legacy",)
    assert len(got) == 2001


# ------------------------------------------------------------- client scripts


def test_split_psql_meta_commands() -> None:
    script = split_psql(
        "SELECT 1;\n\\i other.sql\nDELETE FROM t;\n\\! rm -rf /tmp/x\n"
        "\\c prod_db admin\nDROP TABLE u;\n"
    )
    kinds = [
        (p.meta, p.args) if p.meta else ("sql", p.sql and p.sql.strip()) for p in script.pieces
    ]
    assert kinds == [
        ("sql", "SELECT 1;"),
        ("include", ("other.sql",)),
        ("sql", "DELETE FROM t;"),
        ("shell", ("rm -rf /tmp/x",)),
        ("connect", ("prod_db", "admin")),
        ("sql", "DROP TABLE u;"),
    ]


def test_split_psql_quotes_and_gexec_and_quit() -> None:
    script = split_psql(
        "SELECT '\\i not_a_meta';\nSELECT format('DROP TABLE %I', t) FROM x \\gexec\n"
    )
    metas = [p for p in script.pieces if p.meta]
    assert [p.meta for p in metas] == ["gexec"]
    assert "format(" in metas[0].args[0]
    script = split_psql("SELECT 1;\n\\q\nDROP TABLE t;")
    assert all("DROP" not in (p.sql or "") for p in script.pieces)


def test_split_psql_variables() -> None:
    script = split_psql('\\set t users\nDROP TABLE :t;\nDROP TABLE :"t";', (("x", "y"),))
    sql = "".join(p.sql or "" for p in script.pieces)
    assert "DROP TABLE users;" in sql and 'DROP TABLE "users";' in sql
    assert ops(sql) == [("sql.drop_table", ("users",), H), ("sql.drop_table", ("users",), H)]


def test_split_psql_copy_and_reset() -> None:
    script = split_psql("\\copy t from 'data.csv' csv\n")
    assert ops("".join(p.sql or "" for p in script.pieces)) == [("sql.write", ("t",), L)]
    script = split_psql("DELETE FROM t\n\\r\nSELECT 1;")
    assert ops("".join(p.sql or "" for p in script.pieces)) == []


def test_split_mysql_commands() -> None:
    script = split_mysql("use prod;\nsource /tmp/x.sql\nsystem ls\nDELETE FROM t;\n\\! rm x\n")
    got = [(p.meta, p.args) if p.meta else ("sql", (p.sql or "").strip()) for p in script.pieces]
    assert got == [
        ("use", ("prod",)),
        ("include", ("/tmp/x.sql",)),
        ("shell", ("ls",)),
        ("sql", "DELETE FROM t;"),
        ("shell", ("rm x",)),
    ]


def _mysql_pieces(text: str) -> list[tuple[str | None, object]]:
    return [
        (p.meta, p.args) if p.meta else ("sql", (p.sql or "").strip())
        for p in split_mysql(text).pieces
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # `use`, `connect` and `source` end at `;` (or the end of the line):
        # the mysql client runs what follows as the next statement
        ("use other; DROP TABLE t", [("use", ("other",)), ("sql", "DROP TABLE t")]),
        ("USE other; DELETE FROM t", [("use", ("other",)), ("sql", "DELETE FROM t")]),
        ("connect other; DROP TABLE t", [("connect", ("other",)), ("sql", "DROP TABLE t")]),
        ("\\u other; DROP TABLE t", [("use", ("other",)), ("sql", "DROP TABLE t")]),
        ("\\r other h2; DROP TABLE t", [("connect", ("other", "h2")), ("sql", "DROP TABLE t")]),
        (
            "select 1;use other; DROP TABLE t",
            [("sql", "select 1;"), ("use", ("other",)), ("sql", "DROP TABLE t")],
        ),
        (
            "SELECT 1; USE a; USE b; DROP TABLE t;",
            [("sql", "SELECT 1;"), ("use", ("a",)), ("use", ("b",)), ("sql", "DROP TABLE t;")],
        ),
        ("use `my;db`; DROP TABLE t", [("use", ("my;db",)), ("sql", "DROP TABLE t")]),
        ("use other\nDROP TABLE t;", [("use", ("other",)), ("sql", "DROP TABLE t;")]),
        (
            "source /x.sql; DROP TABLE t",
            [("include", ("/x.sql",)), ("sql", "DROP TABLE t")],
        ),
        # the shell is given the whole line (`\!` does that; for `system` it is
        # the safe reading), and the SQL after the `;` still runs
        (
            "system ls; DROP TABLE t",
            [("shell", ("ls; DROP TABLE t",)), ("sql", "DROP TABLE t")],
        ),
        (
            "\\! echo; rm -rf /x; DROP TABLE t",
            [("shell", ("echo; rm -rf /x; DROP TABLE t",)), ("sql", "rm -rf /x; DROP TABLE t")],
        ),
        (
            "delimiter //\nuse other// DROP TABLE t//",
            [("use", ("other",)), ("sql", "DROP TABLE t;")],
        ),
        # near misses: not a command at the start of a statement
        ("SELECT use_count FROM t; SELECT 1", [("sql", "SELECT use_count FROM t; SELECT 1")]),
        ("SELECT 1; usefoo", [("sql", "SELECT 1; usefoo")]),
        ("SELECT 'x; use other'; DROP TABLE t", [("sql", "SELECT 'x; use other'; DROP TABLE t")]),
        (
            "SELECT 1 /* ; use other */; DROP TABLE t",
            [("sql", "SELECT 1 /* ; use other */; DROP TABLE t")],
        ),
    ],
)
def test_split_mysql_commands_end_at_the_delimiter(text: str, expected: list[object]) -> None:
    assert _mysql_pieces(text) == expected


def test_split_mysql_column_named_source_is_not_a_command() -> None:
    script = split_mysql("DELETE FROM t WHERE\nsource = 'x';")
    assert [p.meta for p in script.pieces] == [None]
    assert ops(script.pieces[0].sql or "", "mysql") == [("sql.delete", ("t",), L)]


def test_split_mysql_delimiter() -> None:
    text = (
        "DELIMITER //\nCREATE PROCEDURE p() BEGIN DELETE FROM t; END //\n"
        "DELIMITER ;\nDROP TABLE u;\n"
    )
    sql = "".join(p.sql or "" for p in split_mysql(text).pieces)
    assert ops(sql, "mysql") == [("sql.drop_table", ("u",), H)]


def test_split_sqlite_dot_commands() -> None:
    script = split_sqlite(".read init.sql\n.shell rm -rf x\nDROP TABLE t;\n.open other.db\n")
    got = [(p.meta, p.args) if p.meta else ("sql", (p.sql or "").strip()) for p in script.pieces]
    assert got == [
        ("include", ("init.sql",)),
        ("shell", ("rm -rf x",)),
        ("sql", "DROP TABLE t;"),
        ("connect", ("other.db",)),
    ]


# ------------------------------------------------------------- details and names


def test_passwords_never_reach_a_detail() -> None:
    for sql, dialect in (
        ("ALTER ROLE bob WITH PASSWORD 'hunter2'", "postgres"),
        ("ALTER USER 'bob'@'%' IDENTIFIED BY 'hunter2'", "mysql"),
        ("GRANT ALL ON *.* TO 'bob'@'%' IDENTIFIED BY 'hunter2'", "mysql"),
    ):
        (op,) = analyze_sql(sql, dialect)
        assert "hunter2" not in op.detail and "'***'" in op.detail


def test_mysql_accounts_and_grant_targets() -> None:
    assert ops("DROP USER 'bob'@'localhost', 'eve'@'%'", "mysql") == [
        ("sql.drop_other", ("bob@localhost", "eve@%"), H)
    ]
    assert ops("GRANT ALL ON *.* TO 'bob'@'%'", "mysql") == [("sql.grant", ("*.*",), L)]
    assert ops("GRANT SELECT ON shop.* TO bob", "mysql") == [("sql.grant", ("shop.*",), L)]


def test_alter_system_names_the_parameter() -> None:
    assert ops("ALTER SYSTEM SET work_mem = '1GB'") == [("sql.alter", ("system: work_mem",), L)]
