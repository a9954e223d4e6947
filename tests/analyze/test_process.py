"""Unit tables for the process analyzers, on invocations built from parsed words."""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.process
import guardsh.analyze.process_byname  # noqa: F401  (registers the analyzers)
from guardsh.analyze.process_severity import critical_matches, signal_name
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, ProcInfo, Severity, Snapshot, Target
from tests.analyze.support import brief_tagged, findings, first_command

LOCAL = Target("local", (("hostname", "db-1"),))
SSH = Target("ssh", (("ssh_host", "db-2"),))
POSTMASTER = ProcInfo(
    4242,
    "postgres",
    "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main",
    "postgres",
    "postgres-postmaster",
    frozenset({"db-main", "critical"}),
    "PostgreSQL 15 postmaster, 40 client backends",
)


def run(
    line: str,
    *,
    target: Target = LOCAL,
    files: dict[str, str] | None = None,
    procs: dict[int, ProcInfo] | None = None,
) -> list[Finding]:
    """Findings of the first top-level command of `line` (words from the real parser)."""
    cmd = first_command(line, "/root")
    inv = Invocation(
        posixpath.basename(cmd.words[0].value),
        cmd.words,
        cmd.span,
        target,
        redirects=cmd.redirects,
        cwd="/srv/app",
    )
    ctx = Context(
        line,
        Snapshot(cwd="/srv/app"),
        Facts((files or {}).get, (procs or {}).get),
        lambda text, tgt, span: [],
    )
    return findings(inv, ctx)


K, N, H, L = "process.kill", "process.kill_by_name", "high", "low"

FIRING = [
    ("kill 4242", [(K, "4242", L, [])]),
    ("kill -9 4242", [(K, "4242", L, [])]),
    ("kill -s KILL 4242 4243", [(K, "4242", L, []), (K, "4243", L, [])]),
    ("kill -9 -1", [(K, "-1", H, ["all"])]),
    ("kill -- -1", [(K, "-1", H, ["all"])]),
    ("kill -HUP -1", [(K, "-1", H, ["all"])]),
    ("kill -TERM 1", [(K, "1", H, ["init"])]),
    ("kill -USR1 1", [(K, "1", L, ["init"])]),
    ("kill -- -1234", [(K, "-1234", L, [])]),
    ("kill %2", [(K, "%2", L, [])]),
    ("kill -9 $PID", [(K, "$PID", H, ["unknown-object"])]),
    ("kill -TERM $PID", [(K, "$PID", L, ["unknown-object"])]),
    ("kill -$SIG 4242", [(K, "4242", L, [])]),
    ("kill -9 $(pgrep -x mysqld)", [(K, "processes named mysqld", H, ["critical", "db-main"])]),
    ("kill -9 $(pidof -s nginx)", [(K, "processes named nginx", H, ["critical"])]),
    ("kill -9 `pgrep -f celery`", [(K, "processes named celery", L, [])]),
    ("kill -9 $(cat /run/app.pid)", [(K, "$(cat /run/app.pid)", H, ["unknown-object"])]),
    (
        "kill $(cat /run/redis/redis-server.pid)",
        [(K, "$(cat /run/redis/redis-server.pid)", H, ["critical", "db-main", "unknown-object"])],
    ),
    ("kill -9 $(some-tool --pids)", [(K, "$(some-tool --pids)", H, ["unknown-object"])]),
    ("kill $(lsof -t -i :6379)", [(K, "processes using port 6379", H, ["critical", "db-main"])]),
    ("kill -9 $PPID", [(K, "$PPID", L, ["self"])]),
    ("kill nginx", [(K, "processes named nginx", H, ["critical"])]),
    ("pkill -9 postgres", [(N, "postgres", H, ["critical", "db-main"])]),
    ("pkill -KILL -f 'bin/postgres -D'", [(N, "bin/postgres -D", H, ["critical", "db-main"])]),
    ("pkill -i NGINX", [(N, "NGINX", H, ["critical"])]),
    ("pkill -x ngin", [(N, "ngin", L, [])]),
    ("pkill ngin", [(N, "ngin", H, ["critical"])]),
    ("pkill -U mysql", [(N, "user mysql", H, ["critical"])]),
    (
        "pkill -F /run/mongodb/mongod.pid",
        [(N, "pid in /run/mongodb/mongod.pid", H, ["critical", "db-main"])],
    ),
    ("pkill -STOP -u deploy", [(N, "user deploy", L, [])]),
    ("killall -9 etcd", [(N, "etcd", H, ["critical"])]),
    ("killall -r '^kube'", [(N, "^kube", H, ["critical"])]),
    ("killall -I SSHD", [(N, "SSHD", H, ["critical"])]),
    ("killall --signal HUP haproxy", [(N, "haproxy", L, ["critical"])]),
    ("killall5", [(N, "all processes", H, ["all"])]),
    (
        "fuser -km /var/lib/postgresql",
        [(N, "processes using /var/lib/postgresql", H, ["critical", "db-main"])],
    ),
    ("fuser -k 8080/tcp", [(N, "processes using 8080/tcp", L, [])]),
]


