"""SQL carriers: every place SQL hides in a command line, and the database it hits.

Most tests run the real analysis (parse -> unwrap -> analyzers) on a line;
a few build an Invocation by hand for states a line cannot easily produce.
"""

from __future__ import annotations

from typing import Any

import guardsh.analyze.sql  # noqa: F401  (registers the analyzers)
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Snapshot, Span, Stdin, Target
from guardsh.pipeline import analyze_line
from tests import factories
from tests.analyze.support import findings, spaced_words


def run(line: str, files: dict[str, str] | None = None, **snap: Any) -> list[Finding]:
    facts = Facts(read_file=(files or {}).get)
    found, notes = analyze_line(line, factories.snapshot(**snap), facts)
    assert not notes, notes
    return found


def brief(
    line: str, files: dict[str, str] | None = None, **snap: Any
) -> list[tuple[str, str | None, str]]:
    return [(f.action, f.object, str(f.severity)) for f in run(line, files, **snap)]


def one(line: str, files: dict[str, str] | None = None, **snap: Any) -> Finding:
    found = run(line, files, **snap)
    assert len(found) == 1, [(f.action, f.object) for f in found]
    return found[0]


def target(f: Finding) -> dict[str, str]:
    return f.target.as_json()


# ------------------------------------------------------------------ psql sources


def test_psql_c_and_evidence_is_the_sql_word() -> None:
    line = "psql -c 'DROP TABLE users' app"
    f = one(line)
    assert (f.action, f.object, str(f.severity)) == ("sql.drop_table", "users", "high")
    assert f.evidence.text(line) == "'DROP TABLE users'"
    assert f.detail == "DROP TABLE users on localhost/app"


def test_psql_repeated_c_in_order_and_long_form() -> None:
    got = brief("psql -c 'DELETE FROM a WHERE id = 1' --command='TRUNCATE b' -c 'SELECT 1'")
    assert got == [("sql.delete", "a", "low"), ("sql.truncate", "b", "high")]


def test_psql_f_reads_relative_to_cwd() -> None:
    files = {"/srv/app/cleanup.sql": "-- cleanup\nDELETE FROM sessions;\n"}
    line = "psql -f cleanup.sql app"
    f = one(line, files, cwd="/srv/app")
    assert (f.action, f.object) == ("sql.delete_all", "sessions")
    assert f.evidence.text(line) == "-f cleanup.sql"
    assert one("psql --file=/srv/app/cleanup.sql", files).action == "sql.delete_all"


def test_psql_f_unreadable_is_opaque() -> None:
    f = one("psql -f missing.sql app", cwd="/srv")
    assert (f.action, f.object, str(f.severity)) == ("shell.opaque", "/srv/missing.sql", "low")
    assert f.detail == "cannot read /srv/missing.sql"


def test_psql_unknown_c_is_opaque() -> None:
    f = one('psql -c "$SQL" app')
    assert f.action == "shell.opaque" and "cannot be known" in f.detail


def test_partly_unknown_sql_word() -> None:
    got = brief('for t in a b; do psql -c "DROP TABLE $t"; done')
    assert got == [("sql.drop_table", "?", "high"), ("shell.opaque", "DROP TABLE $t", "low")]
    f = run('psql -c "DELETE FROM orders WHERE id = $ID"')[0]
    assert (f.action, f.object, str(f.severity)) == ("sql.delete", "orders", "low")
    assert "partly-unknown" in f.tags
    got = brief("xargs -I{} psql -c 'TRUNCATE {}' < tables.txt", cwd="/srv")
    assert got[0] == ("sql.truncate", "?", "high")


def test_psql_stdin_pipe_heredoc_herestring_and_redirect() -> None:
    assert brief("echo 'TRUNCATE sessions' | psql app") == [("sql.truncate", "sessions", "high")]
    assert brief("printf 'DROP TABLE %s;' users | psql") == [("sql.drop_table", "users", "high")]
    assert brief("psql app <<'EOF'\nBEGIN;\nDELETE FROM t;\nCOMMIT;\nEOF") == [
        ("sql.delete_all", "t", "high")
    ]
    assert brief("psql app <<< 'DROP SCHEMA app CASCADE'") == [("sql.drop_schema", "app", "high")]
    files = {"/srv/drop.sql": "DROP TABLE old_orders;"}
    assert brief("psql app < drop.sql", files) == [("sql.drop_table", "old_orders", "high")]
    assert brief("cat /srv/drop.sql | psql app", files) == [
        ("sql.drop_table", "old_orders", "high")
    ]


