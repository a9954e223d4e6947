"""Statement handlers, one per leading keyword: `VERBS[word](stmt, i, end)`.

Each returns the operations of the statement whose keyword is token i and
whose tokens end before `end` (a CTE body ends at its closing parenthesis).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from guardsh.parse.sqllex import literal
from guardsh.parse.sqlstmt import HIGH, LOW, SqlOp, Stmt

Handler = Callable[[Stmt, int, int], list[SqlOp]]
VERBS: dict[str, Handler] = {}


def verb(*words: str) -> Callable[[Handler], Handler]:
    def reg(fn: Handler) -> Handler:
        for w in words:
            VERBS[w] = fn
        return fn

    return reg


def statement(st: Stmt, i: int, end: int) -> list[SqlOp]:
    fn = VERBS.get(st.w(i))
    return fn(st, i, end) if fn else []


@verb("WITH")
def with_(st: Stmt, i: int, end: int) -> list[SqlOp]:
    """Skip the CTE list (their bodies are found as nested DML) to the main statement."""
    j = st.skip(i + 1, "RECURSIVE")
    while j < end:
        if st.w(j) == "(":
            body = st.w(j - 1) in ("AS", "MATERIALIZED")
            j = st.close[j] + 1
            if body:
                if st.w(j) == ",":
                    j += 1
                    continue
                return statement(st, j, end)
            continue
        j += 1
    return []


@verb("DELETE")
def delete(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = st.skip(i + 1, "LOW_PRIORITY", "QUICK", "IGNORE")
    if st.w(j) == "FROM":
        j += 1
    table, j = st.name(j)
    every, why = st.where_verdict(j, end)
    text = st.src(i, end)
    if every:
        return [st.op("sql.delete_all", [table or "?"], HIGH, i, end, f"{text} ({why})")]
    return [st.op("sql.delete", [table or "?"], LOW, i, end, text)]


@verb("UPDATE")
def update(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = st.skip(i + 1, "LOW_PRIORITY", "IGNORE")
    if st.w(j) == "OR":  # sqlite: UPDATE OR REPLACE
        j += 2
    table, j = st.name(j)
    every, why = st.where_verdict(j, end)
    text = st.src(i, end)
    if every:
        return [st.op("sql.update_all", [table or "?"], HIGH, i, end, f"{text} ({why})")]
    return [st.op("sql.update", [table or "?"], LOW, i, end, text)]


_UPSERT = re.compile(r"(?i)\bON\s+(?:CONFLICT|DUPLICATE\s+KEY)\b[^;]*\bUPDATE\b")


@verb("INSERT", "REPLACE", "UPSERT")
def insert(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = st.skip(i + 1, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE")
    if st.w(j) == "OR":  # sqlite: INSERT OR REPLACE
        j += 2
    j = st.skip(j, "INTO", "OVERWRITE", "TABLE")
    table, _ = st.name(j)
    tags = ["replace"] if st.w(i) == "REPLACE" else []
    if _UPSERT.search(st.masked, st.toks[i].start, st.stop or st.toks[-1].end):
        tags.append("upsert")
    verb_ = st.w(i)
    op = st.op("sql.write", [table or "?"], LOW, i, end, f"{verb_} INTO {table}", *tags)
    if end == len(st.toks) and st.stop:  # only its head was tokenized: it runs to its end
        start = st.toks[i].start
        op = replace(op, end=start + len(st.masked[start : st.stop].rstrip()))
    return [op]


@verb("MERGE")
def merge(st: Stmt, i: int, end: int) -> list[SqlOp]:
    table, _ = st.name(st.skip(i + 1, "INTO"))
    ops = [st.op("sql.write", [table or "?"], LOW, i, end, f"MERGE INTO {table}")]
    for k in range(i, end - 1):
        if st.w(k) == "THEN" and st.w(k + 1) == "DELETE":
            ops.append(
                st.op("sql.delete", [table or "?"], LOW, i, end, f"MERGE INTO {table} … DELETE")
            )
            break
    return ops


@verb("TRUNCATE")
def truncate(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = st.skip(i + 1, "TABLE")
    if st.w(j) == "IF" and st.w(j + 1) == "EXISTS":
        j += 2
    tables, _ = st.names(j, end)
    cascade = st.find("CASCADE", j, end) >= 0
    tags = ("cascade",) if cascade else ()
    detail = "TRUNCATE " + ", ".join(tables) + (" CASCADE" if cascade else "")
    return [st.op("sql.truncate", tables, HIGH, i, end, detail, *tags)]


_ALTER_DROP_KEEP = frozenset({"DEFAULT", "NOT", "IDENTITY", "EXPRESSION"})


@verb("ALTER")
def alter(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = i + 1
    if st.w(j) != "TABLE":
        kind = st.w(j)
        if kind == "SYSTEM":  # ALTER SYSTEM SET|RESET parameter
            param = f"system: {st.ident(j + 2) or 'all'}"
            return [st.op("sql.alter", [param], LOW, i, end, st.src(i, end), "system")]
        j = st.skip(j + 1, "VIEW", "TABLE", "DATA", "WRAPPER", "SEARCH", "CONFIGURATION")
        obj, _ = st.name(st.skip(j, "IF", "EXISTS"))
        return [st.op("sql.alter", [obj or kind.lower()], LOW, i, end, st.src(i, end))]
    j += 1
    if st.w(j) == "IF" and st.w(j + 1) == "EXISTS":
        j += 2
    table, j = st.name(j)
    table = table or "?"
    ops: list[SqlOp] = []
    changed = False
    for a, b in st.split(j, end, ","):
        w = st.w(a)
        if w == "DROP" and st.w(a + 1) not in _ALTER_DROP_KEEP:
            k = a + 1
            what = st.w(k)
            if what in ("COLUMN", "CONSTRAINT", "INDEX", "KEY", "CHECK", "PARTITION"):
                k += 1
            elif what in ("PRIMARY", "FOREIGN"):
                k += 2 if what == "FOREIGN" else 1
                what = "PRIMARY KEY" if what == "PRIMARY" else "FOREIGN KEY"
            else:
                what = "COLUMN"
            if st.w(k) == "IF" and st.w(k + 1) == "EXISTS":
                k += 2
            col = st.ident(k) if what != "PRIMARY KEY" else "primary key"
            obj = f"{table}.{col}" if col else table
            tags = ["partition"] if what == "PARTITION" else []
            if st.find("CASCADE", k, b) >= 0:
                tags.append("cascade")
            detail = f"ALTER TABLE {table} DROP {what} {col or ''}".rstrip()
            ops.append(st.op("sql.alter_drop", [obj], HIGH, i, end, detail, *tags))
        elif w == "DELETE":  # ClickHouse mutation: ALTER TABLE t DELETE WHERE ...
            every, why = st.where_verdict(a + 1, b)
            text = st.src(i, b)
            if every:
                ops.append(st.op("sql.delete_all", [table], HIGH, i, b, f"{text} ({why})"))
            else:
                ops.append(st.op("sql.delete", [table], LOW, i, b, text))
        elif w == "UPDATE":
            every, why = st.where_verdict(a + 1, end)
            text = st.src(i, end)
            if every:
                ops.append(st.op("sql.update_all", [table], HIGH, i, end, f"{text} ({why})"))
            else:
                ops.append(st.op("sql.update", [table], LOW, i, end, text))
            break
        elif w == "TRUNCATE":  # MySQL: ALTER TABLE t TRUNCATE PARTITION p
            part = st.ident(a + 2) or "?"
            ops.append(
                st.op(
                    "sql.truncate", [f"{table}.{part}"], HIGH, i, end, st.src(i, end), "partition"
                )
            )
        else:
            changed = True
    if changed and not ops:
        ops.append(st.op("sql.alter", [table], LOW, i, end, st.src(i, end)))
    return ops


@verb("RENAME")
def rename(st: Stmt, i: int, end: int) -> list[SqlOp]:
    obj, _ = st.name(st.skip(i + 1, "TABLE", "DATABASE", "DICTIONARY", "USER"))
    return [st.op("sql.alter", [obj or "?"], LOW, i, end, st.src(i, end))]


@verb("REASSIGN")
def reassign(st: Stmt, i: int, end: int) -> list[SqlOp]:
    roles, _ = st.names(st.skip(i + 1, "OWNED", "BY"), end)
    return [st.op("sql.alter", roles, LOW, i, end, st.src(i, end), "owner")]


_GRANT_KIND = (
    "TABLE", "TABLES", "SCHEMA", "DATABASE", "SEQUENCE", "SEQUENCES", "FUNCTION", "FUNCTIONS",
    "ALL", "IN", "PROCEDURE", "PROCEDURES", "ROUTINE", "ROUTINES", "LANGUAGE", "FOREIGN",
    "SERVER", "WRAPPER", "DATA", "TABLESPACE", "TYPE", "DOMAIN", "LARGE", "OBJECT", "PARAMETER",
)  # fmt: skip


@verb("GRANT", "REVOKE")
def grant(st: Stmt, i: int, end: int) -> list[SqlOp]:
    on = st.find("ON", i, end)
    to = st.find(frozenset({"TO", "FROM"}), i, end)
    if on >= 0:
        objs, _ = st.names(st.skip(on + 1, *_GRANT_KIND), end)
        if st.w(on + 1) == "ALL" and st.w(on + 2) in ("TABLES", "SEQUENCES", "FUNCTIONS"):
            objs = [f"all {st.w(on + 2).lower()} in {o}" for o in objs]
    else:
        j = i + 1
        if st.w(j + 1) == "OPTION" and st.w(j + 2) == "FOR":  # REVOKE ADMIN OPTION FOR role
            j += 3
        objs, _ = st.names(j, end)
    tags = []
    head = st.toks[i : on if on >= 0 else (to if to >= 0 else end)]
    if any(t.up == "ALL" for t in head):
        tags.append("all")
    if st.w(i) == "REVOKE":
        tags.append("revoke")
    if to >= 0 and st.w(to + 1) == "PUBLIC":
        tags.append("public")
    return [st.op("sql.grant", objs, LOW, i, end, st.src(i, end), *tags)]


@verb("COPY")
def copy(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = i + 1
    if st.w(j) == "(":
        table = None
        j = st.close[j] + 1
    else:
        table, j = st.name(j)
        if st.w(j) == "(":
            j = st.close[j] + 1
    direction = st.w(j)
    prog = st.w(j + 1) == "PROGRAM"
    src = st.toks[j + 1 + prog] if j + 1 + prog < end else None
    where = literal(st.text, src) if src is not None and src.kind == "str" else ""
    tags = ["program"] if prog else []
    if direction == "FROM" and table:
        return [
            st.op("sql.write", [table], LOW, i, end, f"COPY {table} FROM {where or 'STDIN'}", *tags)
        ]
    if direction == "TO" and src is not None and src.kind == "str":
        return [st.op("sql.write", [where], LOW, i, end, st.src(i, end), "server-file", *tags)]
    return []


@verb("LOAD")
def load(st: Stmt, i: int, end: int) -> list[SqlOp]:
    k = st.find("TABLE", i, end)
    if st.w(i + 1) not in ("DATA", "XML") or k < 0:
        return []
    table, _ = st.name(k + 1)
    return [st.op("sql.write", [table or "?"], LOW, i, end, st.src(i, end))]


def _locks(st: Stmt, i: int, end: int, obj: str | None, *tags: str) -> list[SqlOp]:
    return [st.op("sql.write", [obj or "(all)"], LOW, i, end, st.src(i, end), "locks", *tags)]


@verb("VACUUM")
def vacuum(st: Stmt, i: int, end: int) -> list[SqlOp]:
    if st.d.name == "sqlite":
        return _locks(st, i, end, st.ident(i + 1) or "main")
    words = {t.up for t in st.toks[i:end]}
    if "FULL" not in words:
        return []
    j = i + 1
    if st.w(j) == "(":
        j = st.close[j] + 1
    j = st.skip(j, "FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE")
    objs, _ = st.names(j, end)
    return _locks(st, i, end, ", ".join(objs) or None)


@verb("CLUSTER", "OPTIMIZE")
def cluster(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = st.skip(i + 1, "VERBOSE", "TABLE")
    if st.w(j) == "(":
        j = st.close[j] + 1
    obj, _ = st.name(j)
    return _locks(st, i, end, obj)


@verb("REINDEX")
def reindex(st: Stmt, i: int, end: int) -> list[SqlOp]:
    if any(t.up == "CONCURRENTLY" for t in st.toks[i:end]):
        return []
    j = i + 1
    if st.w(j) == "(":
        j = st.close[j] + 1
    j = st.skip(j, "INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM")
    obj, _ = st.name(j)
    return _locks(st, i, end, obj)


@verb("REFRESH")
def refresh(st: Stmt, i: int, end: int) -> list[SqlOp]:
    if st.w(i + 1) != "MATERIALIZED" or st.w(i + 3) == "CONCURRENTLY":
        return []
    obj, _ = st.name(i + 3)
    return _locks(st, i, end, obj)


@verb("CREATE")
def create(st: Stmt, i: int, end: int) -> list[SqlOp]:
    """Only CREATE INDEX without CONCURRENTLY matters (it blocks writes)."""
    j = st.skip(i + 1, "UNIQUE")
    if st.w(j) != "INDEX" or st.d.name != "postgres" or st.w(j + 1) == "CONCURRENTLY":
        return []
    on = st.find("ON", j, end)
    table, _ = st.name(on + 1) if on >= 0 else (None, 0)
    return _locks(st, i, end, table, "create-index")


@verb("LOCK")
def lock(st: Stmt, i: int, end: int) -> list[SqlOp]:
    objs, _ = st.names(st.skip(i + 1, "TABLE", "TABLES", "ONLY"), end)
    return _locks(st, i, end, ", ".join(objs) or None)


@verb("FLUSH")
def flush(st: Stmt, i: int, end: int) -> list[SqlOp]:
    if st.find("LOCK", i, end) < 0:
        return []
    return _locks(st, i, end, "(all tables)")
