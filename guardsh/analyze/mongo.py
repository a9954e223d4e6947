"""mongosh / mongo: the JavaScript they run and the database it hits.

JavaScript comes from `--eval` (repeatable), script files (`*.js` operands,
`-f/--file`; read through facts, unreadable -> shell.opaque), and stdin when
neither is given. The server comes from a mongodb:// or mongodb+srv:// URI
(credentials dropped from db_url), `host:port/db` or `db` positional, or
`--host/--port`. mongorestore/mongoimport `--drop` drop collections before
loading; `mongoimport --mode delete` deletes matching documents.

Scoped deletes (deleteMany/remove with a non-empty filter, deleteOne,
findOneAndDelete) are `mongo.delete` LOW, like a scoped SQL DELETE; scoped
updates are ordinary writes and produce nothing. `updateMany({}, ...)` is
`mongo.delete_all` with tag `update` (every document rewritten).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from urllib.parse import urlsplit

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Target, Word
from guardsh.parse.argv import parse_argv
from guardsh.parse.mongojs import MongoOp, scan

HIGH, LOW = Severity.HIGH, Severity.LOW

_SHELL_LONG_VALUE = frozenset(
    {
        "host", "port", "eval", "file", "username", "password", "authenticationDatabase",
        "authenticationMechanism", "awsIamSessionToken", "gssapiServiceName",
        "gssapiHostName", "sspiHostnameCanonicalization", "sspiRealmOverride",
        "tlsCertificateKeyFile", "tlsCertificateKeyFilePassword", "tlsCAFile",
        "tlsCertificateSelector", "tlsCRLFile", "tlsDisabledProtocols", "apiVersion",
        "awsAccessKeyId", "awsSecretAccessKey", "awsSessionToken", "keyVaultNamespace",
        "kmsURL", "sslPEMKeyFile", "sslPEMKeyPassword", "sslCAFile", "sslCRLFile",
        "cryptSharedLibPath", "csfleLibraryPath", "browser", "oidcFlows",
        "oidcRedirectUri", "jsonp", "db", "sslDisabledProtocols",
    }
)  # fmt: skip
_TOOL_LONG_VALUE = frozenset(
    {
        "uri", "host", "port", "db", "collection", "username", "password",
        "authenticationDatabase", "authenticationMechanism", "nsInclude", "nsExclude",
        "nsFrom", "nsTo", "archive", "dir", "file", "type", "mode", "fields",
        "fieldFile", "upsertFields", "numInsertionWorkersPerCollection",
        "numParallelCollections", "writeConcern", "config", "sslPEMKeyFile",
        "sslCAFile", "tlsCertificateKeyFile", "tlsCAFile", "readPreference",
        "oplogFile", "oplogLimit", "columnsHaveTypes", "parseGrace", "batchSize",
    }
)  # fmt: skip
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_ACTIONS = {
    "drop_database": "mongo.drop_database",
    "drop": "mongo.drop",
    "delete_all": "mongo.delete_all",
    "delete": "mongo.delete",
    "drop_other": "mongo.drop_other",
    "shutdown": "mongo.shutdown",
    "opaque": "shell.opaque",
}


class _Conn:
    """The server and default database an invocation connects to."""

    __slots__ = ("db", "host", "port", "url")

    def __init__(self) -> None:
        self.host: str | None = None
        self.port: str | None = None
        self.db: str | None = None
        self.url: str | None = None

    def uri(self, text: str) -> None:
        """mongodb://user:pw@h1:27017,h2/app?replicaSet=rs -> host h1, port, db app."""
        scheme, _, rest = text.partition("://")
        netloc, _, path = rest.partition("/")
        hosts = netloc.rpartition("@")[2]
        first = hosts.split(",")[0]
        try:
            u = urlsplit(f"{scheme}://{first}")
            self.host, port = u.hostname, u.port
        except ValueError:
            self.host, port = first, None
        self.port = str(port) if port else (None if scheme.endswith("+srv") else "27017")
        db = path.partition("?")[0]
        self.db = db or None
        self.url = f"{scheme}://{hosts}/{path}".rstrip("/")

    def address(self, text: str) -> None:
        """`app`, `host/app`, `host:port/app`, `host:port`, or a URI."""
        if "://" in text:
            self.uri(text)
            return
        hostport, slash, db = text.partition("/")
        if slash:
            self.db = db or None
            self.hostport(hostport)
        elif ":" in text or "." in text:  # database names may not contain '.'
            self.hostport(text)
        else:
            self.db = text

    def hostport(self, text: str) -> None:
        """`--host` forms: `h`, `h:p`, `rs0/h1:p,h2:p`, a URI."""
        if "://" in text:
            self.uri(text)
            return
        text = text.rpartition("/")[2].split(",")[0]
        host, colon, port = text.rpartition(":")
        if colon and port.isdigit():
            self.host, self.port = host, port
        else:
            self.host = text

    def target(self, inv: Invocation, db: str | None = None) -> Target:
        fields: dict[str, str | None] = {}
        if self.host is None or self.host in _LOCAL_HOSTS:
            fields.update((k, v) for k, v in inv.target.fields if not k.startswith("db_"))
        fields.update(
            db_engine="mongodb",
            db_host=self.host or "localhost",
            db_port=self.port or (None if self.url and "+srv:" in self.url else "27017"),
            db_name=db or self.db or "test",
            db_url=self.url,
        )
        return Target("db").with_fields(**fields)