@pytest.mark.parametrize(("line", "want"), FIRING, ids=[c[0] for c in FIRING])
def test_fires(line: str, want: list[tuple[str, str, str, list[str]]]) -> None:
    assert brief_tagged(run(line)) == want


QUIET = [
    "kill -l",
    "kill -L",
    "kill -l 15",
    "kill --list",
    "kill -0 4242",
    "kill -s 0 4242",
    "kill -n 0 4242",
    "kill -EXIT 4242",
    "kill -NOPE 4242",
    "kill -9",
    "kill -p 4242",
    "kill --help",
    "pkill -0 nginx",
    "pkill --signal 0 nginx",
    "pkill -c nginx",
    "pkill --help",
    "killall -l",
    "killall --version",
    "fuser -v /srv/app",
    "fuser -l",
    "killall5 -0",
]


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_process_facts_add_tags_and_detail() -> None:
    (f,) = run("kill -9 4242", procs={4242: POSTMASTER})
    assert (f.severity, f.tags) == (Severity.HIGH, frozenset({"db-main", "critical"}))
    assert "40 client backends" in f.detail and "SIGKILL" in f.detail


def test_gentle_signal_to_critical_process_is_low() -> None:
    (f,) = run("kill -HUP 4242", procs={4242: POSTMASTER})
    assert f.severity is Severity.LOW and "db-main" in f.tags


def test_self_tag_from_facts() -> None:
    me = ProcInfo(77, "guardsh", "guardsh", tags=frozenset({"self"}))
    (f,) = run("kill 77", procs={77: me})
    assert f.tags == frozenset({"self"}) and f.severity is Severity.LOW


def test_pid_file_is_resolved_through_facts() -> None:
    files = {
        "/var/run/postgresql/15-main.pid": "4242\n/var/lib/postgresql/15/main\n1700000000\n5432\n"
    }
    (f,) = run(
        "kill -9 $(cat /var/run/postgresql/15-main.pid)", files=files, procs={4242: POSTMASTER}
    )
    assert (f.object, f.severity) == ("4242", Severity.HIGH)
    assert "15-main.pid" in f.detail and "unknown-object" not in f.tags


def test_pid_file_with_an_ordinary_process() -> None:
    (f,) = run('kill "$(< /run/w.pid)"', files={"/run/w.pid": "99\n"})
    assert (f.object, f.severity, f.tags) == ("99", Severity.LOW, frozenset())


def test_remote_target_ignores_local_facts() -> None:
    files = {"/run/x.pid": "4242\n"}
    (f,) = run("kill -9 $(cat /run/x.pid)", target=SSH, files=files, procs={4242: POSTMASTER})
    assert f.object == "$(cat /run/x.pid)" and "unknown-object" in f.tags
    (g,) = run("kill -9 4242", target=SSH, procs={4242: POSTMASTER})
    assert g.severity is Severity.LOW and g.target == SSH


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("9", "KILL"),
        ("KILL", "KILL"),
        ("SIGKILL", "KILL"),
        ("sigterm", "TERM"),
        ("0", "0"),
        ("IOT", "ABRT"),
        ("RTMIN+3", "RT"),
        ("40", "RT"),
        ("65", None),
        ("bogus", None),
    ],
)
def test_signal_names(spec: str, name: str | None) -> None:
    assert signal_name(spec) == name


def test_critical_matches_regex_exact_and_names() -> None:
    assert critical_matches("postg") >= {"postgres", "postgresql"}
    assert critical_matches("postg", exact=True) == set()
    assert critical_matches("nginx", regex=False) == {"nginx"}
    assert critical_matches("/usr/sbin/nginx", regex=False) == {"nginx"}
    assert critical_matches("ngin", regex=False) == set()
    assert critical_matches("([", regex=True) == set()  # a bad regex is not a crash


def test_a_postgres_backend_is_not_the_postmaster() -> None:
    backend = ProcInfo(5000, "postgres", "postgres: app app 10.0.0.5 idle", "postgres",
                       "PostgreSQL postmaster worker")  # fmt: skip
    (f,) = run("kill 5000", procs={5000: backend})
    assert f.severity is Severity.LOW and f.tags == frozenset()
    (g,) = run("kill -9 5000", procs={5000: backend})
    assert g.severity is Severity.HIGH and "restarts every session" in g.detail
