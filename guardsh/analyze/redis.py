"""redis-cli: the commands it sends, wherever they come from, and the server.

Commands come from the words after redis-cli's options (`redis-cli -n 2
FLUSHDB`), from stdin one per line when no command word is given (`echo
FLUSHALL | redis-cli`, heredocs, `--pipe` with inline or RESP input), from
`--cluster call HOST:PORT CMD`, and from Lua (`EVAL`, `--eval FILE`) where
`redis.call('X', ...)` names them. `SELECT n` on stdin switches the database
for the lines after it. Keys that cannot be known (`$(redis-cli KEYS ...)`,
`--scan | xargs redis-cli del`) make a DEL high: they come from a pattern.

Read-only commands (GET, KEYS, SCAN, INFO, MONITOR, --scan, --bigkeys, ...)
produce nothing. Names are case-insensitive, as redis reads them. Key-level
commands (DEL, EXPIRE with a time that has passed, RENAME) are redis_keys'.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from guardsh.analyze.redis_keys import (
    EXPIRES,
    RENAMES,
    Hit,
    delete_hits,
    expire_hits,
    rename_hits,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Target, Word
from guardsh.parse.argv import Parsed, parse_argv

HIGH, LOW, NONE = Severity.HIGH, Severity.LOW, Severity.NONE

# redis-cli 7 option grammar. Parsing stops at the first operand: the command.
_SHORT_VALUE = "hpsaurindDX"
_LONG_VALUE = frozenset(
    {
        "user", "pass", "sni", "cacert", "cacertdir", "cert", "key", "tls-ciphers",
        "tls-ciphersuites", "show-pushes", "lru-test", "rdb", "functions-rdb",
        "pipe-timeout", "memkeys-samples", "pattern", "count", "quoted-pattern",
        "intrinsic-latency", "eval", "cluster", "cluster-replicas", "cluster-from",
        "cluster-to", "cluster-slots", "cluster-yes", "cluster-search-multiple-owners",
    }
)  # fmt: skip
# Modes that send no command of their own (and do not read commands on stdin).
_MODES = (
    "--scan", "--bigkeys", "--memkeys", "--hotkeys", "--stat", "--latency",
    "--latency-history", "--latency-dist", "--rdb", "--functions-rdb", "--replica",
    "--lru-test", "--intrinsic-latency", "--help", "--version",
)  # fmt: skip
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_LUA_CALL = re.compile(r"""redis\.p?call\s*\(\s*(['"])(\w+)\1""", re.IGNORECASE)
_LUA_STR = re.compile(r"""^\s*(['"])(.*)\1\s*$""")
_LUA_INT = re.compile(r"^-?\d+$")

# DEBUG subcommands that only read.
_DEBUG_QUIET = frozenset(
    {"OBJECT", "HELP", "DIGEST", "DIGEST-VALUE", "PROTOCOL", "LISTPACK", "QUICKLIST",
     "STRINGMATCH-LEN", "SDSLEN", "ZIPLIST", "LOG", "JMAP", "MALLCTL", "MALLCTL-STR"}
)  # fmt: skip
_CLUSTER_CMDS = frozenset(
    {"RESET", "FLUSHSLOTS", "DELSLOTS", "DELSLOTSRANGE", "FORGET", "FAILOVER"}
)
_CLUSTER_TOOL = frozenset({"del-node", "fix", "reshard", "rebalance", "import", "set-timeout"})


def _cmd_text(words: Sequence[Word]) -> str:
    text = " ".join(w.value for w in words)
    return text if len(text) <= 80 else text[:77] + "..."


def classify(words: Sequence[Word], db: str, *, from_xargs: bool = False) -> Iterator[Hit]:
    """What one redis command does to the data; nothing for reads and writes."""
    if not words:
        return
    name = words[0].value.upper()
    args = words[1:]
    sub = args[0].value.upper() if args else ""
    text = _cmd_text(words)
    tags: set[str] = set()
    if name == "FLUSHALL":
        if sub in ("ASYNC", "SYNC"):
            tags.add(sub.lower())
        yield ("redis.flush", "all databases", HIGH, frozenset(tags), text)
    elif name == "FLUSHDB":
        if sub in ("ASYNC", "SYNC"):
            tags.add(sub.lower())
        yield ("redis.flush", f"db {db}", HIGH, frozenset(tags), text)
    elif name in ("DEL", "UNLINK", "GETDEL"):
        yield from delete_hits(name, args, text, from_xargs=from_xargs)
    elif name in EXPIRES:
        yield from expire_hits(name, args, text, from_xargs=from_xargs)
    elif name in RENAMES:
        yield from rename_hits(name, args, text)
    elif name == "MIGRATE" and not any(w.value.upper() == "COPY" for w in args):
        key = args[2].value if len(args) > 2 and args[2].value else "keys"
        yield ("redis.delete", key, LOW, frozenset({"migrate"}), text)
    elif name == "CONFIG":
        if sub == "SET" and len(args) > 1:
            params = [args[1].value.lower(), *[w.value.lower() for w in args[3::2]]]
            yield ("redis.config", "config " + " ".join(params), LOW, frozenset(params), text)
        elif sub == "REWRITE":
            yield ("redis.config", "config file", LOW, frozenset({"rewrite"}), text)
        elif sub == "RESETSTAT":
            yield ("redis.config", "stats", NONE, frozenset({"resetstat"}), text)
    elif name == "SHUTDOWN":
        if "ABORT" not in {w.value.upper() for w in args}:
            tags = {w.value.lower() for w in args if w.value.upper() in ("NOSAVE", "FORCE", "NOW")}
            yield ("redis.config", "server", HIGH, frozenset({"shutdown", *tags}), text)
    elif name == "DEBUG":
        if sub and sub not in _DEBUG_QUIET:
            yield ("redis.config", f"DEBUG {sub}", HIGH, frozenset({"debug"}), text)
    elif name == "SWAPDB":
        pair = " <-> ".join(f"db {w.value}" for w in args[:2])
        yield ("redis.config", pair or "databases", HIGH, frozenset({"swapdb"}), text)
    elif name in ("REPLICAOF", "SLAVEOF"):
        if sub == "NO":
            yield ("redis.config", "replication", LOW, frozenset({"promote"}), text)
        elif args:
            src = ":".join(w.value for w in args[:2])
            detail = f"{text} (this server's data is replaced by {src}'s)"
            yield ("redis.config", "all databases", HIGH, frozenset({"replicaof"}), detail)
    elif name == "CLUSTER" and sub in _CLUSTER_CMDS:
        yield ("redis.config", f"cluster {sub.lower()}", LOW, frozenset({"cluster"}), text)
    elif name in ("SCRIPT", "FUNCTION") and sub in ("FLUSH", "DELETE"):
        yield ("redis.config", f"{name.lower()} {sub.lower()}", LOW, frozenset(), text)
    elif name == "ACL" and sub in ("DELUSER", "SETUSER", "LOAD"):
        yield ("redis.config", f"acl {sub.lower()}", LOW, frozenset({"acl"}), text)
    elif name == "MODULE" and sub in ("UNLOAD", "LOAD", "LOADEX"):
        yield ("redis.config", f"module {sub.lower()}", LOW, frozenset({"module"}), text)
    elif name == "FAILOVER" and sub != "ABORT":
        yield ("redis.config", "replication", LOW, frozenset({"failover"}), text)
    elif name == "CLIENT" and sub == "KILL":
        yield ("redis.config", "client connections", LOW, frozenset({"client-kill"}), text)
    elif name == "EVAL" and args:
        script = args[0]
        if not script.known:
            yield ("shell.opaque", script.value, LOW, frozenset({"lua"}), text)
        else:
            yield from lua(script.value, db)
    elif name in ("EVALSHA", "FCALL"):
        obj = args[0].value if args else name.lower()
        yield ("shell.opaque", obj, LOW, frozenset({"lua"}), f"{text} (script body not known)")


def _lua_args(script: str, pos: int) -> list[Word]:
    """The arguments after a call's name, up to its closing parenthesis."""
    out: list[Word] = []
    depth, start, quote = 0, pos, ""
    for i in range(pos, len(script)):
        c = script[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}" and depth:
            depth -= 1
        elif c in ",)" and depth == 0:
            arg = script[start:i].strip()
            if arg:
                lit = _LUA_STR.match(arg)
                # string and integer literals are known; KEYS[1], ARGV[1], a local,
                # a nested call are not
                known = lit.group(2) if lit else arg if _LUA_INT.match(arg) else None
                out.append(Word(known) if known is not None else Word(arg, known=False))
            start = i + 1
            if c == ")":
                break
    return out


def lua(script: str, db: str) -> Iterator[Hit]:
    """Redis commands named by `redis.call('X', ...)` in a Lua script."""
    calls = list(_LUA_CALL.finditer(script))
    reads_keys = any(m.group(2).upper() in ("KEYS", "SCAN") for m in calls)
    for m in calls:
        words = [Word(m.group(2)), *_lua_args(script, m.end())]
        for action, obj, sev, tags, detail in classify(words, db):
            if action == "redis.delete" and reads_keys:
                sev, tags = HIGH, tags | {"pattern"}
            yield (action, obj, sev, tags | {"lua"}, detail)


def split_line(line: str) -> list[Word] | None:
    """One line of redis-cli input as words (its quoting is close to the shell's)."""
    try:
        parts = shlex.split(line, comments=False, posix=True)
    except ValueError:
        parts = line.split()
    return [Word(p) for p in parts] if parts else None


def resp_or_lines(text: str) -> Iterator[list[Word]]:
    """Commands in `--pipe`/stdin input: RESP arrays (`*2\\r\\n$3\\r\\nDEL...`) or lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not text.lstrip().startswith("*"):
        for line in lines:
            split = split_line(line)
            if split:
                yield split
        return
    i = 0
    while i < len(lines):
        head = lines[i].strip()
        i += 1
        if not head.startswith("*"):
            continue
        try:
            count = int(head[1:])
        except ValueError:
            continue
        words: list[Word] = []
        for _ in range(count):
            if i + 1 < len(lines) and lines[i].startswith("$"):
                words.append(Word(lines[i + 1]))
                i += 2
            else:
                break
        if words:
            yield words


def _local_fields(inv: Invocation) -> dict[str, str | None]:
    """Where a server on localhost is: the host the invocation runs on."""
    return {k: v for k, v in inv.target.fields if not k.startswith("db_")}


def target(inv: Invocation, p: Parsed) -> Target:
    """db target from -u URI, -h, -p, -s, -n; later options win, as in redis-cli."""
    host: str | None = None
    port = "6379"
    db = "0"
    url: str | None = None
    socket: str | None = None
    tls = p.has("--tls")
    for o in p.opts:
        if o.value is None:
            continue
        v = o.value.value
        if o.name == "-u" and not o.value.known:  # `-u "$REDIS_URL"` unset: do not guess
            host = url = v
        elif o.name == "-u":
            try:
                u = urlsplit(v)
                if u.scheme in ("redis", "rediss", "valkey", "valkeys"):
                    host = u.hostname or host
                    port = str(u.port) if u.port else port
                    path = u.path.strip("/")
                    db = path if path.isdigit() else db
                    tls = tls or u.scheme in ("rediss", "valkeys")
                    url = f"{u.scheme}://{u.hostname or ''}" + (f":{u.port}" if u.port else "")
                    url += f"/{path}" if path else ""
                elif u.scheme == "unix":
                    socket, host = u.path, "localhost"
            except ValueError:
                url = v.split("@")[-1]
        elif o.name == "-h":
            host = v
        elif o.name == "-p":
            port = v
        elif o.name == "-n":
            db = v
        elif o.name == "-s":
            socket, host = v, "localhost"
    fields: dict[str, str | None] = {}
    if host is None or host in _LOCAL_HOSTS:
        fields.update(_local_fields(inv))
    fields.update(
        db_engine="redis",
        db_host=host or "localhost",
        db_port=port,
        db_name=db,
        db_url=url,
        db_socket=socket,
        db_tls="true" if tls else None,
    )
    return Target("db").with_fields(**fields)


def _span(words: Sequence[Word], inv: Invocation) -> Span:
    """The command words' extent; words from elsewhere (xargs items) are left out."""
    own = inv.span
    spans = [w.span for w in words if own.start <= w.span.start and w.span.end <= own.end]
    spans = [s for s in spans if s.end > 0]
    if not spans:
        return own
    return Span(min(s.start for s in spans), max(s.end for s in spans))


@analyzer("redis-cli", "valkey-cli", "keydb-cli")
def redis_cli(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value=_SHORT_VALUE, long_value=_LONG_VALUE, stop_at_operand=True)
    tgt = target(inv, p)
    db = tgt.get("db_name") or "0"
    repeat = p.value("-r")
    extra = {"repeat"} if repeat is not None else set()
    from_xargs = "xargs" in inv.via

    def emit(hits: Iterator[Hit], evidence: Span, t: Target = tgt) -> Iterator[Finding]:
        for action, obj, sev, tags, detail in hits:
            yield finding(
                inv, action, obj, sev, evidence=evidence, tags=tags | extra, detail=detail, target=t
            )

    cluster = p.value("--cluster")
    if cluster is not None:
        sub = cluster.value.lower()
        node = p.operands[0].value if p.operands else ""
        h, _, port = node.rpartition(":")
        ct = tgt.with_fields(db_host=h or node, db_port=port or None)
        if sub == "call" and len(p.operands) > 1:
            cmd = list(p.operands[1:])
            hits = ((a, o, s, t | {"cluster"}, d) for a, o, s, t, d in classify(cmd, db))
            yield from emit(hits, _span(cmd, inv), ct)
        elif sub in _CLUSTER_TOOL:
            hit = (
                "redis.config",
                f"cluster {sub}",
                LOW,
                frozenset({"cluster"}),
                _cmd_text(inv.args),
            )
            yield from emit(iter([hit]), inv.span, ct)
        return

    script = p.value("--eval")
    if script is not None:
        path = script.value
        if not posixpath.isabs(path):
            path = posixpath.join(inv.cwd or ctx.snapshot.cwd, path)
        here = script.known and inv.target.kind == "local"  # else the remote machine's file
        text = ctx.facts.read_file(posixpath.normpath(path)) if here else None
        if text is None:
            hit = ("shell.opaque", script.value, LOW, frozenset({"lua"}), "Lua script not readable")
            yield from emit(iter([hit]), script.span)
        else:
            yield from emit(lua(text, db), script.span)
        return

    if p.operands:
        cmd = list(p.operands)
        yield from emit(classify(cmd, db, from_xargs=from_xargs), _span(cmd, inv))
        return
    if any(p.has(m) for m in _MODES) or inv.stdin is None:
        return  # a read-only mode, or an interactive session (the pty proxy's job)
    stdin = inv.stdin
    evidence = stdin.span if stdin.span.end > 0 else inv.span
    if stdin.text is None:
        hit = ("shell.opaque", "commands on stdin", LOW, frozenset({"stdin"}), stdin.source)
        yield from emit(iter([hit]), evidence)
        return
    for words in resp_or_lines(stdin.text):
        if words[0].value.upper() == "SELECT" and len(words) > 1:
            db = words[1].value
            tgt = tgt.with_fields(db_name=db)
            continue
        yield from emit(classify(words, db), evidence, tgt)