def test_psql_stdin_evidence_is_the_producer() -> None:
    line = "echo 'DROP TABLE t' | psql"
    assert one(line).evidence.text(line) == "echo 'DROP TABLE t'"


def test_psql_stdin_unknown_is_opaque() -> None:
    f = one("curl -s https://x/y.sql | psql app")
    assert f.action == "shell.opaque" and f.detail == "SQL on stdin from pipe:curl cannot be known"


def test_psql_interactive_and_read_only_are_quiet() -> None:
    assert run("psql app") == []
    assert run("psql -h prod-db -U app") == []
    assert run("psql -c 'SELECT * FROM users' app") == []
    assert run("psql -l") == []
    assert run("echo 'SELECT 1' | psql") == []
    assert run("grep -r 'DROP TABLE' migrations/") == []


def test_psql_include_files() -> None:
    files = {
        "/srv/main.sql": "\\i sub/one.sql\n\\ir two.sql\n",
        "/srv/sub/one.sql": "DROP TABLE one;",
        "/srv/sub/two.sql": "DROP TABLE two;",  # \ir: relative to main.sql's folder? no: sub/
        "/srv/two.sql": "DROP TABLE two_root;",
    }
    got = brief("psql -f main.sql", files, cwd="/srv")
    assert got == [("sql.drop_table", "one", "high"), ("sql.drop_table", "two_root", "high")]
    files["/srv/sub/nested.sql"] = "\\ir two.sql\n"
    got = brief("psql -f sub/nested.sql", files, cwd="/srv")
    assert got == [("sql.drop_table", "two", "high")]


def test_psql_include_cycle_and_missing_file() -> None:
    files = {"/srv/a.sql": "\\i a.sql\nDROP TABLE t;"}
    assert brief("psql -f a.sql", files, cwd="/srv") == [("sql.drop_table", "t", "high")]
    got = brief("psql -c '\\i nothere.sql'", {}, cwd="/srv")
    assert got == [("shell.opaque", "/srv/nothere.sql", "low")]


def test_psql_shell_escape_is_analyzed_as_shell() -> None:
    got = brief("psql app <<'EOF'\nSELECT 1;\n\\! rm -rf /var/lib/postgresql\nEOF")
    assert ("fs.delete_recursive", "/var/lib/postgresql", "high") in got
    got = brief("psql -c '\\! rm -rf /var/lib/postgresql'")
    assert got == [("fs.delete_recursive", "/var/lib/postgresql", "high")]


def test_psql_connect_switches_the_target() -> None:
    found = run(
        "psql -h dev-db app <<'EOF'\nDROP TABLE a;\n\\c prod_app deploy prod-db\nDROP TABLE b;\nEOF"
    )
    assert [(f.object, target(f)["db_host"], target(f)["db_name"]) for f in found] == [
        ("a", "dev-db", "app"),
        ("b", "prod-db", "prod_app"),
    ]
    assert target(found[1])["db_user"] == "deploy"


def test_psql_connect_with_url() -> None:
    found = run("psql -c '\\c postgresql://u@prod-db:6432/app' -c 'TRUNCATE t'")
    assert target(found[0])["db_host"] == "prod-db" and target(found[0])["db_port"] == "6432"


def test_psql_gexec_and_variables() -> None:
    got = brief(
        "psql <<'EOF'\nSELECT format('DROP TABLE %I', tablename) FROM pg_tables \\gexec\nEOF"
    )
    assert ("sql.dynamic", "query output", "low") in got
    assert ("sql.drop_table", "?", "high") in got
    assert brief("psql -v t=users -c 'DROP TABLE :t'") == [("sql.drop_table", "users", "high")]


# ------------------------------------------------------------------ psql targets


def test_target_from_url_has_no_password() -> None:
    f = one("psql postgres://app:hunter2@prod-db.internal:5433/app -c 'DROP TABLE t'")
    t = target(f)
    assert t["db_host"] == "prod-db.internal" and t["db_port"] == "5433" and t["db_name"] == "app"
    assert t["db_url"] == "postgresql://app@prod-db.internal:5433/app"
    assert "hunter2" not in str(t) + f.detail


def test_target_from_variable_url() -> None:
    url = "postgres://u:pw@prod-db.internal/app"
    f = one('psql "$DATABASE_URL" -c "DROP DATABASE app"', variables={"DATABASE_URL": url})
    assert target(f)["db_host"] == "prod-db.internal"
    assert f.detail == "DROP DATABASE app on prod-db.internal/app"


