"""Database server tools that are statements in disguise.

`dropdb` is DROP DATABASE, `dropuser` is DROP ROLE, `pg_restore --clean`
drops what the archive holds before recreating it, `pg_ctl stop -m immediate`
aborts every session without a checkpoint, `mysqladmin drop|shutdown|kill`.
`pg_dump`/`pg_dumpall`/`mysqldump` only read: nothing is registered for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze import sqltarget as tg
from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse import dburl
from guardsh.parse.argv import Parsed, parse_argv

HIGH, LOW = Severity.HIGH, Severity.LOW

# libpq command-line tools share these options (values); -f is a file only for pg_restore.
_PG_SHORT = "hpUdtnNjSILPT"
_PG_LONG = frozenset(
    {"host", "port", "username", "dbname", "maintenance-db", "table", "schema", "exclude-schema",
     "jobs", "superuser", "file", "format", "index", "use-list", "function", "trigger", "role",
     "section", "exclude-table", "min-xid-age", "min-mxid-age", "buffer-usage-limit",
     "parallel", "tablespace", "analyze-in-stages", "exclude-table-data", "filter"}
)  # fmt: skip


def _pg(inv: Invocation, ctx: Context, p: Parsed, dbname: Word | None) -> tuple[Target, bool]:
    params = tg.pg_params(
        inv, ctx, host=p.value("-h", "--host"), port=p.value("-p", "--port"),
        user=p.value("-U", "--username"), dbname=dbname,
    )  # fmt: skip
    return tg.pg_target(inv, ctx, params), params.unknown


def _tags(unknown: bool, *tags: str) -> tuple[str, ...]:
    return (*tags, "unknown-target") if unknown else tags


def dropdb(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value=_PG_SHORT, long_value=_PG_LONG)
    if p.has("-V", "--version", "-?", "--help") or not p.operands:
        return
    db = p.operands[0]
    target, unknown = _pg(inv, ctx, p, db)
    tags = ["force"] if p.has("-f", "--force") else []
    yield finding(
        inv,
        "sql.drop_database",
        db.value,
        HIGH,
        target=target,
        tags=_tags(unknown or not db.known, "dropdb", *tags),
        detail=f"dropdb {db.value} on {tg.label(target)}",
    )


def dropuser(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value=_PG_SHORT, long_value=_PG_LONG)
    if p.has("-V", "--version", "-?", "--help"):
        return
    target, unknown = _pg(inv, ctx, p, None)
    role = p.operands[0].value if p.operands else "?"
    extra = () if p.operands else ("unknown-object",)
    yield finding(
        inv,
        "sql.drop_other",
        role,
        HIGH,
        target=target,
        tags=_tags(unknown, "role", *extra),
        detail=f"dropuser {role} on {tg.label(target)}",
    )


def pg_restore(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Only a restore into a database writes; `-l` and script output only read."""
    p = parse_argv(inv.args, short_value=_PG_SHORT + "fF", long_value=_PG_LONG)
    db = p.value("-d", "--dbname")
    if db is None or p.has("-l", "--list", "-V", "--version", "-?", "--help"):
        return
    target, unknown = _pg(inv, ctx, p, db)
    archive = p.operands[0].value if p.operands else "stdin"
    name = target.get("db_name") or db.value
    where = tg.label(target)
    if p.has("-c", "--clean") and p.has("-C", "--create"):
        yield finding(
            inv,
            "sql.drop_database",
            f"database in {archive}",
            HIGH,
            target=target,
            tags=_tags(unknown, "restore", "clean", "unknown-object"),
            detail=f"pg_restore --clean --create {archive}: drops and recreates "
            f"the archive's database (connecting via {where})",
        )
    elif p.has("-c", "--clean"):
        yield finding(
            inv,
            "sql.write",
            name,
            HIGH,
            target=target,
            tags=_tags(unknown, "restore", "clean"),
            detail=f"pg_restore --clean {archive}: drops the archive's objects "
            f"in {where} before recreating them",
        )
    else:
        yield finding(
            inv,
            "sql.write",
            name,
            LOW,
            target=target,
            tags=_tags(unknown, "restore"),
            detail=f"pg_restore {archive} into {where}",
        )


def _server(inv: Invocation, ctx: Context, datadir: str | None, port: str | None) -> Target:
    get = tg.getenv(inv, ctx)
    params = {"port": port or get("PGPORT") or "", "dbname": ""}
    t = dburl.db_target("postgresql", params, inv.target)
    return t.with_fields(db_datadir=datadir)


_PG_CTL_SHORT = "DlmoptNPUe"


