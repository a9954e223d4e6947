"""Container analyzers: docker, podman, nerdctl and compose.

Severity choices:
- removing containers, images, networks, secrets is LOW; removing volumes, or
  containers with `-v` (anonymous volumes: where database images keep their
  data), is HIGH (tag `volumes`).
- `rm -f`, `kill` and `stop` of a container whose name looks like a data
  store (postgres, mysql, mariadb, redis, mongo, etcd, elastic, kafka, `*db`,
  ...) are HIGH with tag `db`; of anything else LOW. restart/pause stay LOW.
- `system prune` is LOW, HIGH with `-a` (every unused image) or `--volumes`;
  `volume prune` and `system reset` are HIGH; container/image/network/builder
  prune are LOW. `compose down` is container.remove LOW; with `-v` also
  container.prune HIGH. `stack rm` is HIGH (every service of the stack).
- `-H/--host/--url`, `DOCKER_HOST`/`CONTAINER_HOST` and `--context`/`-c`/
  `--connection`, `DOCKER_CONTEXT` are recorded as target fields
  `docker_host`/`docker_context`; an `ssh://` host also sets `ssh_host`.
`exec` is peeled by the unwrapper, not analyzed here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Target, Word
from guardsh.parse.argv import Parsed, parse_argv

_GLOBAL_SHORT = "Hclna"
_GLOBAL_LONG = frozenset(
    {
        "host", "context", "config", "log-level", "tlscacert", "tlscert", "tlskey",
        "connection", "url", "identity", "root", "runroot", "storage-driver",
        "storage-opt", "cgroup-manager", "events-backend", "hooks-dir", "namespace",
        "network-cmd-path", "runtime", "runtime-flag", "tmpdir", "module", "ssh", "out",
        "address", "snapshotter", "data-root", "cni-path", "cni-netconfpath",
        "imagestore", "volumepath", "conmon", "network-config-dir", "db-backend",
        "cdi-spec-dir", "host-gateway-ip", "registries-conf",
    }
)  # fmt: skip
_COMPOSE_SHORT = "fpHc"
_COMPOSE_LONG = frozenset(
    {
        "file", "project-name", "project-directory", "profile", "env-file", "ansi",
        "progress", "parallel", "host", "context", "log-level", "tlscacert", "tlscert",
        "tlskey",
    }
)  # fmt: skip
# Per-verb options that take a value, so their values are not read as names.
_VERB_SHORT = "st"
_VERB_LONG = frozenset(
    {"time", "timeout", "signal", "filter", "depend", "cidfile", "rmi", "until",
     "max-used-space", "reserved-space", "keep-storage", "builder", "format"}
)  # fmt: skip

_SPLIT = re.compile(r"[-_./:@0-9]+")
_DB_WORDS = frozenset(
    {
        "postgres", "postgresql", "pg", "pgsql", "postgis", "timescale", "mysql",
        "mysqld", "mariadb", "redis", "valkey", "mongo", "mongod", "etcd",
        "elasticsearch", "elastic", "opensearch", "cassandra", "scylla", "clickhouse",
        "cockroach", "influx", "kafka", "zookeeper", "rabbitmq", "minio", "neo4j",
        "database", "db", "vault", "consul",
    }
)  # fmt: skip
_GENTLE = frozenset({"HUP", "SIGHUP", "USR1", "SIGUSR1", "USR2", "SIGUSR2", "1"})


def _looks_db(name: str) -> bool:
    for part in _SPLIT.split(name.lower()):
        if part in _DB_WORDS or (len(part) > 3 and part.endswith("db")):
            return True
    return False


def _span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


class _Call:
    """One container-tool call: its invocation, where it acts, and its verb."""

    __slots__ = ("_target", "ctx", "g", "inv", "verb")

    def __init__(self, inv: Invocation, ctx: Context, g: Parsed, verb: Word) -> None:
        self.inv, self.ctx, self.g, self.verb = inv, ctx, g, verb
        self._target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = _target(self.inv, self.ctx, self.g)
        return self._target

    def emit(
        self, action: str, obj: str, sev: Severity, word: Word | None,
        tags: list[str], detail: str,
    ) -> Finding:  # fmt: skip
        if word is not None and not word.known:
            tags = [*tags, "unknown-object"]
        return finding(
            self.inv, action, obj, sev, evidence=_span(self.inv, self.verb, word),
            tags=tags, detail=detail, target=self.target,
        )  # fmt: skip


def _target(inv: Invocation, ctx: Context, g: Parsed) -> Target:
    vars_ = ctx.snapshot.variables

    def env(name: str) -> str | None:
        return inv.env_get(name) or vars_.get(name)

    host_w = g.value("-H", "--host", "--url", "-a", "--address")
    host = host_w.value if host_w is not None else env("DOCKER_HOST") or env("CONTAINER_HOST")
    ctx_w = g.value("-c", "--context", "--connection")
    context = ctx_w.value if ctx_w is not None else (
        env("DOCKER_CONTEXT") or env("CONTAINER_CONNECTION")
    )  # fmt: skip
    if host is None and context is None:
        return inv.target
    ssh_host = None
    if host and host.startswith("ssh://"):
        hostport = host[6:].split("/", 1)[0].rpartition("@")[2]
        ssh_host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
    return inv.target.with_fields(docker_host=host, docker_context=context, ssh_host=ssh_host)


def _names(c: _Call, p: Parsed) -> list[Word]:
    """The operands, plus `*` for `-a/--all` and `latest` for podman's `-l`."""
    out = list(p.operands)
    if p.has("-a", "--all", "--all-inactive"):
        out.append(Word("*", c.verb.span))
    if c.inv.program == "podman" and p.has("-l", "--latest"):
        out.append(Word("latest", c.verb.span))
    return out