def test_target_unknown_url() -> None:
    f = one('psql "$DATABASE_URL" -c "DROP DATABASE app"')
    assert target(f)["db_host"] == "?"
    assert "unknown-target" in f.tags


def test_target_from_conninfo_and_options() -> None:
    f = one("psql 'host=db1 port=5439 dbname=shop user=ro' -c 'TRUNCATE t'")
    assert {k: target(f)[k] for k in ("db_host", "db_port", "db_name", "db_user")} == {
        "db_host": "db1", "db_port": "5439", "db_name": "shop", "db_user": "ro"
    }  # fmt: skip
    f = one("psql -h db2 -p 5440 -d shop2 -U admin -c 'TRUNCATE t'")
    assert (target(f)["db_host"], target(f)["db_port"], target(f)["db_name"]) == (
        "db2",
        "5440",
        "shop2",
    )
    assert target(f)["db_user"] == "admin"
    f = one("psql -h db3 shop3 bob -c 'TRUNCATE t'")
    assert (target(f)["db_name"], target(f)["db_user"]) == ("shop3", "bob")


def test_target_from_pg_env() -> None:
    f = one("PGHOST=prod-db PGDATABASE=app psql -c 'DROP TABLE t'")
    assert (target(f)["db_host"], target(f)["db_name"]) == ("prod-db", "app")
    f = one("psql -c 'DROP TABLE t'", variables={"PGHOST": "stage-db", "PGPORT": "6000"})
    assert (target(f)["db_host"], target(f)["db_port"]) == ("stage-db", "6000")
    f = one("PGHOST=a psql -h b -c 'DROP TABLE t'")
    assert target(f)["db_host"] == "b"  # an option wins over the environment


def test_target_from_service_file() -> None:
    conf = "[prod]\nhost=prod-db.internal\ndbname=app\nuser=deploy\npassword=x\n"
    files = {"/home/op/.pg_service.conf": conf}
    f = one("PGSERVICE=prod psql -c 'DROP TABLE t'", files)
    t = target(f)
    assert (t["db_host"], t["db_name"], t["db_user"], t["db_service"]) == (
        "prod-db.internal", "app", "deploy", "prod"
    )  # fmt: skip
    f = one("psql service=prod -c 'DROP TABLE t'", {"/etc/postgresql-common/pg_service.conf": conf})
    assert target(f)["db_host"] == "prod-db.internal"
    files = {"/opt/svc.conf": conf}
    f = one("PGSERVICEFILE=/opt/svc.conf psql 'service=prod' -c 'DROP TABLE t'", files)
    assert target(f)["db_host"] == "prod-db.internal"


def test_target_local_socket_is_the_machine() -> None:
    f = one("sudo -u postgres psql -c 'DROP DATABASE app'", hostname="prod-db-1")
    t = target(f)
    assert (t["db_host"], t["db_socket"], t["hostname"]) == ("localhost", "yes", "prod-db-1")
    assert (t["db_user"], t["db_name"]) == ("postgres", "postgres")


def test_target_over_ssh_and_kubectl() -> None:
    f = one("ssh prod-db-1 \"psql -c 'DROP TABLE t' app\"")
    t = target(f)
    assert (t["kind"], t["ssh_host"], t["db_host"], t["db_name"]) == (
        "db",
        "prod-db-1",
        "localhost",
        "app",
    )
    found = run("kubectl --context prod-eu exec -it pg-0 -- psql -c 'TRUNCATE t'")
    (f,) = [f for f in found if f.action == "sql.truncate"]
    assert (target(f)["kube_context"], target(f)["db_via"]) == ("prod-eu", "kube")
    f = one("ssh bastion \"psql -h db.internal -c 'TRUNCATE t'\"")
    assert "ssh_host" not in target(f)  # the database is elsewhere


# ------------------------------------------------------------------ mysql / mariadb


def test_mysql_execute_and_target() -> None:
    f = one("mysql -h mysql-prod -P 3307 -u root -pS3cret shop -e 'DROP TABLE orders'")
    t = target(f)
    assert (f.action, f.object) == ("sql.drop_table", "orders")
    assert (t["db_engine"], t["db_host"], t["db_port"], t["db_name"], t["db_user"]) == (
        "mysql", "mysql-prod", "3307", "shop", "root"
    )  # fmt: skip
    assert "S3cret" not in str(t)
    f = one("mariadb --execute='DROP SCHEMA shop' --host=m1 --database=x")
    assert (f.action, f.object, target(f)["db_host"]) == ("sql.drop_database", "shop", "m1")


