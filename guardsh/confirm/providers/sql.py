"""SQL: how many rows a DELETE/UPDATE hits, how big a table or database is.

Runs the user's own `psql` with the user's own connection (the options and
environment of the command as typed, else the finding's db target) and only
the queries sqlplan builds. Read-only three times over: PGOPTIONS sets
`default_transaction_read_only=on` at connect, the queries run inside
`BEGIN TRANSACTION READ ONLY` and end with ROLLBACK; `statement_timeout`,
`lock_timeout` and PGCONNECT_TIMEOUT keep it within the provider's time. The
destructive statement itself is never sent. MySQL is not measured yet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from guardsh.confirm.providers.base import (
    Completed,
    Outcome,
    Request,
    failed,
    first_error,
    human_bytes,
    ok,
    plural,
    provider,
    run,
    unavailable,
)
from guardsh.confirm.providers.sqlplan import Plan, Unsupported, plan, statement_at
from guardsh.model import Invocation
from guardsh.parse.argv import parse_argv
from guardsh.parse.dburl import sanitize_url
from guardsh.parse.sql import analyze_sql

ACTIONS = ("sql.delete", "sql.delete_all", "sql.update", "sql.update_all", "sql.truncate",
           "sql.drop_table", "sql.drop_database", "sql.drop_schema")  # fmt: skip
_PSQL_SHORT = "cdfFhLopPRTUvC"
_PSQL_LONG = {"command", "dbname", "file", "field-separator", "host", "log-file", "output",
              "port", "pset", "record-separator", "table-attr", "username", "set",
              "variable"}  # fmt: skip
_CLIENTS = frozenset({"psql"})
_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)", re.I)


@provider("sql", *ACTIONS)
def dry_run(req: Request) -> Outcome:
    f = req.finding
    engine = f.target.get("db_engine") or "postgresql"
    if engine not in ("postgresql", "postgres"):
        return unavailable(f"{engine}: only PostgreSQL is measured so far")
    if f.target.get("db_via") not in (None, "local"):
        return unavailable(f"the database is reached through {f.target.get('db_via')}")
    found = _statement(req)
    if found is None:
        return unavailable("the statement text was not found in the command")
    stmt, client = found
    try:
        p = plan(stmt, f.action, f.object)
    except Unsupported as e:
        return unavailable(f"not measured: {e}")
    argv, env = _command(req, p, client)
    c = run(argv, req, env=env)
    rows = _rows(c)
    shown = [_hide(a) for a in argv]
    if c.rc != 0 and not rows:
        return failed(first_error(c), [shown])
    return _report(p, rows, c, shown)


# ---------------------------------------------------------------- the statement


def _clients(req: Request) -> list[Invocation]:
    """psql invocations of the line: the finding's own first (`echo SQL | psql`
    puts the evidence on echo: the pipe's psql is the next best)."""
    own = req.invocation
    out = [own] if own is not None and own.program in _CLIENTS else []
    out += [i for i in req.line_invocations if i.program in _CLIENTS and i is not own]
    return out


def _texts(req: Request, inv: Invocation) -> list[str]:
    """SQL texts an invocation carries: -c values, -f files, stdin."""
    out: list[str] = []
    p = parse_argv(inv.args, short_value=_PSQL_SHORT, long_value=_PSQL_LONG)
    out += [w.value for w in p.values("-c", "--command") if w.known]
    for w in p.values("-f", "--file"):
        if w.known and w.value != "-":
            try:
                with open(os.path.join(inv.cwd or req.cwd, w.value), encoding="utf-8") as fh:
                    out.append(fh.read(8 * 1024 * 1024))
            except OSError:
                continue
    if inv.stdin is not None and inv.stdin.text:
        out.append(inv.stdin.text)
    return out


def _detail_sql(req: Request) -> str | None:
    """The finding's own words, when no command carries the text (an
    interactive session): the analyzer's suffixes are cut off; a shortened
    snippet (…) is never measured."""
    d = req.finding.detail
    t = req.finding.target
    d = d.removesuffix(f" on {t.get('db_host')}/{t.get('db_name')}")
    for tail in (" (no WHERE)", " (WHERE is always true)"):
        d = d.removesuffix(tail)
    return None if not d or d.endswith("…") else d


def _matches(req: Request, text: str) -> str | None:
    f = req.finding
    obj = (f.object or "").lower()
    for op in analyze_sql(text):
        objs = [o.lower() for o in op.objects]
        joined = (", ".join(objs), ",".join(objs))
        if op.action == f.action and (not obj or obj in objs or obj in joined):
            return statement_at(text, op.start)
    return None


def _statement(req: Request) -> tuple[str, Invocation | None] | None:
    """The destructive statement's full text and the client that sends it."""
    for inv in _clients(req):
        for text in _texts(req, inv):
            stmt = _matches(req, text)
            if stmt is not None:
                return stmt, inv
    d = _detail_sql(req)
    stmt = _matches(req, d) if d else None
    return (stmt, None) if stmt is not None else None


# ---------------------------------------------------------------- the connection