def _resolve(inv: Invocation, ctx: Context, path: str) -> str:
    if not posixpath.isabs(path):
        path = posixpath.join(inv.cwd or ctx.snapshot.cwd, path)
    return posixpath.normpath(path)


def _drop_bare_password(args: tuple[Word, ...]) -> list[Word]:
    """`-p`/`--password` with no value prompts; keep it from eating the next word."""
    out: list[Word] = []
    for i, w in enumerate(args):
        nxt = args[i + 1].value if i + 1 < len(args) else "-"
        if w.value in ("-p", "--password") and nxt.startswith("-"):
            continue
        out.append(w)
    return out


def _findings(
    inv: Invocation, conn: _Conn, ops: list[MongoOp], evidence: Span
) -> Iterator[Finding]:
    for op in ops:
        action = _ACTIONS[op.kind]
        tags = set(op.tags)
        if not op.known:
            tags.add("unknown-object")
        if op.kind == "opaque":
            yield finding(
                inv,
                action,
                op.text,
                LOW,
                evidence=evidence,
                tags=tags,
                detail="load()ed script not readable",
                target=conn.target(inv, op.db),
            )
            continue
        obj = op.db if op.collection is None else f"{op.db}.{op.collection}"
        if op.kind == "drop_other" and op.collection is None:
            obj = f"{op.db} users/roles"
        sev = LOW if op.kind == "delete" or (op.kind == "drop_other" and not op.high) else HIGH
        yield finding(
            inv,
            action,
            obj,
            sev,
            evidence=evidence,
            tags=tags,
            detail=op.text,
            target=conn.target(inv, op.db),
        )


