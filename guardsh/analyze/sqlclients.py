"""psql and mysql/mariadb: every statement wherever it hides, and the database.

Carriers: `-c`/`-e`/`--query` arguments (repeated, in order), `-f` files,
stdin (pipes, heredocs, herestrings, `< FILE`), and inside those the client's
own commands: psql `\\i`/`\\ir` (more files), `\\!` (a shell command,
analyzed as one), `\\c` (another database for the rest), `\\gexec` (query
output run as SQL); mysql `source`/`system`/`use`/`connect`/`delimiter`.
Statements are analyzed by parse/sql.py; targets come from sqltarget.

An interactive client with no SQL source yields nothing here (the interactive
guard is elsewhere). SQL that cannot be known (an unreadable file, `-c "$SQL"`,
stdin from an unknown producer) is `shell.opaque`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from guardsh.analyze import sqltarget as tg
from guardsh.analyze.registry import Context
from guardsh.analyze.sqlsession import Session, sources
from guardsh.model import Finding, Invocation, Word
from guardsh.parse.argv import parse_argv
from guardsh.parse.psqlmeta import Script, split_mysql, split_psql

# ---------------------------------------------------------------- psql
_PSQL_SHORT = "cdfFhLopPRTUv"
_PSQL_LONG = frozenset(
    {"command", "dbname", "file", "field-separator", "host", "log-file", "output", "port",
     "pset", "record-separator", "table-attr", "username", "set", "variable"}
)  # fmt: skip


def psql(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value=_PSQL_SHORT, long_value=_PSQL_LONG)
    if p.has("-l", "--list", "-V", "--version", "-?", "--help"):
        return
    dbname = p.value("-d", "--dbname")
    user = p.value("-U", "--username")
    for w in p.operands:
        if dbname is None:
            dbname = w
        elif user is None:
            user = w
    params = tg.pg_params(
        inv,
        ctx,
        host=p.value("-h", "--host"),
        port=p.value("-p", "--port"),
        user=user,
        dbname=dbname,
    )
    variables = tuple(
        (k, v)
        for w in p.values("-v", "--set", "--variable")
        if w.known and "=" in w.value
        for k, v in [w.value.split("=", 1)]
    )

    def split(text: str) -> Script:
        return split_psql(text, variables)

    s = Session(
        inv,
        ctx,
        "postgres",
        split,
        params,
        lambda q: tg.pg_target(inv, ctx, q),
        tg.pg_connect(inv, ctx),
    )
    yield from sources(s, p, frozenset({"-c", "--command"}), frozenset({"-f", "--file"}))


# ---------------------------------------------------------------- mysql / mariadb
_MYSQL_SHORT = "eDhPuSO"
_MYSQL_LONG = frozenset(
    {"execute", "database", "host", "port", "user", "socket", "defaults-file",
     "defaults-extra-file", "defaults-group-suffix", "init-command", "protocol",
     "default-character-set", "delimiter", "pager", "prompt", "tee", "login-path",
     "connect-timeout", "max-allowed-packet", "net-buffer-length", "plugin-dir",
     "bind-address", "ssl-ca", "ssl-cert", "ssl-key", "ssl-mode", "ssl-cipher", "tls-version",
     "character-sets-dir", "default-auth", "ssl-capath", "ssl-crl", "ssl-crlpath"}
)  # fmt: skip


def _no_password(args: tuple[Word, ...]) -> tuple[Word, ...]:
    """`-pSECRET` is one word (and `-p` alone prompts): never read as options."""
    return tuple(w for w in args if not (w.value.startswith("-p") and w.known))


def _mysql_connect(
    inv: Invocation, ctx: Context
) -> Callable[[tg.Params, tuple[str, ...]], tg.Params]:
    def connect(current: tg.Params, args: tuple[str, ...]) -> tg.Params:
        new = tg.Params(current)
        for key, value in zip(("dbname", "host"), args, strict=False):
            new[key] = value
        return new

    return connect


def mysql(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(_no_password(inv.args), short_value=_MYSQL_SHORT, long_value=_MYSQL_LONG)
    if p.has("-V", "--version", "-?", "--help"):
        return
    params = tg.mysql_params(
        inv, ctx,
        host=p.value("-h", "--host"), port=p.value("-P", "--port"), user=p.value("-u", "--user"),
        dbname=p.value("-D", "--database") or (p.operands[0] if p.operands else None),
        socket=p.value("-S", "--socket"), defaults_file=p.value("--defaults-file"),
        extra_file=p.value("--defaults-extra-file"), no_defaults=p.has("--no-defaults"),
    )  # fmt: skip
    s = Session(
        inv,
        ctx,
        "mysql",
        split_mysql,
        params,
        lambda q: tg.mysql_target(inv, ctx, q),
        _mysql_connect(inv, ctx),
        safe_updates=p.has("-U", "--safe-updates", "--i-am-a-dummy"),
    )
    for w in p.values("--init-command"):
        if w.known:
            yield from s.text(w.value, w.span)
    yield from sources(s, p, frozenset({"-e", "--execute"}), frozenset())
