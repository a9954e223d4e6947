"""Turn one destructive PostgreSQL statement into the read-only queries that
measure it (pure: text in, text out; the sql provider runs them).

- DELETE/UPDATE -> `SELECT count(*)` of the same table with the same WHERE
  (a USING/FROM list becomes `EXISTS (SELECT 1 FROM <list> WHERE <cond>)`,
  which selects exactly the rows the statement would touch), and the table's
  total row count;
- TRUNCATE / DROP TABLE -> each table's row estimate (`reltuples`) and
  `pg_total_relation_size`;
- DROP DATABASE -> its size and its other sessions;
- DROP SCHEMA -> its tables and their total size.

A query is refused when guardsh's own SQL analysis finds anything in it
(DML in a CTE, pg_terminate_backend, dblink_exec ...) or when it calls a
function with side effects that a read-only transaction would still allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardsh.parse.sql import analyze_sql
from guardsh.parse.sqllex import POSTGRES, Tok, mask, statements, tokenize

# Functions with effects outside the transaction (or that read the server's files).
_SIDE_EFFECTS = re.compile(
    r"(?i)\b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile"
    r"|pg_switch_wal|pg_promote|pg_create_restore_point|pg_notify|pg_advisory\w*"
    r"|pg_logical_emit_message|set_config|nextval|setval|lo_\w+|pg_read_\w*file|pg_ls_\w+"
    r"|pg_stat_file|pg_file_\w+|dblink\w*|pg_sleep\w*|txid_current|pg_current_xact_id"
    r"|pg_drop_replication_slot|pg_create_\w+_slot|pg_replication_origin\w*)\s*\("
)
_PART = re.compile(r'"((?:[^"]|"")*)"|([^."]+)')
_NAME_END = frozenset({"AS", "USING", "WHERE", "SET", "RETURNING", "FROM", "ONLY"})


class Unsupported(Exception):
    """The statement cannot be measured safely; the message says why."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Labelled read-only queries; each prints one row `label<TAB>value...`."""

    kind: str  # rows | tables | database | schema
    queries: tuple[tuple[str, str], ...]  # (label, sql)
    statement: str
    verb: str = ""  # DELETE | UPDATE for kind "rows"


def quote_literal(s: str) -> str:
    """A string literal that reads the same whatever standard_conforming_strings says."""
    if "\\" in s:
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + s.replace("'", "''") + "'"


def identifier(raw: str) -> str:
    """The name a (dotted) identifier as written denotes: `public."Big T"` ->
    `public.Big T`; unquoted parts fold to lower case."""
    parts: list[str] = []
    for m in _PART.finditer(raw.strip()):
        q, plain = m.group(1), m.group(2)
        parts.append(q.replace('""', '"') if q is not None else plain.strip().lower())
    return ".".join(parts)


def statement_at(text: str, pos: int) -> str:
    """The whole `;`-separated statement of `text` that holds offset `pos`."""
    masked, _ = mask(text, POSTGRES)
    for s, e in statements(masked):
        if s <= pos < e:
            return text[s:e].strip()
    return text.strip()


