"""Differential test: guardsh's SQL statement splitter against sqlparse.

guardsh walks SQL with its own single-regex lexer (sqlparse's lexer costs
about 15x the 10,000-line-migration budget, see parse/sqllex.py); sqlparse
remains the reference for where statements begin and end. Both split the
same scripts, built from fragments that hide `;` in strings, comments,
dollar quotes and quoted identifiers, and must agree statement by statement.
"""

from __future__ import annotations

import random

import pytest
import sqlparse

from guardsh.parse.sqllex import POSTGRES, mask, statements

FRAGMENTS = [
    "SELECT 1",
    "SELECT ';' AS semi",
    "SELECT 'it''s; fine'",
    'SELECT "odd;name" FROM t',
    "DELETE FROM users WHERE note = 'drop table; x'",
    "UPDATE t SET a = $$;$$ WHERE id = 1",
    "DO $body$ BEGIN PERFORM 1; END $body$",
    "DROP TABLE IF EXISTS a, b CASCADE",
    "TRUNCATE sessions",
    "INSERT INTO t VALUES (1, 'a;b')",
    "SELECT 1 /* a ; comment */",
    "SELECT 2 -- trailing ; comment\n",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
    "SELECT E'a\\'b;c'",
]


def _ours(text: str) -> list[str]:
    masked, _ = mask(text, POSTGRES)
    return [_norm(text[s:e]) for s, e in statements(masked) if _norm(text[s:e])]


def _reference(text: str) -> list[str]:
    return [_norm(s) for s in sqlparse.split(text) if _norm(s)]


def _norm(stmt: str) -> str:
    text = sqlparse.format(stmt, strip_comments=True).strip()
    return text.rstrip(";").strip()


def _scripts(n: int) -> list[str]:
    rng = random.Random(20261128)
    out = []
    for _ in range(n):
        parts = rng.sample(FRAGMENTS, rng.randint(1, 5))
        seps = [rng.choice([";", ";\n", " ;  ", ";\n\n"]) for _ in parts]
        out.append("".join(p + s for p, s in zip(parts, seps, strict=True)))
    return out


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_each_fragment_is_one_statement(fragment: str) -> None:
    assert _ours(fragment + ";") == _reference(fragment + ";")


@pytest.mark.parametrize("script", _scripts(150))
def test_scripts_split_like_sqlparse(script: str) -> None:
    assert _ours(script) == _reference(script)


def test_escape_string_where_sqlparse_is_wrong() -> None:
    # E'\\'';' is one literal (backslash, quote, semicolon); sqlparse ends the
    # statement inside it. PostgreSQL agrees with guardsh.
    script = "SELECT E'\\\\'';';SELECT 1;"
    assert _ours(script) == ["SELECT E'\\\\'';'", "SELECT 1"]
