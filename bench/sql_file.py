"""Benchmark: analyze a generated 10,000-line migration file (budget: <= 50 ms).

The file mixes what real migrations hold: multi-line CREATE TABLE, seed
INSERTs with string literals, comments, CREATE INDEX, ALTER TABLE, scoped
UPDATEs, PL/pgSQL functions in dollar quotes, and one DROP TABLE near the end
(~1,400 statements). The dense files hold one statement per line (10,000
statements): seed INSERTs, scoped UPDATEs, and a mix of INSERT/UPDATE/DELETE.
Each run uses fresh text (a unique comment) so the lru_cache cannot help.

    python3 bench/sql_file.py [--lines 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guardsh.parse.psqlmeta import split_psql
from guardsh.parse.sql import SqlOp, analyze_sql


def migration(lines: int) -> str:
    out: list[str] = []
    i = 0
    while True:
        block = [
            f"-- migration step {i}: add table t{i}",
            f"CREATE TABLE IF NOT EXISTS app.t{i} (",
            "    id bigserial PRIMARY KEY,",
            "    name text NOT NULL DEFAULT '',",
            "    note varchar(200), -- free text; never 'drop table'",
            "    created_at timestamptz NOT NULL DEFAULT now(),",
            "    owner_id bigint REFERENCES app.users(id) ON DELETE CASCADE",
            ");",
            f"INSERT INTO app.t{i} (name, note) VALUES ('alpha', 'it''s fine'), "
            "('beta; gamma', NULL);",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS t{i}_name_idx ON app.t{i} (name);",
            f"ALTER TABLE app.t{i} ADD COLUMN flag boolean DEFAULT false;",
            f"UPDATE app.t{i} SET flag = true WHERE name = 'alpha';",
            f"COMMENT ON TABLE app.t{i} IS 'step {i}';",
            f"CREATE OR REPLACE FUNCTION app.f{i}() RETURNS trigger AS $fn$",
            "BEGIN",
            "  NEW.created_at := now(); -- ; inside a body",
            "  RETURN NEW;",
            "END",
            "$fn$ LANGUAGE plpgsql;",
            "SELECT count(*) FROM app.users WHERE email LIKE '%@example.com';",
            "",
        ]
        if len(out) + len(block) > lines - 3:
            break
        out += block
        i += 1
    out += ["-- padding"] * (lines - 3 - len(out))
    out += ["/* cleanup */", "DROP TABLE app.legacy_sessions;", ""]
    return "\n".join(out)


def dense(lines: int, kind: str) -> str:
    """One statement per line: `insert`, `update` or `mixed`."""
    shapes = {
        "insert": ["INSERT INTO t VALUES ({i}, 'x');"],
        "update": ["UPDATE t SET a = 1 WHERE id = {i};"],
        "mixed": [
            "INSERT INTO app.orders (id, note) VALUES ({i}, 'n{i}');",
            "UPDATE app.orders SET note = 'done' WHERE id = {i};",
            "DELETE FROM app.sessions WHERE id = {i} AND user_id = 7;",
        ],
    }[kind]
    return "\n".join(shapes[i % len(shapes)].format(i=i) for i in range(lines))


def _timed(base: str, runs: int) -> tuple[list[float], tuple[SqlOp, ...]]:
    times: list[float] = []
    ops: tuple[SqlOp, ...] = ()
    for r in range(runs):
        text = f"-- run {r}\n" + base
        t0 = time.perf_counter()
        ops = analyze_sql(text)
        times.append(time.perf_counter() - t0)
    return times, ops


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    base = migration(args.lines)
    times_sql: list[float] = []
    times_psql: list[float] = []
    ops: tuple[SqlOp, ...] = ()
    for r in range(args.runs):
        text = f"-- run {r}\n" + base
        t0 = time.perf_counter()
        ops = analyze_sql(text)
        times_sql.append(time.perf_counter() - t0)
        text = f"-- run {r} psql\n" + base
        t0 = time.perf_counter()
        script = split_psql(text)
        for piece in script.pieces:
            if piece.sql is not None:
                analyze_sql(piece.sql)
        times_psql.append(time.perf_counter() - t0)
    drops = [o for o in ops if o.action == "sql.drop_table"]
    assert drops and drops[0].objects == ("app.legacy_sessions",), drops
    lines = base.count("\n") + 1
    print(f"lines: {lines}, bytes: {len(base)}, operations found: {len(ops)}")
    print(
        f"analyze_sql            median {statistics.median(times_sql) * 1000:.1f} ms, "
        f"min {min(times_sql) * 1000:.1f} ms (budget 50 ms)"
    )
    print(
        f"split_psql+analyze_sql median {statistics.median(times_psql) * 1000:.1f} ms, "
        f"min {min(times_psql) * 1000:.1f} ms"
    )
    for kind in ("insert", "update", "mixed"):
        times, ops = _timed(dense(args.lines, kind), args.runs)
        assert len(ops) == args.lines, (kind, len(ops))
        print(
            f"dense {kind:<6} ({args.lines} statements) analyze_sql median "
            f"{statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms "
            "(budget 50 ms)"
        )


if __name__ == "__main__":
    main()