class _Stmt:
    def __init__(self, text: str) -> None:
        self.text = text
        self.masked, _ = mask(text, POSTGRES)
        self.toks = tokenize(self.masked, 0, len(self.masked))
        self.depth: list[int] = []
        d = 0
        for t in self.toks:
            if t.up == ")":
                d -= 1
            self.depth.append(d)
            if t.up == "(":
                d += 1

    def find(self, words: frozenset[str], start: int, depth: int = 0) -> int:
        for i in range(start, len(self.toks)):
            if self.toks[i].up in words and self.depth[i] == depth:
                return i
        return -1

    def up(self, i: int) -> str:
        return self.toks[i].up if 0 <= i < len(self.toks) else ""

    def span(self, i: int, j: int) -> str:
        """Original text of tokens [i, j)."""
        if i >= j:
            return ""
        end = self.toks[j].start if j < len(self.toks) else len(self.text)
        return self.text[self.toks[i].start : end].strip()

    def name_end(self, i: int) -> int:
        """Index after a (schema-qualified) name starting at token i."""
        if i >= len(self.toks) or self.toks[i].kind not in ("word", "qid"):
            raise Unsupported("the table name is not a plain name")
        j = i + 1
        while self.up(j) == "." and j + 1 < len(self.toks):
            j += 2
        if self.up(j) == "*":
            j += 1
        return j

    def names(self, i: int, stop: frozenset[str]) -> list[str]:
        """Comma-separated names from token i up to a word in `stop`."""
        out: list[str] = []
        start = i
        for k in range(i, len(self.toks) + 1):
            t = self.up(k)
            if k == len(self.toks) or t in stop or (t == "," and self.depth[k] == 0):
                raw = self.span(start, k).removesuffix("*").strip()
                if raw.upper().startswith("ONLY "):
                    raw = raw[5:].strip()
                if raw:
                    out.append(raw)
                start = k + 1
                if k == len(self.toks) or t in stop:
                    break
        return out


def _checked(sql: str) -> str:
    if analyze_sql(sql):
        raise Unsupported("the statement's own parts would change something: not evaluated")
    m = _SIDE_EFFECTS.search(mask(sql, POSTGRES)[0])
    if m is not None:
        raise Unsupported(f"it calls {m.group(1)}(), which acts outside the transaction")
    return sql


def plan(statement: str, action: str, obj: str | None = None) -> Plan:
    """The read-only queries that measure `statement` (a finding of `action`
    on `obj`: of a multi-table TRUNCATE/DROP, only that table is measured)."""
    st = _Stmt(statement)
    if not st.toks:
        raise Unsupported("empty statement")
    if action in ("sql.delete", "sql.delete_all", "sql.update", "sql.update_all"):
        return _rows(st, action)
    if action in ("sql.truncate", "sql.drop_table"):
        return _tables(st, action, obj)
    if action == "sql.drop_database":
        return _database(st)
    if action == "sql.drop_schema":
        return _schema(st)
    raise Unsupported(f"no dry run for {action}")


def _rows(st: _Stmt, action: str) -> Plan:
    verb = "DELETE" if action.startswith("sql.delete") else "UPDATE"
    k = st.find(frozenset({verb}), 0)
    if k < 0:
        raise Unsupported(f"no {verb} at the top level of the statement")
    prefix = st.span(0, k)
    if prefix and st.up(0) != "WITH":
        raise Unsupported(f"{verb} behind `{prefix.split()[0]}`: not measured")
    i = k + 1
    if verb == "DELETE":
        if st.up(i) != "FROM":
            raise Unsupported("DELETE without FROM (not PostgreSQL)")
        i += 1
    if st.up(i) == "ONLY":
        i += 1
    j = st.name_end(i)
    table = st.span(i, j).removesuffix("*").strip()
    alias = ""
    if st.up(j) == "AS":
        alias, j = st.span(j + 1, j + 2), j + 2
    elif j < len(st.toks) and st.toks[j].kind in ("word", "qid") and st.up(j) not in _NAME_END:
        alias, j = st.span(j, j + 1), j + 1
    where = st.find(frozenset({"WHERE"}), j)
    ret = st.find(frozenset({"RETURNING"}), j)
    end = ret if ret >= 0 else len(st.toks)
    join_kw = "USING" if verb == "DELETE" else "FROM"
    join = st.find(frozenset({join_kw}), j)
    cond = st.span(where + 1, end) if where >= 0 else ""
    if cond.upper().startswith("CURRENT OF"):
        raise Unsupported("WHERE CURRENT OF a cursor: not measurable outside the session")
    joined = st.span(join + 1, where if where >= 0 else end) if join >= 0 else ""
    target = f"{table} AS {alias}" if alias else table
    if joined:
        filt = f"EXISTS (SELECT 1 FROM {joined}" + (f" WHERE {cond})" if cond else ")")
    else:
        filt = cond
    hit = f"{prefix + ' ' if prefix else ''}SELECT 'hit', count(*) FROM {target}"
    hit += f" WHERE {filt}" if filt else ""
    total = f"SELECT 'total', count(*) FROM {table}"
    return Plan("rows", (("hit", _checked(hit)), ("total", _checked(total))), st.text, verb)