def test_mysql_stdin_source_use_and_defaults() -> None:
    files = {
        "/srv/dump.sql": "DROP TABLE IF EXISTS `orders`;\nCREATE TABLE `orders` (id int);\n",
        "/srv/my.cnf": "[client]\nhost=db-from-cnf\nuser=me\n",
    }
    assert brief("mysql shop < dump.sql", files, cwd="/srv") == [
        ("sql.drop_table", "orders", "high")
    ]
    got = run("mysql -e 'source /srv/dump.sql' shop", files)
    assert [(f.action, f.object) for f in got] == [("sql.drop_table", "orders")]
    f = one("mysql --defaults-file=/srv/my.cnf -e 'TRUNCATE t'", files)
    assert target(f)["db_host"] == "db-from-cnf"
    f = one("MYSQL_HOST=env-db mysql -e 'TRUNCATE t'")
    assert target(f)["db_host"] == "env-db"
    found = run("mysql <<'EOF'\nuse prod_shop\nDELETE FROM carts;\nEOF")
    assert target(found[0])["db_name"] == "prod_shop"


def test_mysql_home_my_cnf_and_safe_updates() -> None:
    files = {"/home/op/.my.cnf": "[client]\nhost=home-db\n"}
    assert target(one("mysql -e 'TRUNCATE t'", files))["db_host"] == "home-db"
    f = one("mysql --safe-updates -e 'DELETE FROM t'")
    assert (f.action, str(f.severity)) == ("sql.delete_all", "low")
    assert "safe-updates" in f.tags


def test_mysql_quiet() -> None:
    assert run("mysql shop") == []
    assert run("mysql -e 'SELECT * FROM t' shop") == []
    assert run("mysqldump --all-databases") == []


# ------------------------------------------------------------------ sqlite3


def test_sqlite3_sql_argument_and_target() -> None:
    f = one("sqlite3 data/app.db 'DELETE FROM users'", cwd="/srv")
    t = target(f)
    assert (f.action, t["db_engine"], t["db_name"], t["hostname"]) == (
        "sql.delete_all", "sqlite", "/srv/data/app.db", "host-1"
    )  # fmt: skip


def test_sqlite3_stdin_read_and_shell() -> None:
    files = {"/srv/x.sql": "DROP TABLE t;"}
    assert brief("sqlite3 app.db < x.sql", files, cwd="/srv") == [("sql.drop_table", "t", "high")]
    assert brief("sqlite3 app.db '.read x.sql'", files, cwd="/srv") == [
        ("sql.drop_table", "t", "high")
    ]
    got = brief("sqlite3 app.db '.shell rm -rf /srv/data'")
    assert ("fs.delete_recursive", "/srv/data", "high") in got


def test_sqlite3_quiet_forms() -> None:
    assert run("sqlite3 :memory: 'DROP TABLE t'") == []
    assert run("sqlite3 -readonly app.db 'DELETE FROM t'") == []
    assert run("sqlite3 app.db 'SELECT * FROM t'") == []
    assert run("sqlite3 app.db") == []


def test_sqlite3_open_switches() -> None:
    found = run("sqlite3 <<'EOF'\nDROP TABLE mem;\n.open /srv/prod.db\nDROP TABLE disk;\nEOF")
    assert [(f.object, target(f)["db_name"]) for f in found] == [("disk", "/srv/prod.db")]


# ------------------------------------------------------------------ clickhouse, cockroach


def test_clickhouse() -> None:
    f = one("clickhouse-client --host ch-prod --query 'TRUNCATE TABLE events'")
    assert (f.action, f.object, target(f)["db_host"], target(f)["db_engine"]) == (
        "sql.truncate", "events", "ch-prod", "clickhouse"
    )  # fmt: skip
    f = one("clickhouse client -q 'ALTER TABLE events DELETE WHERE 1'")
    assert f.action == "sql.delete_all"
    assert run("clickhouse-client -q 'SELECT count() FROM events'") == []
    assert run("clickhouse server") == []


def test_cockroach() -> None:
    f = one("cockroach sql --url postgresql://root@crdb-prod:26257/bank -e 'DROP TABLE accounts'")
    assert (f.object, target(f)["db_host"], target(f)["db_engine"]) == (
        "accounts",
        "crdb-prod",
        "cockroach",
    )
    f = one("cockroach sql --host crdb:26258 -d bank -e 'TRUNCATE t'")
    assert (target(f)["db_host"], target(f)["db_port"], target(f)["db_name"]) == (
        "crdb",
        "26258",
        "bank",
    )
    assert run("cockroach start --insecure") == []


# ------------------------------------------------------------------ server tools


