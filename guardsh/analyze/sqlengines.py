"""More SQL clients: sqlite3 (a database file), clickhouse-client and
`clickhouse client`, `cockroach sql`. Same carriers as psql/mysql: arguments,
files, stdin and the clients' own commands (sqlite3 `.read`, `.shell`, `.open`).
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze import sqltarget as tg
from guardsh.analyze.registry import Context
from guardsh.analyze.sqlsession import Session, opt_span, sources
from guardsh.model import Finding, Invocation, Target, Word
from guardsh.parse import dburl
from guardsh.parse.argv import parse_argv
from guardsh.parse.psqlmeta import Piece, Script, split_psql, split_sqlite

# ---------------------------------------------------------------- sqlite3
_SQLITE_LONG = frozenset(
    {"cmd", "init", "separator", "newline", "nullvalue", "vfs", "maxsize", "mmap", "heap",
     "escape", "pagecache", "lookaside"}
)  # fmt: skip


def _sqlite_target(inv: Invocation, ctx: Context, path: str) -> Target:
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        name = ":memory:"
    else:
        if path.startswith("file:"):
            path = path[5:].split("?", 1)[0]
        name = tg.resolve(inv, ctx, path)
    return dburl.db_target("sqlite", {"dbname": name}, inv.target)


def sqlite3(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    # sqlite3 takes `--cmd` as well as `-cmd`
    args = tuple(
        Word(w.value[1:], w.span, w.known) if w.value.startswith("--") and len(w.value) > 2 else w
        for w in inv.args
    )
    p = parse_argv(args, single_dash_long=True, long_value=_SQLITE_LONG)
    if p.has("-version", "-help"):
        return
    ops = list(p.operands)
    db = ops[0] if ops else None
    path = db.value if db is not None else ""
    memory = path in ("", ":memory:") or path.startswith("file::memory:")
    readonly = p.has("-readonly")

    def make(q: tg.Params) -> Target:
        return _sqlite_target(inv, ctx, q.get("dbname", ""))

    def connect(current: tg.Params, a: tuple[str, ...]) -> tg.Params:
        return tg.Params({"dbname": a[0]}) if a else tg.Params()

    params = tg.Params({"dbname": path})
    if db is not None and not db.known:
        params.unknown = True
    s = Session(
        inv, ctx, "sqlite", split_sqlite, params, make, connect, quiet_sql=memory or readonly
    )
    for o in p.opts:
        if o.name == "-init" and o.value is not None:
            yield from s.file(o.value, opt_span(o))
        elif o.name == "-cmd" and o.value is not None:
            yield from s.word(o.value)
    sql = ops[1:]
    for w in sql:
        yield from s.word(w)
    if not sql:
        yield from s.stdin()


# ---------------------------------------------------------------- clickhouse
_CH_SHORT = "hudqfC"
_CH_LONG = frozenset(
    {"host", "port", "user", "password", "query", "queries-file", "database", "format",
     "config-file", "config", "connection", "history_file", "param"}
)  # fmt: skip


def clickhouse(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    if inv.program == "clickhouse":
        if args and args[0].value in ("client", "--client"):
            args = args[1:]
        elif not (args and args[0].value.startswith("-") and any(map(_connects, args))):
            return  # another tool of the multi-tool binary (server, local, ...)
    p = parse_argv(_ch_args(args), short_value=_CH_SHORT, long_value=_CH_LONG)
    params = tg.Params()
    url = next((w for w in p.operands if dburl.is_url(w.value)), None)
    if url is not None and url.known:
        params.update(dburl.parse_url(url.value) or {})
    get = tg.getenv(inv, ctx)
    for key, names, env in (
        ("host", ("-h", "--host"), "CLICKHOUSE_HOST"),
        ("port", ("--port",), "CLICKHOUSE_PORT"),
        ("user", ("-u", "--user"), "CLICKHOUSE_USER"),
        ("dbname", ("-d", "--database"), "CLICKHOUSE_DATABASE"),
    ):
        w = p.value(*names)
        if w is not None:
            tg._put(params, key, w)
        elif get(env):
            params.setdefault(key, get(env) or "")
    params.pop("engine", None)

    def make(q: tg.Params) -> Target:
        r = dict(q)
        r.setdefault("host", "localhost")
        r.setdefault("user", "default")
        r.setdefault("dbname", "default")
        return dburl.db_target("clickhouse", r, inv.target)

    s = Session(inv, ctx, "clickhouse", _plain, params, make, lambda c, a: c)
    yield from sources(s, p, frozenset({"-q", "--query"}), frozenset({"--queries-file"}))


def _connects(w: Word) -> bool:
    """`clickhouse --host X ...` with no tool name runs the client, as the binary decides."""
    v = w.value
    return v in ("--host", "--port") or v.startswith(("--host=", "--port=", "-h"))


_CH_SOURCES = {"-n": "--query", "--multiquery": "--query", "-q": "--query"}
_CH_SOURCES |= {"--query": "--query", "--queries-file": "--queries-file"}


def _ch_args(args: tuple[Word, ...]) -> list[Word]:
    """clickhouse-client's argv with its query sources as plain `--query SQL`
    and `--queries-file F` pairs, the way the client reads them:

    - `-n SQL` / `--multiquery SQL` (a next word not starting with `-`) is
      `--multiquery --query SQL`; `-n` alone is a flag;
    - --query and --queries-file take several words (`--queries-file a.sql
      b.sql`), up to the next option; a URL stays the connection string;
    - `--query=$SQL` keeps its value even when part of it is unknown.
    """
    out: list[Word] = []
    more: str | None = None  # the source that following plain words add to
    i = 0
    while i < len(args):
        w = args[i]
        v = w.value
        if not v.startswith("-") or v == "-":
            if more is not None and not dburl.is_url(v):
                out.append(Word(more, w.span))
            out.append(w)
            i += 1
            continue
        name, eq, val = v.partition("=")
        more = _CH_SOURCES.get(name)
        nxt = args[i + 1] if i + 1 < len(args) else None
        if more is None:
            out.append(w)
        elif eq:
            out += [Word(more, w.span), Word(val, w.span, w.known, w.glob, w.quoted)]
        elif nxt is not None and not (name in ("-n", "--multiquery") and nxt.value.startswith("-")):
            out += [Word(more, w.span), nxt]
            i += 1
        else:
            out.append(w)  # `-n` as a flag, or a source option with nothing after it
            more = None
        i += 1
    return out


def _plain(text: str) -> Script:
    return Script((Piece(sql=text),), "clickhouse")


# ---------------------------------------------------------------- cockroach sql
_CRDB_SHORT = "deupf"
_CRDB_LONG = frozenset(
    {"url", "host", "port", "user", "database", "execute", "file", "certs-dir", "format", "set"}
)
_CRDB_ENV = {
    "COCKROACH_HOST": "host",
    "COCKROACH_PORT": "port",
    "COCKROACH_USER": "user",
    "COCKROACH_DATABASE": "dbname",
}


def cockroach(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    if not args or args[0].value != "sql":
        return
    p = parse_argv(args[1:], short_value=_CRDB_SHORT, long_value=_CRDB_LONG)
    url = p.value("--url") or _env_word(inv, ctx, "COCKROACH_URL")
    host = p.value("--host")
    port = p.value("-p", "--port")
    if host is not None and host.known and ":" in host.value and not host.value.startswith("["):
        h, _, pt = host.value.partition(":")
        host, port = Word(h, host.span), port or Word(pt, host.span)
    params = tg.pg_params(
        inv, ctx, host=host, port=port, user=p.value("-u", "--user"),
        dbname=url or p.value("-d", "--database"), env=_CRDB_ENV,
    )  # fmt: skip
    params.setdefault("user", "root")

    def make(q: tg.Params) -> Target:
        r = dict(q)
        r.pop("engine", None)
        r.setdefault("host", "localhost")
        r.setdefault("dbname", "defaultdb")
        return dburl.db_target("cockroach", r, inv.target)

    s = Session(inv, ctx, "postgres", split_psql, params, make, tg.pg_connect(inv, ctx))
    yield from sources(s, p, frozenset({"-e", "--execute"}), frozenset({"-f", "--file"}))


def _env_word(inv: Invocation, ctx: Context, name: str) -> Word | None:
    v = tg.getenv(inv, ctx)(name)
    return Word(v) if v else None