def _tables(st: _Stmt, action: str, obj: str | None) -> Plan:
    i = 1
    if action == "sql.drop_table":
        while st.up(i) in ("TEMPORARY", "TEMP", "TABLE", "IF", "EXISTS"):
            i += 1
    else:
        while st.up(i) in ("TABLE", "ONLY"):
            i += 1
    names = st.names(i, frozenset({"CASCADE", "RESTRICT", "RESTART", "CONTINUE"}))
    if obj:
        names = [n for n in names if _same(identifier(n), obj)] or names
    if not names:
        raise Unsupported("no table name")
    cascade = st.find(frozenset({"CASCADE"}), i) >= 0
    queries = []
    for n, raw in enumerate(names):
        rel = f"to_regclass({quote_literal(raw)})"
        q = (
            f"SELECT 'table{n}', {quote_literal(raw)}, c.reltuples::bigint, "
            f"pg_total_relation_size(c.oid), "
            f"(SELECT string_agg(DISTINCT r.conrelid::regclass::text, ', ') FROM pg_constraint r "
            f"WHERE r.contype = 'f' AND r.confrelid = c.oid AND r.conrelid <> c.oid) "
            f"FROM pg_class c WHERE c.oid = {rel}"
        )
        queries.append((f"table{n}", _checked(q)))
    kind = "tables-cascade" if cascade else "tables"
    return Plan(kind, tuple(queries), st.text)


def _same(name: str, obj: str) -> bool:
    """`public.users` is `users` too: the analyzer may or may not keep the schema."""
    a, b = name.lower(), obj.lower()
    return a == b or a.rsplit(".", 1)[-1] == b or b.rsplit(".", 1)[-1] == a


def _dbname(st: _Stmt, first: int) -> str:
    i = first
    while st.up(i) in ("IF", "EXISTS"):
        i += 1
    if i >= len(st.toks) or st.toks[i].kind not in ("word", "qid"):
        raise Unsupported("no database name")
    return identifier(st.span(i, i + 1))


def _database(st: _Stmt) -> Plan:
    name = quote_literal(_dbname(st, 2))
    q = (
        f"SELECT 'database', d.datname, pg_database_size(d.oid), "
        f"(SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname "
        f"AND a.pid <> pg_backend_pid()), "
        f"(SELECT string_agg(DISTINCT coalesce(a.usename, '?') || '@' || "
        f"coalesce(a.client_addr::text, 'local'), ', ') FROM pg_stat_activity a "
        f"WHERE a.datname = d.datname AND a.pid <> pg_backend_pid()) "
        f"FROM pg_database d WHERE d.datname = {name}"
    )
    return Plan("database", (("database", _checked(q)),), st.text)


def _schema(st: _Stmt) -> Plan:
    if st.up(1) != "SCHEMA":
        raise Unsupported("only DROP SCHEMA is measured")
    i = 2
    while st.up(i) in ("IF", "EXISTS"):
        i += 1
    names = st.names(i, frozenset({"CASCADE", "RESTRICT"}))
    queries = []
    for n, raw in enumerate(names):
        q = (
            f"SELECT 'schema{n}', n.nspname, count(c.oid), "
            f"coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN "
            f"('r', 'm', 'p')), 0)::bigint FROM pg_namespace n LEFT JOIN pg_class c ON "
            f"c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'm') "
            f"WHERE n.nspname = {quote_literal(identifier(raw))} GROUP BY n.nspname"
        )
        queries.append((f"schema{n}", _checked(q)))
    return Plan("schema", tuple(queries), st.text)


def first_token(text: str) -> Tok | None:
    masked, _ = mask(text, POSTGRES)
    toks = tokenize(masked, 0, len(masked), 1)
    return toks[0] if toks else None
