"""Which database a SQL client or tool talks to, the way the client decides.

libpq clients (psql, pg_restore, dropdb, ...): explicit options and a dbname
that is a URL or conninfo, then the service file (`PGSERVICE`, service=),
then `PG*` environment variables, then defaults (local socket, the OS user,
a database named like the user). mysql: options, option files, `MYSQL_HOST`.
Files are read through `ctx.facts.read_file`, variables from the invocation's
own assignments first, then the session; for a client on an ssh host, in a pod
or a container, neither the session's variables nor local files count.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

from guardsh.analyze.registry import Context
from guardsh.model import Invocation, Target, Word
from guardsh.parse import dburl

UNKNOWN_HOST = "?"  # a host that cannot be known statically (`psql "$URL"` unset)


def here(inv: Invocation) -> bool:
    """The client runs on this machine: the session's variables and files are
    its own. On an ssh host, in a pod or a container they are not."""
    return inv.target.kind == "local"


def getenv(inv: Invocation, ctx: Context) -> Callable[[str], str | None]:
    """The invocation's environment, then (on this machine only) the session's."""
    session = ctx.snapshot.variables if here(inv) else {}

    def get(name: str) -> str | None:
        v = inv.env_get(name)
        return v if v is not None else session.get(name)

    return get


def resolve(inv: Invocation, ctx: Context, path: str, base: str | None = None) -> str:
    """An absolute path for a file the client opens (relative to its cwd or `base`)."""
    if path.startswith("~/") or path == "~":
        path = ctx.snapshot.home.rstrip("/") + path[1:]
    if not path.startswith("/"):
        path = posixpath.join(base or inv.cwd or ctx.snapshot.cwd or "/", path)
    return posixpath.normpath(path)


class Params(dict[str, str]):
    """Connection parameters, plus whether some part could not be known."""

    unknown: bool = False


def _put(params: Params, key: str, w: Word | None) -> None:
    if w is None:
        return
    if not w.known:
        params.unknown = True
        if key == "host":
            params["host"] = UNKNOWN_HOST
        return
    if w.value:
        params[key] = w.value


def pg_params(
    inv: Invocation,
    ctx: Context,
    *,
    host: Word | None = None,
    port: Word | None = None,
    user: Word | None = None,
    dbname: Word | None = None,
    env: Mapping[str, str] = dburl.PG_ENV,
) -> Params:
    """libpq's resolution of the connection parameters (without defaults)."""
    p = Params()
    _put(p, "host", host)
    _put(p, "port", port)
    _put(p, "user", user)
    if dbname is not None:
        if not dbname.known:
            p.unknown = True
            if dburl.is_url(dbname.value) or "$" in dbname.value:
                p["host"] = UNKNOWN_HOST  # `psql "$DATABASE_URL"`: anything
        elif dbname.value:
            p.update(dburl.parse_dbname(dbname.value))  # a URL or conninfo wins over -h
    get = getenv(inv, ctx)
    service = p.get("service") or get("PGSERVICE")
    if service:
        if not here(inv):  # the remote machine's service file says where: not known here
            p.unknown = True
        for k, v in (service_params(inv, ctx, service) or {}).items():
            p.setdefault(k, v)
        p.setdefault("service", service)
    for k, v in dburl.env_params(get, env).items():
        p.setdefault(k, v)
    return p


def service_params(inv: Invocation, ctx: Context, name: str) -> dict[str, str] | None:
    """Service `name` from $PGSERVICEFILE or ~/.pg_service.conf, then the system file."""
    if not here(inv):
        return None
    get = getenv(inv, ctx)
    files = [get("PGSERVICEFILE") or posixpath.join(ctx.snapshot.home, ".pg_service.conf")]
    sysconf = get("PGSYSCONFDIR")
    files.append(
        posixpath.join(sysconf, "pg_service.conf")
        if sysconf
        else "/etc/postgresql-common/pg_service.conf"
    )
    for path in files:
        text = ctx.facts.read_file(resolve(inv, ctx, path))
        if text is not None:
            got = dburl.service_params(text, name)
            if got is not None:
                return got
    return None