def _rm_containers(c: _Call, args: tuple[Word, ...], what: str = "container") -> Iterator[Finding]:
    p = parse_argv(args, short_value=_VERB_SHORT, long_value=_VERB_LONG)
    if p.has("--help", "-h") or (c.inv.program != "podman" and p.has("-l", "--link")):
        return  # `docker rm --link` removes a link, not a container
    force = p.has("-f", "--force")
    volumes = p.has("-v", "--volumes")
    for w in _names(c, p):
        tags: list[str] = ["volumes"] if volumes else []
        sev = Severity.HIGH if volumes else Severity.LOW
        if w.value == "*":
            tags.append("all")
            sev = Severity.HIGH if force or volumes else sev
        elif _looks_db(w.value):
            tags.append("db")
            sev = Severity.HIGH if force else sev
        if force:
            tags.append("force")
        detail = f"{what} {w.value} removed" + (" with its anonymous volumes" if volumes else "")
        yield c.emit("container.remove", w.value, sev, w, tags, detail)


def _rm_objects(kind: str, sev: Severity) -> Callable[[_Call, tuple[Word, ...]], Iterator[Finding]]:
    def handler(c: _Call, args: tuple[Word, ...]) -> Iterator[Finding]:
        p = parse_argv(args, short_value=_VERB_SHORT, long_value=_VERB_LONG)
        if p.has("--help", "-h"):
            return
        tags = [kind] + (["force"] if p.has("-f", "--force") else [])
        for w in _names(c, p):
            yield c.emit("container.remove", w.value, sev, w, tags, f"{kind} {w.value} removed")

    return handler


def _kill(c: _Call, args: tuple[Word, ...], what: str = "container") -> Iterator[Finding]:
    p = parse_argv(args, short_value=_VERB_SHORT, long_value=_VERB_LONG)
    if p.has("--help", "-h", "--dry-run"):
        return
    verb = c.verb.value
    sig = p.value("-s", "--signal")
    gentle = verb in ("restart", "pause") or (
        verb == "kill" and sig is not None and sig.value.upper() in _GENTLE
    )  # fmt: skip
    for w in _names(c, p):
        tags: list[str] = [verb]
        if w.value == "*":
            tags.append("all")  # every container, databases included
        elif _looks_db(w.value):
            tags.append("db")
        sev = Severity.HIGH if len(tags) > 1 and not gentle else Severity.LOW
        yield c.emit("container.kill", w.value, sev, w, tags, f"{what} {w.value}: {verb}")


