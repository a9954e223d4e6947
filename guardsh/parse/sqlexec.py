"""Statements that run other code or act on the server's sessions.

DO blocks and EXECUTE (SQL built at run time: the literal parts are analyzed,
run-time values stand in as unknown objects), PREPARE/EXECUTE pairs, CALL,
server functions such as pg_terminate_backend(), KILL and SHUTDOWN; and the
scans for DML nested in parentheses (data-modifying CTEs, `COPY (DELETE ...)`).
Importing this module registers its handlers in sqlverbs.VERBS.
"""

from __future__ import annotations

import re
from dataclasses import replace

from guardsh.parse.sqllex import literal
from guardsh.parse.sqlstmt import _FUNCS, DML, DYN, HIGH, LOW, SqlOp, Stmt, tag
from guardsh.parse.sqlverbs import statement, verb


@verb("CALL")
def call(st: Stmt, i: int, end: int) -> list[SqlOp]:
    proc, _ = st.name(i + 1)
    return [st.op("sql.dynamic", [proc or "?"], LOW, i, end, st.src(i, end), "dynamic", "call")]


@verb("KILL")
def kill(st: Stmt, i: int, end: int) -> list[SqlOp]:
    query = st.w(i + 1) == "QUERY"
    j = st.skip(i + 1, "CONNECTION", "QUERY")
    obj = st.src(j, end) or "?"
    return [st.op("sql.terminate", [obj], LOW if query else HIGH, i, end, st.src(i, end))]


@verb("SHUTDOWN")
def shutdown(st: Stmt, i: int, end: int) -> list[SqlOp]:
    return [st.op("sql.terminate", ["server"], HIGH, i, end, "SHUTDOWN", "shutdown")]


@verb("SYSTEM")
def system(st: Stmt, i: int, end: int) -> list[SqlOp]:
    w = st.w(i + 1)
    if w in ("SHUTDOWN", "KILL"):
        return [st.op("sql.terminate", ["server"], HIGH, i, end, st.src(i, end), "shutdown")]
    if w == "DROP" and st.w(i + 2) == "REPLICA":
        name = st.ident(i + 3)
        return [st.op("sql.drop_other", [name or "?"], HIGH, i, end, st.src(i, end), "replica")]
    return []


@verb("DO")
def do(st: Stmt, i: int, end: int) -> list[SqlOp]:
    body = next((t for t in st.toks[i + 1 : end] if t.kind in ("str", "dollar")), None)
    lang = ""
    k = st.find("LANGUAGE", i, end)
    if k >= 0:
        lang = st.w(k + 1)
    ops = [st.op("sql.dynamic", ["DO block"], LOW, i, end, st.src(i, end), "dynamic", "do")]
    if body is None or lang not in ("", "PLPGSQL", "'PLPGSQL'") or st.sub is None:
        return ops
    text = literal(st.text, body)
    offset = body.start + st.text[body.start : body.end].find(text[:20] or "\0")
    offset = max(offset, body.start)
    for op in st.sub(text, True):
        ops.append(_shift(tag(op, "dynamic"), offset))
    return ops


@verb("EXECUTE", "EXEC")
def execute(st: Stmt, i: int, end: int) -> list[SqlOp]:
    if st.w(i + 1) == "IMMEDIATE":  # MariaDB: EXECUTE IMMEDIATE 'sql'
        return dynamic(st, i, i + 2, end)
    name = st.ident(i + 1) or "?"
    known = st.prepared.get(name.lower())
    if known is not None:
        return [_move(tag(op, "prepared"), st, i, end) for op in known]
    return [st.op("sql.dynamic", [name], LOW, i, end, st.src(i, end), "dynamic", "prepared")]


@verb("PREPARE")
def prepare(st: Stmt, i: int, end: int) -> list[SqlOp]:
    """Remember what a prepared statement does; EXECUTE emits it."""
    name = st.ident(i + 1)
    if name is None or st.w(i + 1) == "TRANSACTION":
        return []
    j = i + 2
    if st.w(j) == "(":
        j = st.close[j] + 1
    if st.w(j) == "AS":
        st.prepared[name.lower()] = statement(st, j + 1, end) + nested(st, j + 1, end)
    elif st.w(j) == "FROM":  # MySQL: PREPARE s FROM 'DELETE ...'
        st.prepared[name.lower()] = dynamic(st, i, j + 1, end, emit_self=False)
    return []


