"""The Guard: statements judged against the client's real target (no terminal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardsh.clients import kinds, targets
from guardsh.clients.session import Guard
from guardsh.model import Facts, Requirement, Snapshot
from guardsh.policy.layers import load_files
from guardsh.policy.schema import Policy

POLICY = """\
environments:
  - name: production
    color: red
    protected: true
    match:
      db_host: ["db.prod.internal"]
      db_name: ["prod_*"]
  - name: development
    color: green
    protected: false
    match:
      db_host: ["dev-db"]
"""


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY)
    return load_files([str(path)])


def snap(**variables: str) -> Snapshot:
    return Snapshot(variables=variables, hostname="ws-1", user="alice", home="/home/alice")


def test_heredoc_line_keeps_the_text() -> None:
    line, start = targets.heredoc_line(
        ["psql", "-h", "db 1"], "SELECT 'GUARDSH_EOF';\nGUARDSH_EOF\n"
    )
    assert line.startswith("psql -h 'db 1' <<'GUARDSH_EOF_'\n")
    assert line[start:].startswith("SELECT")


def test_target_from_argv_and_environment(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "app"], snap(PGHOST="db.prod.internal"), policy, Facts())
    place = g.place()
    assert place.label == "db:db.prod.internal/app"
    assert place.environment == "production" and place.protected and place.color == "red"


def test_drop_asks_select_does_not(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    d = g.judge("DROP TABLE users;")
    assert d.verdict.requirement == Requirement.TYPE and d.verdict.type_word == "users"
    assert d.line == "psql> DROP TABLE users;"
    assert [(f.action, f.object) for f in d.findings] == [("sql.drop_table", "users")]
    assert d.findings[0].evidence.text(d.line) == "DROP TABLE users;"
    ok = g.judge("SELECT * FROM users;")
    assert ok.verdict.requirement == Requirement.ALLOW and not ok.findings
    assert ok.environment == "production"


def test_connect_switch_changes_the_target(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "dev-db", "scratch"], snap(), policy, Facts())
    assert g.place().environment == "development"
    assert g.judge("DROP TABLE t;").verdict.requirement < Requirement.CONFIRM
    g.sent("\\c prod_billing\n")
    assert g.place().label == "db:dev-db/prod_billing"
    assert g.place().environment == "production"
    assert g.judge("DROP TABLE t;").verdict.requirement == Requirement.TYPE
    g.switch_failed()  # "Previous connection kept"
    assert g.place().environment == "development"


def test_pending_buffer_is_analyzed_with_the_next_statement(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    g.sent("DELETE FROM users\n\\dt\n")  # psql runs \dt and keeps the DELETE
    assert g.pending.strip() == "DELETE FROM users"
    d = g.judge(";")
    assert [f.action for f in d.findings] == ["sql.delete_all"]
    g.cancelled()
    assert g.judge(";").verdict.requirement == Requirement.ALLOW


def test_editor_commands_are_opaque(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    d = g.judge("\\e")
    assert [f.action for f in d.findings] == ["shell.opaque"]
    assert "editor" in d.findings[0].tags and d.environment == "production"


@pytest.mark.parametrize(
    ("kind", "argv", "text", "action"),
    [
        (kinds.REDIS, ["redis-cli", "-h", "db.prod.internal"], "FLUSHALL", "redis.flush"),
        (
            kinds.MYSQL,
            ["mysql", "-h", "db.prod.internal", "shop"],
            "TRUNCATE items;",
            "sql.truncate",
        ),
        (
            kinds.MONGO,
            ["mongosh", "mongodb://db.prod.internal/app"],
            "db.users.drop()",
            "mongo.drop",
        ),
    ],
)
def test_other_clients(
    policy: Policy, kind: kinds.Kind, argv: list[str], text: str, action: str
) -> None:
    g = Guard(kind, argv, snap(), policy, Facts())
    d = g.judge(text)
    assert action in [f.action for f in d.findings]
    assert d.environment == "production" and d.verdict.needs_user


def test_redis_select_and_mysql_use_are_followed(policy: Policy) -> None:
    r = Guard(kinds.REDIS, ["redis-cli", "-h", "db.prod.internal"], snap(), policy, Facts())
    r.sent("SELECT 4\n")
    assert r.place().label.endswith("/4")
    assert r.judge("FLUSHDB").findings[0].object == "db 4"
    m = Guard(kinds.MYSQL, ["mysql", "-h", "dev-db", "a"], snap(), policy, Facts())
    m.sent("use prod_shop\n")
    assert m.place().environment == "production"


def test_psql_variables_set_in_the_session_name_the_object(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    g.sent("\\set t users\n")
    d = g.judge("DROP TABLE :t;")
    assert d.verdict.requirement == Requirement.TYPE and d.verdict.type_word == "users"
    assert [f.object for f in d.findings] == ["users"]
    g.sent("\\set t orders\n")
    assert g.judge('DROP TABLE :"t";').verdict.type_word == "orders"


@pytest.mark.parametrize(
    ("sent", "statement"),
    [("", "DROP TABLE :t;"), ("\\set t users\n\\unset t\n", "DROP TABLE :t;"),
     ("", "TRUNCATE :'t';")],
)  # fmt: skip
def test_an_object_guardsh_cannot_know_asks_for_the_environment(
    policy: Policy, sent: str, statement: str
) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    if sent:
        g.sent(sent)
    d = g.judge(statement)
    assert d.verdict.requirement == Requirement.TYPE
    assert d.verdict.type_word == "production"
    assert all("  " not in f.detail for f in d.findings), [f.detail for f in d.findings]


def test_one_unknown_object_beside_known_ones_asks_for_the_environment(policy: Policy) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    d = g.judge("DROP TABLE users; DROP TABLE :t;")
    assert d.verdict.type_word == "production"


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("SELECT 1 AS one; DROP TABLE users;", "DROP TABLE users;"),
        ("DROP TABLE\nt2;", "DROP TABLE\nt2;"),
        ("SELECT 1;\nDELETE FROM users\nWHERE true;", "DELETE FROM users\nWHERE true;"),
        ("DROP TABLE a; SELECT 2; DROP TABLE b;", "DROP TABLE a;|DROP TABLE b;"),
    ],
)
def test_the_evidence_is_the_statement_that_does_it(policy: Policy, text: str, marked: str) -> None:
    g = Guard(kinds.PSQL, ["psql", "-h", "db.prod.internal", "app"], snap(), policy, Facts())
    d = g.judge(text)
    assert d.line == f"psql> {text}"
    assert "|".join(f.evidence.text(d.line) for f in d.findings) == marked


def test_passwords_are_hidden_in_the_decision(policy: Policy) -> None:
    r = Guard(kinds.REDIS, ["redis-cli", "-h", "db.prod.internal"], snap(), policy, Facts())
    d = r.judge("CONFIG SET requirepass s3cret")
    assert d.line == "redis-cli> CONFIG SET requirepass ***"
    assert [f.detail for f in d.findings] == ["CONFIG SET requirepass ***"]
    assert all(f.evidence.end <= len(d.line) for f in d.findings)
    assert r.judge("AUTH alice s3cret").line == "redis-cli> AUTH alice ***"


def test_a_database_file_is_labelled_host_colon_path(policy: Policy) -> None:
    g = Guard(kinds.SQLITE, ["sqlite3", "/data/x.db"], snap(), policy, Facts())
    assert g.place().label == "db:localhost:/data/x.db"
