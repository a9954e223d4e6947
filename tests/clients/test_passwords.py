"""Passwords typed into a client: kept out of the history file and the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardsh.clients import passwords
from guardsh.clients.editor import open_history
from guardsh.model import Span


@pytest.mark.parametrize(
    ("kind", "text", "hidden"),
    [
        ("redis", "AUTH s3cret", ["s3cret"]),
        ("redis", "auth alice 's3 cret'", ["'s3 cret'"]),
        ("redis", "HELLO 3 AUTH alice s3cret SETNAME x", ["s3cret"]),
        ("redis", "CONFIG SET requirepass s3cret", ["s3cret"]),
        ("redis", 'config set maxmemory 1gb masterauth "s3 c"', ['"s3 c"']),
        ("redis", "ACL SETUSER bob on >p1 >p2 ~* +@all", ["p1", "p2"]),
        ("redis", "ACL SETUSER bob #0123abcd", ["0123abcd"]),
        ("redis", "MIGRATE h 6379 k 0 5000 AUTH2 alice s3cret", ["s3cret"]),
        ("redis", "GET auth", []),
        ("redis", "SET requirepass x", []),
        ("redis", "ACL WHOAMI", []),
        ("psql", "ALTER ROLE app PASSWORD 'it''s';", ["'it''s'"]),
        ("psql", "CREATE USER bob WITH LOGIN PASSWORD 'x';", ["'x'"]),
        ("psql", "SELECT 'PASSWORD';", []),
        ("mysql", "CREATE USER b IDENTIFIED BY 'x';", ["'x'"]),
        ("mysql", 'ALTER USER b IDENTIFIED WITH mysql_native_password BY "x";', ['"x"']),
        ("mysql", "SET PASSWORD FOR b = PASSWORD('x');", ["'x'"]),
        ("mongo", "db.auth('u', 'p')", ["'p'"]),
        ("mongo", 'db.createUser({user: "u", pwd: "p", roles: []})', ['"p"']),
        ("mongo", 'db.changeUserPassword("u", "p")', ['"p"']),
        ("sqlite", "SELECT 1;", []),
    ],
)
def test_what_is_a_secret(kind: str, text: str, hidden: list[str]) -> None:
    assert [text[a:b] for a, b in passwords.spans(kind, text)] == hidden


def test_redact_and_remap() -> None:
    line = "redis-cli> AUTH alice s3cret"
    shown, edits = passwords.redact(line, [(22, 28)])
    assert shown == "redis-cli> AUTH alice ***"
    assert passwords.remap(Span(11, 28), edits) == Span(11, 25)
    assert passwords.remap(Span(0, 5), edits) == Span(0, 5)
    assert passwords.remap(Span(24, 26), edits) == Span(22, 25)


def test_the_history_file_never_holds_a_secret(tmp_path: Path) -> None:
    path = str(tmp_path / "h" / "redis-x")
    h = open_history(path, keep=lambda s: not passwords.spans("redis", s))
    h.append_string("GET k")
    h.append_string("AUTH alice s3cret")
    assert "s3cret" not in Path(path).read_text()
    assert "GET k" in Path(path).read_text()
    assert list(h.get_strings()) == ["GET k"]