def dynamic(st: Stmt, i: int, a: int, b: int, emit_self: bool = True) -> list[SqlOp]:
    """SQL built at run time from the expression in [a, b): the literal parts are
    analyzed with run-time values standing in as `__dyn__`."""
    ops = []
    if emit_self:
        ops.append(st.op("sql.dynamic", ["EXECUTE"], LOW, i, b, st.src(i, b), "dynamic"))
    if st.sub is None:
        return ops
    text = generated_sql(st, a, b)
    if text:
        ops.extend(_move(tag(op, "dynamic"), st, i, b) for op in st.sub(text, False))
    return ops


_FORMAT_SPEC = re.compile(r"%(?:\d+\$)?-?[sIL]")
_GLUE = frozenset({"||", "(", ")", ",", "FORMAT", "CONCAT", "CONCAT_WS", "::", "TEXT"})


def generated_sql(st: Stmt, a: int, b: int) -> str:
    parts: list[str] = []
    gap = False
    for t in st.toks[a:b]:
        if t.kind in ("str", "dollar"):
            if gap and parts:
                parts.append(f" {DYN} ")
            parts.append(_FORMAT_SPEC.sub(f" {DYN} ", literal(st.text, t)))
            gap = False
        elif t.up not in _GLUE:
            gap = True
    if gap and parts:
        parts.append(f" {DYN}")
    return "".join(parts)


def nested(st: Stmt, i: int, end: int) -> list[SqlOp]:
    """DML in parentheses: data-modifying CTE bodies, `COPY (DELETE ... RETURNING)`."""
    ops: list[SqlOp] = []
    toks = st.toks
    for k in range(i, end - 1):
        if toks[k].up == "(" and toks[k + 1].up in DML:
            ops.extend(statement(st, k + 1, st.close[k]))
    return ops


def functions(st: Stmt, i: int, end: int) -> list[SqlOp]:
    """Server functions that destroy: pg_terminate_backend(...) and friends."""
    ops: list[SqlOp] = []
    toks = st.toks
    for k in range(i, end - 1):
        u = toks[k].up
        if u[0] == '"':  # a quoted name calls the same function: "pg_terminate_backend"(pid)
            u = literal(st.text, toks[k]).upper()
        if u in _FUNCS and toks[k + 1].up == "(":
            c = st.close[k + 1]
            arg = st.src(k + 2, c) or "?"
            if u == "PG_TERMINATE_BACKEND":
                ops.append(st.op("sql.terminate", [arg], HIGH, k, c + 1, st.src(i, end)))
            elif u == "PG_CANCEL_BACKEND":
                ops.append(st.op("sql.terminate", [arg], LOW, k, c + 1, st.src(i, end), "cancel"))
            elif u == "PG_DROP_REPLICATION_SLOT":
                ops.append(
                    st.op(
                        "sql.drop_other",
                        [arg.strip("'")],
                        HIGH,
                        k,
                        c + 1,
                        st.src(i, end),
                        "replication-slot",
                    )
                )
            else:  # dblink_exec('conn', 'SQL'): the last literal is remote SQL
                ops.extend(dynamic(st, k, k + 2 + _last_arg(st, k + 2, c), c))
    return ops


def _last_arg(st: Stmt, a: int, c: int) -> int:
    k = st.find(",", a, c)
    last = 0
    while k >= 0:
        last = k + 1 - a
        k = st.find(",", k + 1, c)
    return last


def _shift(op: SqlOp, by: int) -> SqlOp:
    return replace(op, start=op.start + by, end=op.end + by)


def _move(op: SqlOp, st: Stmt, i: int, end: int) -> SqlOp:
    e = st.toks[min(end, len(st.toks)) - 1].end
    return replace(op, start=st.toks[i].start, end=e)


PLPGSQL_STARTS = frozenset({"BEGIN", "LOOP", "THEN", "ELSE", "DECLARE"})
