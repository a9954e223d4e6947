"""Statement completion per client, and what stays in the client's buffer."""

from __future__ import annotations

import pytest

from guardsh.clients.statements import Grammar


@pytest.mark.parametrize(
    ("kind", "text", "complete"),
    [
        ("psql", "SELECT 1;", True),
        ("psql", "SELECT 1", False),
        ("psql", "SELECT ';'", False),  # inside quotes
        ("psql", "SELECT 1 -- ;", False),  # inside a comment
        ("psql", "SELECT 1 /* ; */", False),
        ("psql", "SELECT $$ ; $$", False),  # inside a dollar quote
        ("psql", "DO $$ BEGIN PERFORM 1; END $$;", True),
        ("psql", "SELECT 'open;", False),
        ("psql", "SELECT 1\n\\g", True),
        ("psql", "SELECT 1 \\gx", True),
        ("psql", "\\dt", True),  # backslash commands end at their newline
        ("psql", "\\c other", True),
        ("psql", "SELECT 1; -- done", True),
        ("psql", "", True),
        ("mysql", "SELECT 1;", True),
        ("mysql", "SELECT 1", False),
        ("mysql", "SELECT 1\\G", True),
        ("mysql", "use shop", True),
        ("mysql", "quit", True),
        ("mysql", 'SELECT "a;"', False),
        ("mysql", "SELECT 1 # ;", False),
        ("sqlite", "SELECT 1;", True),
        ("sqlite", ".tables", True),
        ("sqlite", "SELECT 1", False),
        ("sqlite", "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b;", False),
        ("sqlite", "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;", True),
        ("redis", "SET k 'v", True),  # one command per line, always
        ("mongo", "db.users.find()", True),
        ("mongo", "db.users.find({", False),
        ("mongo", "function f() {", False),
        ("mongo", "const s = `a\nb`", True),
        ("mongo", "const s = 'open", False),
        ("mongo", "x = 1 +", False),
        ("mongo", "db.users.find() // }", True),
        ("mongo", "use admin", True),
        ("mongo", "show dbs", True),
    ],
)
def test_complete(kind: str, text: str, complete: bool) -> None:
    assert Grammar(kind).complete(text) is complete


def test_mysql_delimiter_is_followed() -> None:
    g = Grammar("mysql")
    assert g.complete("delimiter //")
    g.sent("delimiter //\n")
    assert not g.complete("CREATE PROCEDURE p() BEGIN SELECT 1; END")
    assert g.complete("CREATE PROCEDURE p() BEGIN SELECT 1; END //")
    g.sent("delimiter ;\n")
    assert g.complete("SELECT 1;")


@pytest.mark.parametrize(
    ("kind", "sent", "pending"),
    [
        ("psql", "SELECT 1;\n", ""),
        ("psql", "SELECT 1\n\\dt\n", "SELECT 1\n"),  # \dt runs; psql keeps SELECT 1
        ("psql", "SELECT 1\n\\g\n", ""),
        ("psql", "DELETE FROM t\n\\r\n", ""),
        ("mysql", "SELECT 1;\n", ""),
        ("redis", "GET k\n", ""),
    ],
)
def test_pending(kind: str, sent: str, pending: str) -> None:
    assert Grammar(kind).pending(sent).strip() == pending.strip()


@pytest.mark.parametrize(
    ("kind", "text", "pieces"),
    [
        ("psql", "SELECT 1 AS one; DROP TABLE users;", ["SELECT 1 AS one;", "DROP TABLE users;"]),
        ("psql", "DROP TABLE\nt2;", ["DROP TABLE\nt2;"]),
        ("psql", "SELECT ';' AS x; -- c;\n\\dt\nDROP TABLE users;",
         ["SELECT ';' AS x;", "\\dt", "DROP TABLE users;"]),
        ("psql", "SELECT 1\n\\g", ["SELECT 1", "\\g"]),
        ("mysql", "use shop\nDROP TABLE t;", ["use shop", "DROP TABLE t;"]),
        ("mysql", "SELECT 1; DELETE FROM t;", ["SELECT 1;", "DELETE FROM t;"]),
        ("sqlite", ".open x.db\nDROP TABLE t;", [".open x.db", "DROP TABLE t;"]),
        ("sqlite", "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;",
         ["CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;"]),
        ("redis", "FLUSHALL", ["FLUSHALL"]),
        ("mongo", "db.a.drop(); db.b.drop()", ["db.a.drop(); db.b.drop()"]),
        ("psql", "  ", []),
    ],
)  # fmt: skip
def test_statements(kind: str, text: str, pieces: list[str]) -> None:
    got = Grammar(kind).statements(text)
    assert [text[a:b] for a, b in got] == pieces