def pg_ctl(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(
        inv.args,
        short_value=_PG_CTL_SHORT,
        long_value={"pgdata", "log", "mode", "options", "timeout"},
    )
    words = [w.value for w in p.operands]
    action = next((w for w in words if w in ("stop", "restart", "kill", "promote")), None)
    if action is None:
        return
    d = p.value("-D", "--pgdata")
    datadir = d.value if d is not None else tg.getenv(inv, ctx)("PGDATA")
    mode = (p.value("-m", "--mode") or Word("fast")).value
    target = _server(inv, ctx, datadir, None)
    obj = datadir or "?"
    yield from _stop(inv, action, mode, obj, target, words)


def _stop(
    inv: Invocation, action: str, mode: str, obj: str, target: Target, words: list[str]
) -> Iterator[Finding]:
    if action == "kill":
        pid = words[-1] if len(words) >= 3 else "?"
        yield finding(
            inv,
            "sql.terminate",
            pid,
            HIGH,
            target=target,
            tags=("signal",),
            detail=f"pg_ctl kill {' '.join(words[1:])}",
        )
    elif mode.startswith("i") and action in ("stop", "restart"):
        yield finding(
            inv,
            "sql.terminate",
            obj,
            HIGH,
            target=target,
            tags=("immediate",),
            detail=f"{action} -m immediate: every session aborted, "
            f"crash recovery at next start ({obj})",
        )
    elif action == "stop":
        yield finding(
            inv,
            "service.stop",
            obj,
            HIGH,
            target=target,
            tags=("critical", "postgres"),
            detail=f"PostgreSQL server stopped ({obj}, mode {mode})",
        )
    elif action == "restart":
        yield finding(
            inv,
            "service.restart",
            obj,
            LOW,
            target=target,
            tags=("postgres",),
            detail=f"PostgreSQL server restarted ({obj}, mode {mode})",
        )


def pg_ctlcluster(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Debian: `pg_ctlcluster [--force] [-m MODE] VERSION CLUSTER ACTION`."""
    p = parse_argv(inv.args, short_value="mo", long_value={"mode", "options"})
    ops = [w.value for w in p.operands]
    if len(ops) < 3:
        return
    mode = "immediate" if p.has("--force") else (p.value("-m", "--mode") or Word("fast")).value
    obj = f"{ops[0]}/{ops[1]}"
    target = _server(inv, ctx, None, None).with_fields(db_cluster=obj)
    yield from _stop(inv, ops[2], mode, obj, target, ops[2:])


def pg_dropcluster(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    ops = [w.value for w in p.operands]
    if len(ops) < 2:
        return
    obj = f"{ops[0]}/{ops[1]}"
    target = _server(inv, ctx, None, None).with_fields(db_cluster=obj)
    yield finding(
        inv,
        "sql.drop_database",
        obj,
        HIGH,
        target=target,
        tags=("cluster",),
        detail=f"pg_dropcluster {obj}: the cluster's data directory is deleted",
    )


def maintenance(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """Table-rewriting maintenance holds exclusive locks while it runs."""
    p = parse_argv(inv.args, short_value=_PG_SHORT, long_value=_PG_LONG)
    if inv.program == "vacuumdb" and not p.has("-f", "--full"):
        return
    if inv.program == "reindexdb" and p.has("--concurrently"):
        return
    if p.has("-V", "--version", "-?", "--help"):
        return
    db = p.value("-d", "--dbname") or (p.operands[0] if p.operands else None)
    target, unknown = _pg(inv, ctx, p, db)
    tables = [w.value for w in p.values("-t", "--table")]
    every = p.has("-a", "--all")
    objs = tables or ["(all databases)" if every else target.get("db_name") or "?"]
    for obj in objs:
        yield finding(
            inv,
            "sql.write",
            obj,
            LOW,
            target=target,
            tags=_tags(unknown, "locks"),
            detail=f"{inv.program} on {tg.label(target)}: exclusive locks while it runs",
        )


# ---------------------------------------------------------------- mysqladmin
_MYSQLADMIN_SHORT = "hPuSOcir"


def mysqladmin(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = tuple(w for w in inv.args if not (w.known and w.value.startswith("-p")))
    p = parse_argv(
        args,
        short_value=_MYSQLADMIN_SHORT,
        long_value={
            "host",
            "port",
            "user",
            "socket",
            "defaults-file",
            "count",
            "sleep",
            "defaults-extra-file",
            "protocol",
            "connect-timeout",
        },
    )
    params = tg.mysql_params(
        inv, ctx, host=p.value("-h", "--host"), port=p.value("-P", "--port"),
        user=p.value("-u", "--user"), dbname=None, socket=p.value("-S", "--socket"),
        defaults_file=p.value("--defaults-file"), extra_file=p.value("--defaults-extra-file"),
        no_defaults=p.has("--no-defaults"),
    )  # fmt: skip
    words = list(p.operands)
    i = 0
    while i < len(words):
        cmd = words[i].value.lower()
        arg = words[i + 1] if i + 1 < len(words) else None
        if cmd == "drop" and arg is not None:
            target = tg.mysql_target(inv, ctx, {**params, "dbname": arg.value})
            yield finding(
                inv,
                "sql.drop_database",
                arg.value,
                HIGH,
                target=target,
                tags=_tags(params.unknown, "mysqladmin"),
                detail=f"mysqladmin drop {arg.value} on {tg.label(target)}",
            )
            i += 2
            continue
        if cmd == "shutdown":
            target = tg.mysql_target(inv, ctx, params)
            yield finding(
                inv,
                "sql.terminate",
                target.get("db_host") or "server",
                HIGH,
                target=target,
                tags=_tags(params.unknown, "shutdown"),
                detail=f"mysqladmin shutdown of {tg.label(target)}",
            )
        elif cmd == "kill" and arg is not None:
            target = tg.mysql_target(inv, ctx, params)
            for pid in arg.value.split(","):
                yield finding(
                    inv,
                    "sql.terminate",
                    pid.strip(),
                    HIGH,
                    target=target,
                    tags=_tags(params.unknown),
                    detail=f"mysqladmin kill {pid.strip()}",
                )
            i += 2
            continue
        elif cmd in ("create", "password", "old-password") and arg is not None:
            i += 2
            continue
        i += 1