def _connection(req: Request, inv: Invocation | None) -> list[str]:
    """psql connection options: the user's own (as typed), else the target's."""
    if inv is not None and inv.program in _CLIENTS and all(w.known for w in inv.args):
        p = parse_argv(inv.args, short_value=_PSQL_SHORT, long_value=_PSQL_LONG)
        out: list[str] = []
        for o in p.opts:
            if o.value is None:
                continue
            if o.name in ("-h", "--host"):
                out += ["-h", o.value.value]
            elif o.name in ("-p", "--port"):
                out += ["-p", o.value.value]
            elif o.name in ("-U", "--username"):
                out += ["-U", o.value.value]
            elif o.name in ("-d", "--dbname"):
                out += ["-d", o.value.value]
        ops = [w.value for w in p.operands]
        if ops and "-d" not in out:
            out += ["-d", ops[0]]
        if len(ops) > 1 and "-U" not in out:
            out += ["-U", ops[1]]
        return out
    t = req.finding.target
    out = []
    if t.get("db_socket") != "yes" and t.get("db_host"):
        out += ["-h", t.get("db_host") or ""]
    if t.get("db_port"):
        out += ["-p", t.get("db_port") or ""]
    if t.get("db_user"):
        out += ["-U", t.get("db_user") or ""]
    if t.get("db_service"):
        out += ["-d", f"service={t.get('db_service')}"]
    elif t.get("db_name"):
        out += ["-d", t.get("db_name") or ""]
    return out


def _command(req: Request, p: Plan, inv: Invocation | None) -> tuple[list[str], dict[str, str]]:
    left = req.left()
    stmt_ms = max(200, int((left - 0.7) * 1000))
    env = dict(req.env)
    if inv is not None:
        env.update(dict(inv.env))  # `PGPASSWORD=... psql`
    env["PGCONNECT_TIMEOUT"] = str(max(2, min(5, int(left / 2))))
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c default_transaction_read_only=on"
                        f" -c statement_timeout={stmt_ms}").strip()  # fmt: skip
    env["PGAPPNAME"] = "guardsh-dry-run"
    env.pop("PSQLRC", None)
    argv = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-w", "-v", "ON_ERROR_STOP=1"]
    argv += _connection(req, inv)
    argv += ["-c", "BEGIN TRANSACTION READ ONLY",
             "-c", f"SET LOCAL statement_timeout = {stmt_ms}",
             "-c", f"SET LOCAL lock_timeout = {min(stmt_ms, 2000)}"]  # fmt: skip
    for _, q in p.queries:
        argv += ["-c", q]
    argv += ["-c", "ROLLBACK"]
    if inv is not None and inv.user and "sudo" in inv.via and _me() != inv.user:
        argv = ["sudo", "-n", "-u", inv.user, "--", *argv]  # the user's own peer identity
    return argv, env


def _hide(arg: str) -> str:
    """An argument as the audit may keep it: no password."""
    if "://" in arg:
        return sanitize_url(arg)
    return _PASSWORD.sub("password=***", arg)


def _me() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


# ---------------------------------------------------------------- the answer


def _rows(c: Completed) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in c.out.splitlines():
        parts = line.split("\t")
        if parts and parts[0] and parts[0] not in out:
            out[parts[0]] = parts[1:]
    return out


def _int(v: str) -> int | None:
    try:
        return int(v) if v else None
    except ValueError:
        return None


def _report(p: Plan, rows: dict[str, list[str]], c: Completed, ran: Sequence[str]) -> Outcome:
    lines: list[str] = []
    data: dict[str, object] = {"statement": p.statement}
    if p.kind == "rows":
        hit = _int((rows.get("hit") or [""])[0])
        total = _int((rows.get("total") or [""])[0])
        verb = "deletes" if p.verb == "DELETE" else "updates"
        if hit is None:
            return failed(first_error(c), [ran])
        line = f"{verb} {plural(hit, 'row')}"
        if total is not None:
            line += f" of {total:,} in the table"
        else:
            line += " (the table's total was not counted in time)"
        lines.append(line)
        data.update(rows=hit, total=total)
    elif p.kind.startswith("tables"):
        tables = []
        for label, _ in p.queries:
            r = rows.get(label)
            if r is None:
                continue
            name, est, size, refs = [*r, "", "", "", ""][:4]
            est_i, size_i = _int(est), _int(size)
            rows_txt = "never analyzed" if est_i is None or est_i < 0 else f"about {est_i:,} rows"
            line = f"{name}: {rows_txt}, {human_bytes(size_i or 0)} with indexes and TOAST"
            if refs and p.kind == "tables-cascade":
                line += f"; CASCADE also reaches {refs}"
            lines.append(line)
            tables.append({"table": name, "rows_estimate": est_i, "bytes": size_i,
                           "referenced_by": refs.split(", ") if refs else []})  # fmt: skip
        missing = len(p.queries) - len(tables)
        if missing:
            lines.append(f"{plural(missing, 'table')} not found (the statement would fail)")
        data["tables"] = tables
    elif p.kind == "database":
        r = rows.get("database")
        if r is None:
            lines.append("no such database now (the statement would fail)")
            data["exists"] = False
        else:
            name, size, conns, who = [*r, "", "", "", ""][:4]
            n = _int(conns) or 0
            lines.append(f"database {name}: {human_bytes(_int(size) or 0)}, "
                         f"{plural(n, 'other active connection')}")  # fmt: skip
            if who:
                lines.append(f"connected: {who}")
            data.update(database=name, bytes=_int(size), connections=n, exists=True)
    elif p.kind == "schema":
        schemas = []
        for label, _ in p.queries:
            r = rows.get(label)
            if r is None:
                continue
            name, count, size = [*r, "", "", ""][:3]
            lines.append(f"schema {name}: {plural(_int(count) or 0, 'table')}, "
                         f"{human_bytes(_int(size) or 0)}")  # fmt: skip
            schemas.append({"schema": name, "tables": _int(count), "bytes": _int(size)})
        data["schemas"] = schemas
    if c.rc != 0:
        lines.append(f"(stopped early: {first_error(c)})")
    lines.append("measured read-only; the statement itself was not run")
    return ok(lines, data, [ran])
