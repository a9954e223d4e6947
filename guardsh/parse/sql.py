"""SQL text -> the operations it performs (pure, cached by text).

`analyze_sql(text)` walks every statement's tokens (sqlstmt, sqlverbs,
sqldrop, sqlexec): multi-statement input, comments, any case, quoted
identifiers, dollar quotes, DML in CTEs, EXPLAIN ANALYZE, DO blocks and
EXECUTE, tautological WHERE clauses, BEGIN ... ROLLBACK. A keyword pre-filter
skips all work for text that names nothing destructive, and statements
without such a keyword are never tokenized, so a 10,000-line migration stays
within its budget.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import replace
from functools import lru_cache

from guardsh.model import Severity
from guardsh.parse import sqldrop  # noqa: F401  (registers DROP)
from guardsh.parse.sqlexec import PLPGSQL_STARTS, dynamic, functions, generated_sql, nested
from guardsh.parse.sqlfast import SHAPES, fast
from guardsh.parse.sqllex import DIALECTS, POSTGRES, Dialect, mask, statements, tokenize
from guardsh.parse.sqlstmt import SqlOp, Stmt, tag
from guardsh.parse.sqlverbs import VERBS, statement

__all__ = ["SqlOp", "analyze_generated", "analyze_sql", "has_sql_keyword"]

_KEYWORDS = (
    r"drop|delete|update|truncate|alter|grant|revoke|insert|replace|upsert|merge|copy|do"
    r"|execute|exec|prepare|call|vacuum|cluster|reindex|index|lock|kill|shutdown|load"
    r"|rename|refresh|optimize|system|flush|reassign"
    r"|pg_terminate_backend|pg_cancel_backend|pg_drop_replication_slot|dblink_exec"
)
_PREFILTER = re.compile(rf"(?i)\b(?:{_KEYWORDS})\b")
_DDL = frozenset({"DROP", "ALTER", "TRUNCATE", "CREATE", "RENAME", "GRANT", "REVOKE"})
_TX_FIRST = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT"})
_TX_FIRST |= {"RELEASE"}
# Statements that need a walk although their first word is harmless.
# (Searched in a lower-cased copy: literal-led patterns scan at C speed.)
_DEEP = re.compile(
    r"\(\s*(?:with|delete|update|insert|merge|upsert)\b"
    r"|pg_(?:terminate_backend|cancel_backend|drop_replication_slot)|dblink_exec"
)
# The same functions called by a quoted name (`"pg_terminate_backend"(pid)`):
# the masked copy hides a quoted identifier, so these are found in the text.
_QUOTED_FUNC = re.compile(
    r'(?i)"(?:pg_terminate_backend|pg_cancel_backend|pg_drop_replication_slot|dblink_exec)"'
)
_HEAD = re.compile(r"\s*([A-Za-z_]+)")
_CREATE_INDEX = re.compile(r"(?i)\s*create\s+(?:unique\s+)?index\s+(?!concurrently\b)")
_HEAD_ONLY = frozenset({"INSERT", "REPLACE", "UPSERT"})  # the table name is all we need


def has_sql_keyword(text: str) -> bool:
    """Cheap check: could `text` contain anything analyze_sql reports?"""
    return _PREFILTER.search(text) is not None


# Texts longer than this are analyzed without being kept in the cache: a
# session that pipes migration files must not grow by their size.
CACHE_LIMIT = 64 * 1024


def analyze_sql(text: str, dialect: str = "postgres", plpgsql: bool = False) -> tuple[SqlOp, ...]:
    """The operations `text` performs, in order; read-only SQL gives ().

    plpgsql: `text` is a PL/pgSQL body (a DO block): BEGIN/LOOP/THEN start
    statements and EXECUTE runs dynamic SQL. Cached by text.
    """
    if len(text) > CACHE_LIMIT:
        return _analyze(text, dialect, plpgsql)
    return _cached(text, dialect, plpgsql)


def _analyze(text: str, dialect: str, plpgsql: bool) -> tuple[SqlOp, ...]:
    if not _PREFILTER.search(text):
        return ()
    d = DIALECTS.get(dialect, POSTGRES)
    masked, _ = mask(text, d)
    return tuple(_walk(text, masked, d, plpgsql))


_cached = lru_cache(maxsize=512)(_analyze)


def analyze_generated(text: str, dialect: str = "postgres") -> tuple[SqlOp, ...]:
    """SQL that *produces* SQL to run (psql `\\gexec`): analyze its literals,
    with run-time values standing in as unknown objects."""
    d = DIALECTS.get(dialect, POSTGRES)
    masked, _ = mask(text, d)
    toks = tokenize(masked, 0, len(masked))
    if not toks:
        return ()
    st = Stmt(text, toks, d, sub=_sub(dialect))
    gen = generated_sql(st, 0, len(toks))
    return tuple(tag(op, "dynamic") for op in analyze_sql(gen, dialect)) if gen else ()


def _sub(dialect: str):  # type: ignore[no-untyped-def]
    def sub(text: str, plpgsql: bool) -> tuple[SqlOp, ...]:
        return analyze_sql(text, dialect, plpgsql)

    return sub


def _walk(text: str, masked: str, d: Dialect, plpgsql: bool) -> list[SqlOp]:
    low = masked.lower()
    tx = not plpgsql and ("rollback" in low or "abort" in low)
    ops: list[SqlOp] = []
    prepared: dict[str, list[SqlOp]] = {}
    tx_start: int | None = None
    savepoints: dict[str, int] = {}
    sub = _sub(d.name)
    deep_at = [m.start() for m in _DEEP.finditer(low)]
    upserts = "conflict" in low or "duplicate" in low
    low_text = text.lower()
    secrets = "password" in low_text or "identified" in low_text
    if '"' in text:
        quoted = [m.start() for m in _QUOTED_FUNC.finditer(text)]
        if quoted:
            deep_at = sorted(deep_at + quoted)
    for s, e in statements(masked):
        head = _HEAD.match(masked, s, e)
        first = head.group(1).upper() if head else ""
        k = bisect_left(deep_at, s)
        deep = k < len(deep_at) and deep_at[k] < e
        if not (deep or plpgsql or (tx and first in _TX_FIRST)):
            if first not in VERBS and first != "EXPLAIN":
                continue
            if first == "CREATE" and not _CREATE_INDEX.match(masked, s, e):
                continue
            if first in SHAPES:
                op = fast(text, masked, s, e, first, upserts, secrets)
                if op is not None:
                    ops.append(op)
                    continue
        limit = 10 if first in _HEAD_ONLY and not deep else 0
        toks = tokenize(masked, s, e, limit)
        if not toks:
            continue
        st = Stmt(text, toks, d, prepared, sub, masked=masked, stop=e)
        first = toks[0].up
        if tx:
            second = st.w(1)
            if first == "BEGIN" or (first == "START" and second == "TRANSACTION"):
                tx_start, savepoints = len(ops), {}
                continue
            if first in ("COMMIT", "END") or (first == "PREPARE" and second == "TRANSACTION"):
                tx_start = None
                continue
            if first == "SAVEPOINT":
                savepoints[(st.ident(1) or "").lower()] = len(ops)
                continue
            if first in ("ROLLBACK", "ABORT"):
                if second == "PREPARED":
                    continue
                k = st.skip(1, "WORK", "TRANSACTION")
                if st.w(k) == "TO":
                    since = savepoints.get((st.ident(st.skip(k + 1, "SAVEPOINT")) or "").lower())
                else:
                    since, tx_start = tx_start, None
                if since is not None:
                    ops[since:] = [_rolled_back(op) for op in ops[since:]]
                continue
            if d.ddl_autocommit and first in _DDL:
                tx_start = None  # MySQL commits before (and after) DDL
            if first in ("RELEASE",):
                continue
        ops.extend(_plpgsql(st) if plpgsql else _statement(st, deep))
    return ops


def _rolled_back(op: SqlOp) -> SqlOp:
    return replace(op, severity=min(op.severity, Severity.LOW), tags=op.tags | {"rolled-back"})


def _statement(st: Stmt, deep: bool) -> list[SqlOp]:
    n = len(st.toks)
    first = st.w(0)
    if first == "EXPLAIN":
        j, runs = _explain(st)
        if not runs:
            return []
        ops = statement(st, j, n)
        if deep:
            ops += nested(st, j, n) + functions(st, j, n)
        return [tag(op, "explain-analyze") for op in ops]
    if first == "CREATE" and st.find("RULE", 0, min(n, 5)) >= 0:
        return []  # a rule's actions run later, on other statements
    ops = statement(st, 0, n)
    if deep:
        ops += nested(st, 1, n) + functions(st, 0, n)
    return ops


def _explain(st: Stmt) -> tuple[int, bool]:
    """(index of the explained statement, whether it is executed)."""
    j = 1
    runs = False
    if st.w(j) == "(":
        c = st.close[j]
        for k in range(j + 1, c):
            if st.w(k) in ("ANALYZE", "ANALYSE"):
                runs = st.w(k + 1) not in ("FALSE", "OFF", "0")
        return c + 1, runs
    while st.w(j) in ("ANALYZE", "ANALYSE", "VERBOSE", "EXTENDED", "PLAN", "PIPELINE", "FORMAT"):
        runs = runs or st.w(j) in ("ANALYZE", "ANALYSE")
        j += 1
        if st.w(j - 1) == "FORMAT" and st.w(j) == "=":
            j += 2
    return j, runs


def _plpgsql(st: Stmt) -> list[SqlOp]:
    """A `;`-chunk of a PL/pgSQL body: statements start after BEGIN/LOOP/THEN/ELSE."""
    ops: list[SqlOp] = []
    n = len(st.toks)
    for k in range(n):
        if k and st.w(k - 1) not in PLPGSQL_STARTS:
            continue
        w = st.w(k)
        if w == "EXECUTE":
            # EXECUTE expr [INTO ...] [USING ...]: the expression is the SQL text
            stop = st.find(frozenset({"INTO", "USING"}), k + 1, n)
            ops.extend(dynamic(st, k, k + 1, n if stop < 0 else stop))
        elif w in ("BEGIN", "DECLARE", "LOOP", "THEN", "ELSE"):
            continue
        else:
            ops.extend(statement(st, k, n))
    return ops + nested(st, 0, n) + functions(st, 0, n)
