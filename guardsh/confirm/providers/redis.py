"""Redis: how many keys a FLUSHDB/FLUSHALL/DEL would remove.

Runs the user's own `redis-cli` with the connection options of the command as
typed (host, port, socket, TLS, user, password, URI; else the finding's
target) and only `DBSIZE`, `INFO keyspace` and `EXISTS key...`.
"""

from __future__ import annotations

import re

from guardsh.confirm.providers.base import (
    Completed,
    Outcome,
    Request,
    failed,
    ok,
    plural,
    provider,
    run,
    unavailable,
)

_CONN_VALUE = frozenset({"-h", "-p", "-s", "-a", "-u", "--user", "--pass", "--cacert",
                         "--cacertdir", "--cert", "--key", "--sni", "--tls-ciphers",
                         "--tls-ciphersuites"})  # fmt: skip
_CONN_FLAG = frozenset({"--tls", "--insecure", "--no-auth-warning", "-3"})
_SKIP_VALUE = frozenset({"-r", "-i", "-n", "-d", "-D", "-e", "-x", "-X", "--eval", "--pattern",
                         "--count", "--quoted-pattern", "--memkeys-samples", "--rdb",
                         "--functions-rdb", "--cluster", "--pipe-timeout", "--intrinsic-latency",
                         "--replica"})  # fmt: skip
_KEYSPACE = re.compile(r"^db(\d+):keys=(\d+),expires=(\d+)", re.M)
_ERROR = re.compile(r"^(?:\(error\) )?(ERR|NOAUTH|WRONGPASS|NOPERM|LOADING|MASTERDOWN)\b.*", re.M)


def _conn(req: Request) -> list[str] | None:
    """redis-cli connection options as typed (stopping at the command), else the target's."""
    inv = req.invocation
    if inv is not None and inv.program == "redis-cli":
        out: list[str] = []
        words = inv.args
        i = 0
        while i < len(words):
            w = words[i]
            v = w.value
            if not v.startswith("-"):
                break
            if v in _CONN_VALUE or v in _SKIP_VALUE:
                if i + 1 >= len(words):
                    break
                if not (w.known and words[i + 1].known):
                    return None
                if v in _CONN_VALUE:
                    out += [v, words[i + 1].value]
                i += 2
                continue
            if v in _CONN_FLAG:
                out.append(v)
            i += 1
        return out
    t = req.finding.target
    out = []
    if t.get("db_socket"):
        out += ["-s", t.get("db_socket") or ""]
    else:
        out += ["-h", t.get("db_host") or "127.0.0.1", "-p", t.get("db_port") or "6379"]
    if t.get("db_tls"):
        out.append("--tls")
    return out


def _db(req: Request) -> str:
    db = req.finding.target.get("db_name") or "0"
    return db if db.isdigit() else "0"


def _error(c: Completed) -> str | None:
    if c.rc != 0:
        text = (c.err or c.out).strip().splitlines()
        return f"redis-cli failed: {text[-1] if text else f'exit status {c.rc}'}"
    m = _ERROR.search(c.out)
    return f"redis-cli: {m.group(0).strip()}" if m else None


@provider("redis", "redis.flush", "redis.delete")
def dry_run(req: Request) -> Outcome:
    f = req.finding
    if f.target.get("db_engine") != "redis":
        return unavailable("not a Redis target")
    if f.target.get("db_via") not in (None, "local"):
        return unavailable(f"the server is reached through {f.target.get('db_via')}")
    conn = _conn(req)
    if conn is None:
        return unavailable("the connection options are not known before the command runs")
    base = ["redis-cli", *conn, "--no-auth-warning"]
    if f.action == "redis.flush" and (f.detail or "").upper().startswith("FLUSHALL"):
        argv = [*base, "INFO", "keyspace"]
        c = run(argv, req)
        err = _error(c)
        if err:
            return failed(err, [argv])
        dbs = {int(d): (int(k), int(e)) for d, k, e in _KEYSPACE.findall(c.out)}
        total = sum(k for k, _ in dbs.values())
        lines = [f"FLUSHALL removes {plural(total, 'key')} in {plural(len(dbs), 'database')}"]
        for d, (k, e) in sorted(dbs.items()):
            lines.append(f"db{d}: {plural(k, 'key')} ({e:,} with a TTL)")
        return ok(lines, {"keys": total, "databases": {str(d): k for d, (k, _) in dbs.items()}},
                  [argv])  # fmt: skip
    if f.action == "redis.flush":
        argv = [*base, "-n", _db(req), "DBSIZE"]
        c = run(argv, req)
        err = _error(c)
        n = c.out.strip().removeprefix("(integer) ")
        if err or not n.isdigit():
            return failed(err or f"DBSIZE answered {c.out.strip()[:80]!r}", [argv])
        return ok([f"FLUSHDB removes {plural(int(n), 'key')} from db {_db(req)}"],
                  {"keys": int(n), "db": int(_db(req))}, [argv])  # fmt: skip
    keys = (f.object or "").split()
    if not keys or "unknown-object" in f.tags or any(c in f.object for c in "$`*"):  # type: ignore[operator]
        return unavailable("the keys are not known before the command runs")
    argv = [*base, "-n", _db(req), "EXISTS", *keys]
    c = run(argv, req)
    err = _error(c)
    n = c.out.strip().removeprefix("(integer) ")
    if err or not n.isdigit():
        return failed(err or f"EXISTS answered {c.out.strip()[:80]!r}", [argv])
    return ok([f"{n} of {plural(len(keys), 'key')} exist now and would be deleted"],
              {"existing": int(n), "named": len(keys)}, [argv])  # fmt: skip