def _rm_service(c: _Call, args: tuple[Word, ...]) -> Iterator[Finding]:
    """`docker service rm`: every task of the service stops."""
    p = parse_argv(args)
    for w in p.operands:
        db = _looks_db(w.value)
        yield c.emit(
            "container.remove", w.value, Severity.HIGH if db else Severity.LOW, w,
            ["service"] + (["db"] if db else []), f"swarm service {w.value} removed",
        )  # fmt: skip


def _prune(kind: str, sev: Severity) -> Callable[[_Call, tuple[Word, ...]], Iterator[Finding]]:
    def handler(c: _Call, args: tuple[Word, ...]) -> Iterator[Finding]:
        p = parse_argv(args, short_value=_VERB_SHORT, long_value=_VERB_LONG)
        if p.has("--help", "-h"):
            return
        s, tags = sev, [kind]
        if kind == "system":
            if p.has("-a", "--all"):
                s, tags = Severity.HIGH, [*tags, "all-images"]
            if p.has("--volumes"):
                s, tags = Severity.HIGH, [*tags, "volumes"]
        elif kind == "volumes" and p.has("-a", "--all"):
            tags.append("all")
        detail = f"unused {kind} removed" if kind != "system" else "unused data removed"
        yield c.emit("container.prune", kind, s, None, tags, detail)

    return handler


def _system_reset(c: _Call, args: tuple[Word, ...]) -> Iterator[Finding]:
    yield c.emit(
        "container.prune", "system", Severity.HIGH, None, ["system", "volumes", "all"],
        "every container, image, volume and network is removed",
    )  # fmt: skip


_Handler = Callable[[_Call, tuple[Word, ...]], Iterator[Finding]]

_TOP: dict[str, _Handler] = {
    "rm": _rm_containers,
    "rmi": _rm_objects("image", Severity.LOW),
    "kill": _kill,
    "stop": _kill,
    "restart": _kill,
    "pause": _kill,
}
_GROUPS: dict[str, dict[str, _Handler]] = {
    "container": {**{k: v for k, v in _TOP.items() if k != "rmi"},
                  "remove": _rm_containers, "prune": _prune("containers", Severity.LOW)},
    "image": {"rm": _rm_objects("image", Severity.LOW),
              "remove": _rm_objects("image", Severity.LOW),
              "prune": _prune("images", Severity.LOW)},
    "volume": {"rm": _rm_objects("volume", Severity.HIGH),
               "remove": _rm_objects("volume", Severity.HIGH),
               "prune": _prune("volumes", Severity.HIGH)},
    "network": {"rm": _rm_objects("network", Severity.LOW),
                "remove": _rm_objects("network", Severity.LOW),
                "prune": _prune("networks", Severity.LOW)},
    "system": {"prune": _prune("system", Severity.LOW), "reset": _system_reset},
    "builder": {"prune": _prune("build-cache", Severity.LOW)},
    "buildx": {"prune": _prune("build-cache", Severity.LOW),
               "rm": _rm_objects("builder", Severity.LOW)},
    "pod": {"rm": _rm_containers, "kill": _kill, "stop": _kill, "restart": _kill,
            "prune": _prune("pods", Severity.LOW)},
    "stack": {"rm": _rm_objects("stack", Severity.HIGH),
              "remove": _rm_objects("stack", Severity.HIGH),
              "down": _rm_objects("stack", Severity.HIGH)},
    "service": {"rm": _rm_service, "remove": _rm_service},
    "secret": {"rm": _rm_objects("secret", Severity.LOW)},
    "config": {"rm": _rm_objects("config", Severity.LOW)},
    "node": {"rm": _rm_objects("node", Severity.LOW)},
}  # fmt: skip


