"""psql under guard, on a real terminal, against a real PostgreSQL server."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import time
from pathlib import Path

import pexpect
import pytest

from tests.clients.conftest import Start, audit_records, prod_policy
from tests.servers import PgServer
from tests.shell.term import CTRL_C, CTRL_Z, Term

pytestmark = [pytest.mark.pty, pytest.mark.server]


def prompt(t: Term, badge: str, db: str, suffix: str = "=#") -> None:
    """The client's prompt behind guardsh's badge, ready for keys."""
    t.expect(
        re.compile(
            rf"\[{badge}\] db:127\.0\.0\.1/{re.escape(db)} {re.escape(db)}{re.escape(suffix)}"
        )
    )
    time.sleep(0.1)


def psql_argv(pg: PgServer, db: str, user: str | None = None) -> list[str]:
    return [str(pg.bin_dir / "psql"), "-h", pg.host, "-p", str(pg.port), "-U", user or pg.user, db]


def has_table(pg: PgServer, db: str, table: str) -> bool:
    return pg.psql(f"SELECT to_regclass('{table}') IS NOT NULL", db=db).strip() == "t"


@pytest.fixture
def app_db(pg_server: PgServer) -> str:
    pg_server.create_database("clients_app")
    pg_server.psql(
        "CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2)", db="clients_app"
    )
    return "clients_app"


def test_drop_table_card_decline_then_confirm(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path, audit_log: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE users;")
    t.expect_exact("DROP TABLE users")
    t.expect_exact("type `users` to run it")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent (ctrl-c)")
    prompt(t, "PROD", app_db)
    assert has_table(pg_server, app_db, "users"), "a declined DROP reached the server"
    # the session is still there, and the client's input line is empty
    t.line("SELECT count(*) AS n FROM users;")
    t.expect(r"n\s+-+\s+2\s+\(1 row\)")
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE users;")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.line("users")
    t.expect_exact("DROP TABLE\r\n".replace("\r", ""))
    prompt(t, "PROD", app_db)
    assert not has_table(pg_server, app_db, "users")
    t.line("\\q")
    t.child.expect(pexpect.EOF, timeout=10)
    t.child.close()
    assert t.child.exitstatus == 0
    phases = [
        (r["phase"], r["line"]) for r in audit_records(audit_log) if "DROP" in str(r.get("line"))
    ]
    assert ("declined", "psql> DROP TABLE users;") in phases
    assert ("intent", "psql> DROP TABLE users;") in phases
    assert ("result", "psql> DROP TABLE users;") in phases
    result = next(
        r for r in audit_records(audit_log) if r["phase"] == "result" and "DROP" in r["line"]
    )
    assert result["exit"] == 0 and result["environment"] == "production"


def test_select_runs_without_card_or_delay(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path, audit_log: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    start = len(t.text)
    t0 = time.monotonic()
    t.line("SELECT 40 + 2 AS answer;")
    t.expect(r"answer\s+-+\s+42\s+\(1 row\)")
    elapsed = time.monotonic() - t0
    prompt(t, "PROD", app_db)
    assert "guardsh" not in t.text[start:]
    assert elapsed < 1.0, f"SELECT took {elapsed:.3f}s through the proxy"
    # recorded as the shell records a command: its intent, then its result
    line = "psql> SELECT 40 + 2 AS answer;"
    got = [(r["phase"], r["environment"], r.get("exit"))
           for r in audit_records(audit_log) if r.get("line") == line]  # fmt: skip
    assert got == [("intent", "production", None), ("result", "production", 0)]


def test_multiline_statement(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.line("SELECT 'a;b' AS x,")  # the `;` inside quotes does not end it
    time.sleep(0.2)
    t.line("  7 AS y")
    time.sleep(0.2)
    t.line(";")
    t.expect(r"a;b \|\s+7\s+\(1 row\)")
    prompt(t, "PROD", app_db)
    assert "->" not in t.text.split("(1 row)")[-1].split("\n")[0]
    t.line("DELETE FROM users")
    time.sleep(0.2)
    t.line("WHERE true;")
    t.expect_exact("DELETE FROM users")  # the card shows the whole statement
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, "PROD", app_db)
    assert pg_server.psql("SELECT count(*) FROM users", db=app_db).strip() == "2"
    t.line("SELECT count(*) AS n FROM users;")  # psql's buffer held nothing of the DELETE
    t.expect(r"n\s+-+\s+2\s+\(1 row\)")


def test_password_prompt_passes_through(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    pg_server.psql("DROP ROLE IF EXISTS guard_pw; CREATE ROLE guard_pw LOGIN PASSWORD 's3cret-pw'")
    hba = pg_server.data_dir / "pg_hba.conf"
    rule = "host all guard_pw 127.0.0.1/32 scram-sha-256\n"
    if rule not in hba.read_text():
        hba.write_text(rule + hba.read_text())
        pg_server.psql("SELECT pg_reload_conf()")
    t = client(psql_argv(pg_server, app_db, user="guard_pw"),
               policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)))  # fmt: skip
    t.expect_exact("Password for user guard_pw:")
    time.sleep(0.2)
    t.line("s3cret-pw")
    prompt(t, "PROD", app_db, "=>")
    assert "s3cret-pw" not in t.text, "the password was echoed"
    t.line("SELECT current_user;")
    t.expect(r"guard_pw\s+\(1 row\)")


def test_connect_switches_target(client: Start, pg_server: PgServer, tmp_path: Path) -> None:
    pg_server.create_database("scratch_dev")
    pg_server.create_database("prod_billing")
    for db in ("scratch_dev", "prod_billing"):
        pg_server.psql("CREATE TABLE t (id int)", db=db)
    policy = prod_policy(tmp_path / "p.yaml", names=("prod_*",), dev_names=("scratch_*",))
    t = client(psql_argv(pg_server, "scratch_dev"), policy=policy)
    prompt(t, "DEV", "scratch_dev")
    t.line("DROP TABLE t;")  # development: a warning, no card
    t.expect_exact("guardsh: warning")
    prompt(t, "DEV", "scratch_dev")
    assert not has_table(pg_server, "scratch_dev", "t")
    t.line("\\c no_such_database_here")
    t.expect_exact("Previous connection kept")
    prompt(t, "DEV", "scratch_dev")
    t.line("\\c prod_billing")
    t.expect_exact('You are now connected to database "prod_billing"')
    prompt(t, "PROD", "prod_billing")
    t.line("DROP TABLE t;")
    t.expect_exact("Type `t` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    assert has_table(pg_server, "prod_billing", "t")


def test_ctrl_c_cancels_a_running_query(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.line("SELECT pg_sleep(30);")
    time.sleep(0.7)
    t0 = time.monotonic()
    t.send(CTRL_C)
    t.expect_exact("canceling statement due to user request", timeout=10)
    assert time.monotonic() - t0 < 5
    prompt(t, "PROD", app_db)
    t.line("SELECT 'alive' AS still;")
    t.expect(r"alive\s+\(1 row\)")


def test_pager_passes_through(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    policy = prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,))
    t = client(psql_argv(pg_server, app_db), policy=policy, PAGER="less")
    prompt(t, "PROD", app_db)
    t.line("SELECT g FROM generate_series(1, 300) g;")
    t.expect(r"\n\s+1\n")  # the pager shows the first page
    time.sleep(0.3)
    assert "(300 rows)" not in t.text
    t.send(">")  # less: to the end, a key the proxy passes through untouched
    t.expect_exact("(300 rows)")
    time.sleep(0.2)
    t.send("q")
    prompt(t, "PROD", app_db)
    t.line("SELECT 5 AS five;")
    t.expect(r"five\s+-+\s+5")


def test_typed_ahead_keys_do_not_answer_the_card(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.send("DROP TABLE users;\rusers\r")  # all at once, before the card is there
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.5)
    assert has_table(pg_server, app_db, "users"), "typed-ahead keys answered the card"
    t.send(CTRL_C)
    t.expect_exact("not sent (ctrl-c)")
    prompt(t, "PROD", app_db)
    assert has_table(pg_server, app_db, "users")


@pytest.mark.parametrize(
    "wrap", ["{}", "time {}", "bash -c '{}'", "sh -c 'exec {}'", "command {}", "exec {}",
             "time command -p {}", "bash -c 'command {}'"]
)  # fmt: skip
def test_guardsh_c_on_a_terminal_runs_the_client_under_guard(
    command: Start, pg_server: PgServer, app_db: str, tmp_path: Path, wrap: str
) -> None:
    line = wrap.format(shlex.join(psql_argv(pg_server, app_db)))
    t = command(line, policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)))
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE users;")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent (ctrl-c)")
    prompt(t, "PROD", app_db)
    assert has_table(pg_server, app_db, "users")
    t.line("\\q")
    if wrap.startswith("time"):
        t.expect(r"real\t\d+m[\d.]+s\nuser\t")
    t.child.expect(pexpect.EOF, timeout=10)
    t.child.close()
    assert t.child.exitstatus == 0


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("su") is None, reason="su to another user needs root"
)
def test_su_user_c_runs_the_client_under_guard(
    command: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user")
    line = f"su postgres -c {shlex.quote(shlex.join(psql_argv(pg_server, app_db)))}"
    t = command(line, policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)))
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE users;")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent (ctrl-c)")
    prompt(t, "PROD", app_db)
    assert has_table(pg_server, app_db, "users")
    t.line("SELECT current_user AS who;")
    t.expect(r"who\s+-+\s+postgres")


def test_a_psql_variable_names_the_object_to_type(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.line("\\set t users")
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE :t;")
    t.expect_exact("DROP TABLE users on")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE :nowhere;")  # a variable guardsh did not see set
    t.expect_exact("Type `production` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    assert has_table(pg_server, app_db, "users")


def test_the_card_shows_the_whole_statement_and_marks_what_acts(
    client: Start, pg_server: PgServer, app_db: str, tmp_path: Path
) -> None:
    pg_server.psql("CREATE TABLE t2 (id int)", db=app_db)
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.line("DROP TABLE")
    time.sleep(0.2)
    t.line("t2;")
    t.expect(r"\$ psql> DROP TABLE\n +\^{10}\n  > t2;\n +\^{3}\n")
    t.expect_exact("Type `t2` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, "PROD", app_db)
    t.line("SELECT 1 AS one; DROP TABLE users;")
    m = t.expect(r"\$ psql> SELECT 1 AS one; DROP TABLE users;\n( +\^+)\n")
    assert m.group(1) == " " * len("  $ psql> SELECT 1 AS one; ") + "^" * len("DROP TABLE users;")
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    assert has_table(pg_server, app_db, "t2") and has_table(pg_server, app_db, "users")


def test_guardsh_c_records_the_start_in_the_client_s_environment(
    command: Start, pg_server: PgServer, app_db: str, tmp_path: Path, audit_log: Path
) -> None:
    import socket

    policy = prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,))
    policy.write_text(policy.read_text() + "  - name: staging\n    color: yellow\n"
                      f"    match:\n      hostname: [{socket.gethostname()!r}]\n")  # fmt: skip
    line = shlex.join(psql_argv(pg_server, app_db))
    t = command(line, policy=policy, GUARDSH_AUDIT_LOG=str(audit_log))
    prompt(t, "PROD", app_db)
    t.line("SELECT 1 AS one;")
    t.expect(r"one\s+-+\s+1")
    prompt(t, "PROD", app_db)
    t.line("\\q")
    t.child.expect(pexpect.EOF, timeout=10)
    start = [(r["phase"], r["environment"]) for r in audit_records(audit_log) if r["line"] == line]
    assert start == [("intent", "production"), ("result", "production")]


def test_ctrl_z_is_ignored(client: Start, pg_server: PgServer, app_db: str, tmp_path: Path) -> None:
    t = client(
        psql_argv(pg_server, app_db),
        policy=prod_policy(tmp_path / "p.yaml", ports=(pg_server.port,)),
    )
    prompt(t, "PROD", app_db)
    t.send(CTRL_Z)
    time.sleep(0.2)
    t.line("SELECT 3 AS three;")
    t.expect(r"three\s+-+\s+3")
    prompt(t, "PROD", app_db)
    assert "^Z" not in t.text and "->" not in t.text
