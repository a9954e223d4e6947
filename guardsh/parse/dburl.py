"""Database connection text -> a `Target(kind="db")` (pure).

Reads the forms clients take: URLs (`postgres://`, `postgresql://`,
`mysql://`, `clickhouse://`, SQLAlchemy's `postgresql+psycopg2://`,
`jdbc:postgresql://`), libpq conninfo (`host=... dbname=...`), libpq
environment variables, `pg_service.conf` and `my.cnf` text. Passwords are
never kept: a target's `db_url` is rebuilt from the parts, without one, and
`db_url_typed` is the URL as written (without its password), kept when it
differs from `db_url` and still names the target's host and database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from guardsh.model import Target

ENGINES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "pgsql": "postgresql",
    "psql": "postgresql",
    "cockroachdb": "cockroach",
    "cockroach": "cockroach",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysqlx": "mysql",
    "clickhouse": "clickhouse",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}
DEFAULT_PORT = {"postgresql": "5432", "mysql": "3306", "clickhouse": "9000", "cockroach": "26257"}
_SCHEME = re.compile(r"^(?:jdbc:)?([A-Za-z][\w.+-]*)://")
# libpq environment variables -> connection parameters
PG_ENV = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGSERVICE": "service",
}
_CONNINFO = re.compile(r"""\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)""")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_url(text: str) -> bool:
    return _SCHEME.match(text) is not None


def is_conninfo(text: str) -> bool:
    return "=" in text and _CONNINFO.match(text) is not None and not is_url(text)


def as_typed(url: str) -> str:
    """The URL as written, without a password (`user:pw@`, `?password=`)."""
    m = _SCHEME.match(url)
    if m is None:
        return url
    rest = url[m.end() :]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    if "@" in netloc:
        cred, _, hosts = netloc.rpartition("@")
        user = cred.split(":", 1)[0]
        netloc = f"{user}@{hosts}" if user else hosts
    path, q, query = tail.partition("?")
    if q:
        kept = [kv for kv in query.split("&") if "password" not in kv.split("=", 1)[0].lower()]
        tail = path + ("?" + "&".join(kept) if kept else "")
    return url[: m.end()] + netloc + tail


def parse_url(url: str) -> dict[str, str] | None:
    """`scheme://user:pw@host:port/db?opt=v` -> params (host, port, dbname,
    user, engine, ...; `url`: the URL as typed, see `as_typed`)."""
    m = _SCHEME.match(url)
    if m is None:
        return None
    scheme = m.group(1).lower()
    engine = ENGINES.get(scheme.split("+", 1)[0])
    if engine is None:
        return None
    rest = url[m.end() :]
    if engine == "sqlite":  # sqlite:///relative.db, sqlite:////abs/path.db
        path = rest[1:] if rest.startswith("/") else rest
        return {"engine": engine, "dbname": unquote(path.split("?", 1)[0]), "url": as_typed(url)}
    out: dict[str, str] = {"engine": engine, "url": as_typed(url)}
    netloc, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    if "?" in netloc:
        netloc, _, query = netloc.partition("?")
    if "@" in netloc:
        cred, _, netloc = netloc.rpartition("@")
        user = cred.split(":", 1)[0]
        if user:
            out["user"] = unquote(user)
    hosts, ports = [], []
    for hp in netloc.split(","):
        if not hp:
            continue
        if hp.startswith("["):  # [::1]:5432
            h, _, p = hp[1:].partition("]")
            p = p.lstrip(":")
        else:
            h, _, p = hp.partition(":")
        hosts.append(unquote(h))
        if p:
            ports.append(p)
    if hosts:
        out["host"] = ",".join(hosts)
    if ports:
        out["port"] = ports[0]
    if path:
        out["dbname"] = unquote(path)
    for k, v in parse_qsl(query, keep_blank_values=True):
        k = k.lower()
        if k in ("host", "port", "dbname", "user", "service", "hostaddr", "database"):
            out["dbname" if k == "database" else k] = v
    return out


def parse_conninfo(text: str) -> dict[str, str] | None:
    """libpq `host=db1 port=5432 dbname='my db'` -> params; None when not conninfo."""
    out: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _CONNINFO.match(text, pos)
        if m is None:
            return None
        k, v = m.group(1).lower(), m.group(2)
        if v.startswith("'"):
            v = re.sub(r"\\(.)", r"\1", v[1:-1] if v.endswith("'") and len(v) > 1 else v[1:])
        if k != "password":
            out[k] = v
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out or None


def parse_dbname(text: str) -> dict[str, str]:
    """psql's dbname argument: a URL, conninfo, or just a database name."""
    if is_url(text):
        return parse_url(text) or {}
    if "=" in text:
        got = parse_conninfo(text)
        if got is not None:
            return got
    return {"dbname": text}


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """`[section]` / `key=value` text (pg_service.conf, my.cnf) -> sections."""
    out: dict[str, dict[str, str]] = {}
    cur: dict[str, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or line.startswith("!"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = out.setdefault(line[1:-1].strip(), {})
            continue
        if cur is None:
            continue
        k, _, v = line.partition("=")
        k = k.strip().lower()
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            v = v[1:-1]
        cur[k] = v
    return out


def service_params(text: str, name: str) -> dict[str, str] | None:
    """The parameters of service `name` in pg_service.conf text."""
    section = parse_ini(text).get(name)
    if section is None:
        return None
    return {k: v for k, v in section.items() if k != "password"}


def my_cnf_params(text: str, groups: tuple[str, ...] = ("client", "mysql")) -> dict[str, str]:
    """host/port/user/database/socket from my.cnf text (later groups win)."""
    sections = parse_ini(text)
    out: dict[str, str] = {}
    for g in groups:
        for k, v in sections.get(g, {}).items():
            k = k.replace("_", "-")
            if k in ("host", "port", "user", "database", "socket"):
                out["dbname" if k == "database" else k] = v
    return out


def env_params(
    get: Callable[[str], str | None], table: Mapping[str, str] = PG_ENV
) -> dict[str, str]:
    out = {}
    for var, key in table.items():
        v = get(var)
        if v:
            out[key] = v
    return out


def sanitize_url(url: str) -> str:
    """The URL without its password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{user}@{netloc[1]}").geturl()


def is_local_host(host: str | None) -> bool:
    return not host or host.startswith("/") or host.lower() in _LOCAL_HOSTS


def db_target(engine: str, params: Mapping[str, str], machine: Target | None = None) -> Target:
    """A db Target from resolved connection parameters.

    No host, a socket directory or localhost means the database is on the
    machine the client runs on: that machine's fields (hostname, ssh_host,
    kube_context, ...) are copied in, so a policy sees both.
    """
    host = params.get("host") or params.get("hostaddr") or ""
    socket = not host or host.startswith("/") or (engine == "mysql" and host == "localhost")
    hosts = host.split(",") if host else []
    first = hosts[0] if hosts else ""
    if engine == "sqlite":
        first, socket = "localhost", False
    shown = "localhost" if not first or first.startswith("/") else first
    port = params.get("port") or DEFAULT_PORT.get(engine, "")
    if engine == "sqlite" or (socket and engine == "mysql"):
        port = ""
    name = params.get("dbname") or ""
    user = params.get("user") or ""
    fields: dict[str, str | None] = {}
    if machine is not None and (engine == "sqlite" or is_local_host(first)):
        fields.update((k, v) for k, v in machine.fields if not k.startswith("db_"))
        if machine.kind != "local":
            fields["db_via"] = machine.kind
    scheme = engine if engine != "postgresql" else "postgresql"
    if engine == "sqlite":
        url = f"sqlite:///{name}"
    else:
        auth = f"{user}@" if user else ""
        hp = shown if ":" not in shown else f"[{shown}]"
        url = f"{scheme}://{auth}{hp}{':' + port if port else ''}/{name}"
    typed = params.get("url")
    fields.update(
        db_engine=engine,
        db_host=shown,
        db_port=port or None,
        db_name=name or None,
        db_user=user or None,
        db_url=url,
        db_socket="yes" if socket else None,
        db_hosts=",".join(hosts) if len(hosts) > 1 else None,
        db_service=params.get("service") or None,
        db_url_typed=typed if typed and typed != url and _still_names(typed, params) else None,
    )
    return Target("db").with_fields(**fields)


def _still_names(typed: str, params: Mapping[str, str]) -> bool:
    """Does the URL as typed still say where the client goes? Not after
    psql's `\\c other` or `clickhouse client URL --host h2` changed a part it
    named (a part it left out may be filled in from elsewhere)."""
    said = parse_url(typed) or {}
    return all(params.get(k) == v for k, v in said.items() if k not in ("url", "engine"))