@analyzer("mongosh", "mongo")
def mongo_shell(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(_drop_bare_password(inv.args), short_value="upf", long_value=_SHELL_LONG_VALUE)
    conn = _Conn()
    files: list[Word] = list(p.values("-f", "--file"))
    for w in p.operands:
        if w.value.endswith(".js"):
            files.append(w)
        elif conn.db is None and conn.host is None:
            if w.known:
                conn.address(w.value)
            else:  # `mongosh "$MONGO_URL"` unset: a server we cannot name, not a db name
                conn.host = conn.url = w.value
    host = p.value("--host")
    if host is not None:
        conn.hostport(host.value)
    port = p.value("--port")
    if port is not None:
        conn.port = port.value
    db = conn.db or "test"

    here = inv.target.kind == "local"  # on an ssh host or in a pod, its files are not ours

    def load(path: str) -> str | None:
        return ctx.facts.read_file(_resolve(inv, ctx, path)) if here else None

    evals = p.values("--eval")
    for w in evals:
        if not w.known:
            yield finding(
                inv,
                "shell.opaque",
                w.value,
                LOW,
                evidence=w.span,
                tags={"unknown-object"},
                detail="--eval text not known",
                target=conn.target(inv, db),
            )
            continue
        ops, db = scan(w.value, db, load)
        yield from _findings(inv, conn, ops, w.span)
    for w in files:
        text = load(w.value) if w.known else None
        if text is None:
            yield finding(
                inv,
                "shell.opaque",
                w.value,
                LOW,
                evidence=w.span,
                tags={"unknown-object"},
                detail="script file not readable" if here else f"{w.value} is read on that host",
                target=conn.target(inv, db),
            )
            continue
        ops, db = scan(text, db, load)
        yield from _findings(inv, conn, ops, w.span)
    if evals or files or inv.stdin is None or p.has("--help", "--version", "-h"):
        return
    stdin = inv.stdin
    evidence = stdin.span if stdin.span.end > 0 else inv.span
    if stdin.text is None:
        yield finding(
            inv,
            "shell.opaque",
            "script on stdin",
            LOW,
            evidence=evidence,
            tags={"stdin"},
            detail=stdin.source,
            target=conn.target(inv, db),
        )
        return
    ops, db = scan(stdin.text, db, load)
    yield from _findings(inv, conn, ops, evidence)


def _tool_conn(inv: Invocation, uri: Word | None, host: Word | None, port: Word | None) -> _Conn:
    conn = _Conn()
    if uri is not None:
        conn.uri(uri.value)
    if host is not None:
        conn.hostport(host.value)
    if port is not None:
        conn.port = port.value
    return conn


@analyzer("mongorestore", "mongoimport")
def mongo_tools(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`--drop` drops each target collection first; `mongoimport --mode delete` deletes."""
    p = parse_argv(_drop_bare_password(inv.args), short_value="hdcupo", long_value=_TOOL_LONG_VALUE)
    drop = p.has("--drop")
    mode = p.value("--mode")
    delete = inv.program == "mongoimport" and mode is not None and mode.value == "delete"
    if not (drop or delete):
        return
    conn = _tool_conn(inv, p.value("--uri"), p.value("-h", "--host"), p.value("--port"))
    dbw = p.value("-d", "--db")
    db = dbw.value if dbw is not None else conn.db
    coll = p.value("-c", "--collection")
    if inv.program == "mongoimport":
        name = coll.value if coll is not None else None
        if name is None:
            src = p.value("--file") or (p.operands[0] if p.operands else None)
            base = posixpath.basename(src.value) if src is not None else ""
            name = base.rsplit(".", 1)[0] or None
        objs = [f"{db or 'test'}.{name or '?'}"]
    else:
        objs = [w.value for w in p.values("--nsInclude")]
        if not objs:
            objs = [f"{db}.{coll.value if coll is not None else '*'}" if db else "*.*"]
    for obj in objs:
        tags = {"unknown-object"} if "*" in obj or "?" in obj else set()
        tgt = conn.target(inv, obj.partition(".")[0] if "*" not in obj.partition(".")[0] else None)
        if drop:
            yield finding(
                inv,
                "mongo.drop",
                obj,
                HIGH,
                tags=tags | {inv.program},
                detail=f"{inv.program} --drop drops {obj} before loading",
                target=tgt,
            )
        if delete:
            yield finding(
                inv,
                "mongo.delete",
                obj,
                LOW,
                tags=tags | {inv.program},
                detail="mongoimport --mode delete deletes the matching documents",
                target=tgt,
            )