def test_dropdb_dropuser() -> None:
    f = one("dropdb -h prod-db --if-exists app")
    assert (f.action, f.object, str(f.severity)) == ("sql.drop_database", "app", "high")
    assert (target(f)["db_host"], target(f)["db_name"]) == ("prod-db", "app")
    f = one("dropuser -U admin -h 127.0.0.1 --port 4321 deploy")
    assert (f.action, f.object, target(f)["db_port"]) == ("sql.drop_other", "deploy", "4321")
    assert run("dropdb --help") == []


def test_pg_restore() -> None:
    assert brief("pg_restore --clean --dbname appdb archive.dump") == [
        ("sql.write", "appdb", "high")
    ]
    got = brief("pg_restore -c -C -d postgres archive.dump")
    assert got == [("sql.drop_database", "database in archive.dump", "high")]
    assert brief("pg_restore -d appdb archive.dump") == [("sql.write", "appdb", "low")]
    assert run("pg_restore --list archive.dump") == []
    assert run("pg_restore archive.dump > out.sql") == []


def test_pg_ctl() -> None:
    f = one("pg_ctl -D /var/lib/postgresql/15/main stop -m immediate", hostname="prod-db-1")
    assert (f.action, f.object, str(f.severity)) == (
        "sql.terminate", "/var/lib/postgresql/15/main", "high"
    )  # fmt: skip
    assert target(f)["hostname"] == "prod-db-1"
    assert brief("pg_ctl -D data stop") == [("service.stop", "data", "high")]
    assert brief("pg_ctl --pgdata data restart") == [("service.restart", "data", "low")]
    assert run("pg_ctl -D data status") == []
    assert run("pg_ctl -D data start") == []
    assert brief("pg_ctlcluster 15 main stop --force") == [("sql.terminate", "15/main", "high")]
    assert brief("pg_dropcluster --stop 15 main") == [("sql.drop_database", "15/main", "high")]


def test_mysqladmin() -> None:
    f = one("mysqladmin -h db1 -u root -pX -f drop shop")
    assert (f.action, f.object, target(f)["db_host"], target(f)["db_name"]) == (
        "sql.drop_database", "shop", "db1", "shop"
    )  # fmt: skip
    assert brief("mysqladmin shutdown") == [("sql.terminate", "localhost", "high")]
    assert brief("mysqladmin kill 12,13") == [
        ("sql.terminate", "12", "high"),
        ("sql.terminate", "13", "high"),
    ]
    assert run("mysqladmin status") == []
    assert run("mysqladmin create shop") == []


def test_maintenance_tools() -> None:
    assert brief("vacuumdb --full -t users app") == [("sql.write", "users", "low")]
    assert run("vacuumdb --analyze app") == []
    assert brief("reindexdb app") == [("sql.write", "app", "low")]
    assert run("reindexdb --concurrently app") == []
    assert run("pg_dump app > out.sql") == []
    assert run("pg_dumpall -h prod-db > all.sql") == []


# ------------------------------------------------------------------ hand-built invocations

LOCAL = Target("local", (("hostname", "host-1"),))


def invoke(
    line: str, stdin: Stdin | None = None, files: dict[str, str] | None = None
) -> list[Finding]:
    argv = spaced_words(line)
    inv = Invocation(argv[0].value, tuple(argv), Span(0, len(line)), LOCAL, stdin=stdin)
    ctx = Context(line, factories.snapshot(), Facts(read_file=(files or {}).get),
                  lambda text, t, span: [])  # fmt: skip
    return findings(inv, ctx)


def test_stdin_known_source_unknown_text() -> None:
    got = invoke("psql app", Stdin(None, "file:/srv/secret.sql", Span(9, 20)))
    assert [(f.action, f.detail) for f in got] == [
        ("shell.opaque", "SQL on stdin from /srv/secret.sql cannot be known")
    ]
    assert got[0].evidence == Span(9, 20)


def test_stdin_text_from_hand_built_invocation() -> None:
    got = invoke("mysql shop", Stdin("DELETE FROM t WHERE 1=1;", "heredoc", Span(11, 20)))
    assert [(f.action, f.object, f.evidence) for f in got] == [
        ("sql.delete_all", "t", Span(11, 20))
    ]


def test_unknown_file_word_is_opaque() -> None:
    got = invoke("psql -f $F")
    assert [f.action for f in got] == ["shell.opaque"]


def test_snapshot_is_not_needed_for_quiet_lines() -> None:
    assert invoke("psql -c SELECT") == []
    assert Snapshot().cwd == "/"
