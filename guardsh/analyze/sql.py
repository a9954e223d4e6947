"""SQL: find every statement wherever it hides, and which database it hits.

This family module is only the registration table. The analyzers, and the
SQL lexer and statement walk behind them, are imported on the first
invocation of a SQL program, so a `guardsh -c true` or a session that never
runs a database client pays nothing for them (DESIGN: import only what the
current mode needs; skip SQL work unless a SQL carrier is present).

- sqlclients: psql, mysql/mariadb (arguments, files, stdin, meta-commands)
- sqlengines: sqlite3, clickhouse-client / `clickhouse client` / chc, `cockroach sql`
- sqltools: dropdb, dropuser, pg_restore, pg_ctl, pg_ctlcluster, pg_dropcluster,
  vacuumdb/reindexdb/clusterdb, mysqladmin (pg_dump, pg_dumpall, mysqldump only read)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from guardsh.analyze.registry import Analyzer, Context, analyzer
from guardsh.model import Finding, Invocation

# module -> {function: program names}
TABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "sqlclients": {"psql": ("psql",), "mysql": ("mysql", "mariadb")},
    "sqlengines": {
        "sqlite3": ("sqlite3", "sqlite"),
        "clickhouse": ("clickhouse-client", "clickhouse", "chc"),
        "cockroach": ("cockroach",),
    },
    "sqltools": {
        "dropdb": ("dropdb",),
        "dropuser": ("dropuser",),
        "pg_restore": ("pg_restore",),
        "pg_ctl": ("pg_ctl",),
        "pg_ctlcluster": ("pg_ctlcluster",),
        "pg_dropcluster": ("pg_dropcluster",),
        "maintenance": ("vacuumdb", "reindexdb", "clusterdb"),
        "mysqladmin": ("mysqladmin", "mariadb-admin"),
    },
}


def _lazy(module: str, name: str) -> Analyzer:
    loaded: list[Analyzer] = []

    def run(inv: Invocation, ctx: Context) -> Iterable[Finding]:
        if not loaded:
            mod = importlib.import_module(f"guardsh.analyze.{module}")
            loaded.append(getattr(mod, name))
        return loaded[0](inv, ctx)

    run.__name__ = run.__qualname__ = f"{module}.{name}"
    return run


for _module, _functions in TABLE.items():
    for _name, _programs in _functions.items():
        analyzer(*_programs)(_lazy(_module, _name))