@analyzer("docker", "podman", "nerdctl")
def docker(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    g = parse_argv(inv.args, short_value=_GLOBAL_SHORT, long_value=_GLOBAL_LONG,
                   stop_at_operand=True)  # fmt: skip
    rest = g.rest
    if not rest or not rest[0].known:
        return
    head = rest[0].value
    if head == "compose":
        yield from _compose(inv, ctx, rest[1:], g)
        return
    if head in _TOP:
        yield from _TOP[head](_Call(inv, ctx, g, rest[0]), rest[1:])
        return
    group = _GROUPS.get(head)
    if group is None or len(rest) < 2:
        return
    sub = parse_argv(rest[1:], stop_at_operand=True).rest
    if sub and sub[0].known and sub[0].value in group:
        yield from group[sub[0].value](_Call(inv, ctx, g, sub[0]), sub[1:])


@analyzer("docker-compose", "podman-compose")
def compose_v1(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    yield from _compose(inv, ctx, inv.args, None)


def _compose(
    inv: Invocation, ctx: Context, args: tuple[Word, ...], outer: Parsed | None
) -> Iterator[Finding]:
    g = parse_argv(args, short_value=_COMPOSE_SHORT, long_value=_COMPOSE_LONG,
                   stop_at_operand=True)  # fmt: skip
    rest = g.rest
    if not rest or not rest[0].known or g.has("--dry-run"):
        return
    verb, vargs = rest[0], rest[1:]
    c = _Call(inv, ctx, outer if outer is not None else g, verb)
    project = _project(inv, ctx, g)
    p = parse_argv(vargs, short_value="t", long_value=_VERB_LONG)
    if p.has("--dry-run", "--help", "-h"):
        return
    if verb.value == "down":
        tags = ["compose"] + (["images"] if p.has("--rmi") else [])
        yield c.emit(
            "container.remove", project, Severity.LOW, None, tags,
            f"every container of compose project {project} is stopped and removed",
        )  # fmt: skip
        if p.has("-v", "--volumes"):
            yield c.emit(
                "container.prune", project, Severity.HIGH, None, ["compose", "volumes"],
                f"the volumes of compose project {project} are removed",
            )  # fmt: skip
    elif verb.value == "rm":
        volumes = p.has("-v")
        for w in p.operands or (Word(project, verb.span),):
            tags = ["compose"] + (["volumes"] if volumes else [])
            if _looks_db(w.value):
                tags.append("db")
            yield c.emit(
                "container.remove", w.value, Severity.HIGH if volumes else Severity.LOW, w,
                tags, f"stopped containers of {w.value} removed",
            )  # fmt: skip
    elif verb.value in ("kill", "stop", "restart", "pause"):
        gentle = verb.value in ("restart", "pause")
        for w in p.operands or (Word(project, verb.span),):
            db = _looks_db(w.value)
            sev = Severity.HIGH if db and not gentle else Severity.LOW
            tags = ["compose", verb.value] + (["db"] if db else [])
            yield c.emit("container.kill", w.value, sev, w, tags, f"{w.value}: {verb.value}")


def _project(inv: Invocation, ctx: Context, g: Parsed) -> str:
    """The compose project name, as compose itself derives it."""
    name = g.value("-p", "--project-name")
    if name is not None:
        return name.value
    env = inv.env_get("COMPOSE_PROJECT_NAME") or ctx.snapshot.variables.get("COMPOSE_PROJECT_NAME")
    if env:
        return env
    cwd = inv.cwd or ctx.snapshot.cwd
    d = g.value("--project-directory")
    f = g.value("-f", "--file")
    if d is not None:
        base = posixpath.join(cwd, d.value)
    elif f is not None:
        base = posixpath.dirname(posixpath.join(cwd, f.value))
    else:
        base = cwd
    return posixpath.basename(posixpath.normpath(base)) or "/"