def pg_target(
    inv: Invocation, ctx: Context, p: Mapping[str, str], engine: str = "postgresql"
) -> Target:
    """The target of resolved libpq parameters, with libpq's defaults filled in."""
    q = dict(p)
    user = q.get("user") or inv.user or ctx.snapshot.user
    q["user"] = user
    q.setdefault("dbname", user if engine == "postgresql" else "")
    q.pop("engine", None)
    return dburl.db_target(p.get("engine") or engine, q, inv.target)


def connect_params(current: Mapping[str, str], args: tuple[str, ...]) -> Params:
    """psql `\\c [dbname [user [host [port]]]]` or `\\c URL|conninfo`: the new
    parameters (unspecified ones and `-` are reused from the current ones)."""
    p = Params(current)
    args = tuple(a for a in args if not a.startswith("-reuse-previous"))
    if args and (dburl.is_url(args[0]) or dburl.is_conninfo(args[0])):
        fresh = Params(dburl.parse_dbname(args[0]))
        return fresh
    for key, value in zip(("dbname", "user", "host", "port"), args, strict=False):
        if value != "-":
            p[key] = value
    return p


def pg_connect(inv: Invocation, ctx: Context) -> Callable[[Params, tuple[str, ...]], Params]:
    """psql's `\\c`: a URL or conninfo starts afresh (over the environment);
    positional arguments change only what they name."""

    def connect(current: Params, args: tuple[str, ...]) -> Params:
        new = connect_params(current, args)
        if args and (dburl.is_url(args[0]) or dburl.is_conninfo(args[0])):
            for k, v in pg_params(inv, ctx).items():
                new.setdefault(k, v)
        return new

    return connect


MYSQL_CNF = ("/etc/my.cnf", "/etc/mysql/my.cnf", "~/.my.cnf")
MYSQL_GROUPS = ("client", "mysql", "client-server", "client-mariadb", "mariadb-client")


def mysql_params(
    inv: Invocation,
    ctx: Context,
    *,
    host: Word | None,
    port: Word | None,
    user: Word | None,
    dbname: Word | None,
    socket: Word | None,
    defaults_file: Word | None,
    extra_file: Word | None,
    no_defaults: bool,
) -> Params:
    """mysql/mariadb: options, then option files, then MYSQL_HOST/MYSQL_TCP_PORT.

    A socket (`-S`, `socket=` in an option file such as Debian's stock
    mariadb.cnf) is not a host: the client uses it only when the host it
    ends up with is localhost or unset, so it never hides MYSQL_HOST or an
    option file's host. (The unset host becomes localhost in mysql_target,
    where db_target marks it as a socket connection.)
    """
    del socket  # never decides the host; see above
    p = Params()
    _put(p, "host", host)
    _put(p, "port", port)
    _put(p, "user", user)
    _put(p, "dbname", dbname)
    files: list[str] = []
    if not no_defaults and here(inv):  # a remote client reads that machine's option files
        if defaults_file is not None:
            files = [defaults_file.value] if defaults_file.known else []
        else:
            files = list(MYSQL_CNF)
        if extra_file is not None and extra_file.known:
            files.append(extra_file.value)
    found: dict[str, str] = {}
    for path in files:
        text = ctx.facts.read_file(resolve(inv, ctx, path))
        if text is not None:
            found.update(dburl.my_cnf_params(text, MYSQL_GROUPS))
    found.pop("socket", None)
    for k, v in found.items():
        p.setdefault(k, v)
    get = getenv(inv, ctx)
    for var, key in (("MYSQL_HOST", "host"), ("MYSQL_TCP_PORT", "port")):
        value = get(var)
        if value:
            p.setdefault(key, value)
    return p


def mysql_target(inv: Invocation, ctx: Context, p: Mapping[str, str]) -> Target:
    q = dict(p)
    q.setdefault("host", "localhost")
    q.setdefault("user", inv.user or ctx.snapshot.user)
    return dburl.db_target("mysql", q, inv.target)


def label(target: Target) -> str:
    """`host/db` for details: "DROP TABLE users on prod-db.internal/app"."""
    text = target.label()
    return text[3:] if text.startswith("db:") else text
