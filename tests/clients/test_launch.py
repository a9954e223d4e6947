"""Which shell lines start a client under guard, and how it is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardsh.clients import kinds, launch
from guardsh.errors import PolicyError
from guardsh.model import Facts, Snapshot
from guardsh.policy.layers import load_files
from guardsh.policy.schema import Policy


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    path = tmp_path / "p.yaml"
    path.write_text("environments:\n  - name: production\n    color: red\n    protected: true\n"
                    "    match:\n      db_host: ['*prod*']\n"
                    "  - name: development\n    protected: false\n    match:\n"
                    "      db_host: ['dev-db']\n")  # fmt: skip
    return load_files([str(path)])


SNAP = Snapshot(variables={"DB": "postgres://db.prod.internal/app"}, hostname="ws-1", user="alice")


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("psql", ("psql",)),
        ('psql "$DB"', ("psql", "postgres://db.prod.internal/app")),
        ("PGHOST=db.prod psql app", ("psql", "app")),
        ("sudo -u postgres psql", ("sudo", "-u", "postgres", "psql")),
        (
            "mysql -h db.prod -u root -pSECRET shop",
            ("mysql", "-h", "db.prod", "-u", "root", "-pSECRET", "shop"),
        ),
        ("sqlite3 prod.db", ("sqlite3", "prod.db")),
        ("redis-cli -h cache.prod", ("redis-cli", "-h", "cache.prod")),
        ("mongosh mongodb://m.prod/app", ("mongosh", "mongodb://m.prod/app")),
        ("time psql -h db.prod app", ("time", "psql", "-h", "db.prod", "app")),
        ("time -p psql app", ("time", "-p", "psql", "app")),
        ("/usr/bin/time -v psql app", ("/usr/bin/time", "-v", "psql", "app")),
        ('bash -c "psql -h db.prod app"', ("bash", "-c", "psql -h db.prod app")),
        ("sh -c 'PGHOST=db.prod psql app'", ("sh", "-c", "PGHOST=db.prod psql app")),
        ("/bin/bash -lc 'exec redis-cli -h c'", ("/bin/bash", "-lc", "exec redis-cli -h c")),
        ("su postgres -c 'psql app'", ("su", "postgres", "-c", "psql app")),
        ("su - postgres -c 'psql app'", ("su", "-", "postgres", "-c", "psql app")),
        ("su --command='mysql shop' bob", ("su", "--command=mysql shop", "bob")),
        ("sudo -u postgres -i psql app", ("sudo", "-u", "postgres", "-i", "psql", "app")),
        ("sudo bash -c 'psql app'", ("sudo", "bash", "-c", "psql app")),
        ("command psql app", ("command", "psql", "app")),
        ("exec psql app", ("exec", "psql", "app")),
        ("bash -c 'command psql app'", ("bash", "-c", "command psql app")),
    ],
)
def test_plan_interactive_clients(line: str, argv: tuple[str, ...]) -> None:
    p = launch.plan(line, SNAP, Facts())
    assert p is not None and p.argv == argv


@pytest.mark.parametrize(
    "line",
    [
        "psql -c 'SELECT 1'", "psql -f x.sql", "psql -l", "echo 'DROP TABLE t' | psql",
        "psql < x.sql", "psql > out.txt", "psql; ls", "redis-cli GET k", "redis-cli --scan",
        "mysql -e 'select 1'", "sqlite3 x.db 'select 1'", "mongosh --eval 'db.x.drop()'",
        "mongosh script.js", "ssh db-1 psql", "ls", "psql $(cat url)", "psql *.db",
        "bash -c 'psql app; ls'", "bash -c 'psql app > out'", "bash -c 'psql -c \"DROP x\"'",
        "su postgres -c 'psql -f x.sql'", "bash -c \"bash -c 'psql'\"", "builtin psql",
        "bash script.sh", "time psql -c 'select 1'",
    ],
)  # fmt: skip
def test_plan_leaves_the_rest_alone(line: str) -> None:
    assert launch.plan(line, SNAP, Facts()) is None


def test_should_proxy_follows_the_target(policy: Policy) -> None:
    prod = launch.plan("psql -h db.prod.internal app", SNAP, Facts())
    dev = launch.plan("psql -h dev-db app", SNAP, Facts())
    assert prod is not None and dev is not None
    assert launch.should_proxy(prod.invocation, None, policy, snapshot=SNAP, facts=Facts())
    assert not launch.should_proxy(dev.invocation, None, policy, snapshot=SNAP, facts=Facts())
    batch = launch.plan("psql -h db.prod.internal app", SNAP, Facts())
    assert batch is not None


def test_client_argv_turns_line_editing_off() -> None:
    assert launch.client_argv(kinds.PSQL, ["sudo", "-u", "postgres", "psql", "app"]) == (
        ["sudo", "-u", "postgres", "psql", "-n", "app"],
        3,
    )
    assert launch.client_argv(kinds.SQLITE, ["/usr/bin/sqlite3", "x.db"])[0] == [
        "/usr/bin/sqlite3",
        "-batch",
        "x.db",
    ]
    assert launch.client_argv(kinds.REDIS, ["redis-cli"])[0] == ["redis-cli"]
    assert kinds.REDIS.env == {"TERM": "dumb"}


@pytest.mark.parametrize(
    ("kind", "argv", "env", "expected"),
    [
        (kinds.PSQL, ["bash", "-c", "psql -h x app"], {}, ["bash", "-c", "psql -n -h x app"]),
        (kinds.PSQL, ["bash", "-c", "psql"], {}, ["bash", "-c", "psql -n"]),
        (kinds.PSQL, ["sh", "-lc", "exec psql app"], {}, ["sh", "-lc", "exec psql -n app"]),
        (kinds.PSQL, ["su", "-", "pg", "-c", "PGHOST=x /usr/bin/psql app"], {},
         ["su", "-", "pg", "-c", "PGHOST=x /usr/bin/psql -n app"]),
        (kinds.REDIS, ["su", "u", "-c", "redis-cli -h c"], {"TERM": "dumb"},
         ["su", "u", "-c", "TERM=dumb redis-cli -h c"]),
        (kinds.MYSQL, ["su", "--command=mysql shop", "bob"], {"EDITRC": "/tmp/e r"},
         ["su", "--command=EDITRC='/tmp/e r' mysql shop", "bob"]),
        (kinds.PSQL, ["/usr/bin/time", "-v", "psql", "app"], {},
         ["/usr/bin/time", "-v", "psql", "-n", "app"]),
        (kinds.MYSQL, ["sudo", "-u", "bob", "mysql", "shop"], {"EDITRC": "/tmp/e"},
         ["sudo", "-u", "bob", "env", "EDITRC=/tmp/e", "mysql", "shop"]),
        (kinds.REDIS, ["env", "-i", "redis-cli"], {"TERM": "dumb"},
         ["env", "-i", "env", "TERM=dumb", "redis-cli"]),
        (kinds.MYSQL, ["nice", "mysql"], {"EDITRC": "/tmp/e"}, ["nice", "mysql"]),
    ],
)  # fmt: skip
def test_client_argv_reaches_into_a_command_string(
    kind: kinds.Kind, argv: list[str], env: dict[str, str], expected: list[str]
) -> None:
    assert launch.client_argv(kind, argv, env)[0] == expected


@pytest.mark.parametrize(
    ("argv", "words", "clear"),
    [
        (["command", "psql", "app"], ["psql", "app"], False),
        (["command", "-p", "--", "psql"], ["psql"], False),
        (["exec", "psql"], ["psql"], False),
        (["exec", "-l", "-a", "name", "psql"], ["psql"], False),
        (["exec", "-c", "psql"], ["psql"], True),
        (["command", "exec", "sudo", "psql"], ["sudo", "psql"], False),
        (["sudo", "psql"], ["sudo", "psql"], False),
        (["command", "time", "psql"], ["time", "psql"], False),  # /usr/bin/time
    ],
)
def test_command_and_exec_are_not_programs(argv: list[str], words: list[str], clear: bool) -> None:
    assert launch._builtins(argv) == (words, clear)


def test_the_time_keyword_is_guardsh_s_own() -> None:
    assert launch._time_keyword(["time", "-p", "psql", "app"]) == (["psql", "app"], "posix")
    assert launch._time_keyword(["time", "psql"]) == (["psql"], "bash")
    assert launch._time_keyword(["/usr/bin/time", "psql"]) == (["/usr/bin/time", "psql"], None)
    bash = "\nreal\t1m1.500s\nuser\t0m0.250s\nsys\t0m0.000s\n"
    assert launch._times("bash", 61.5, 0.25, 0.0) == bash
    assert launch._times("posix", 1.5, 0.25, 0.0) == "real 1.50\nuser 0.25\nsys 0.00\n"


def test_run_client_needs_a_terminal(policy: Policy, tmp_path: Path) -> None:
    r, w = __import__("os").pipe()
    status = launch.run_client(["psql"], SNAP, policy, Facts(), None, stdin=r, stdout=w)
    assert status == launch.REFUSED


@pytest.mark.parametrize(("mode", "prod", "dev"), [("always", True, True), ("never", False, False)])
def test_the_client_proxy_setting(tmp_path: Path, mode: str, prod: bool, dev: bool) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("environments:\n  - name: production\n    color: red\n    protected: true\n"
                    "    match:\n      db_host: ['*prod*']\n"
                    f"settings:\n  client_proxy: {mode}\n")  # fmt: skip
    policy = load_files([str(path)])
    assert policy.settings.client_proxy == mode
    for line, expected in (("psql -h db.prod.internal app", prod), ("psql -h dev-db app", dev)):
        p = launch.plan(line, SNAP, Facts())
        assert p is not None
        got = launch.should_proxy(p.invocation, None, policy, snapshot=SNAP, facts=Facts())
        assert got is expected, line


def test_an_unknown_client_proxy_mode_points_at_the_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("settings:\n  client_proxy: sometimes\n")
    with pytest.raises(PolicyError, match=r"p.yaml:2:17: unknown client_proxy `sometimes`"):
        load_files([str(path)])


def test_guardsh_c_asks_no_analysis_server_for_a_client_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guardsh.cli import main as cli

    monkeypatch.setattr(cli.os, "isatty", lambda fd: True)
    assert cli._client_on_terminal("psql -h db.prod app")
    assert cli._client_on_terminal("bash -c 'redis-cli'")
    assert not cli._client_on_terminal("ls -l")
    monkeypatch.setattr(cli.os, "isatty", lambda fd: fd != 1)  # output to a file or pipe
    assert not cli._client_on_terminal("psql -h db.prod app")


def test_command_runner_needs_a_terminal(policy: Policy) -> None:
    from guardsh.model import Decision, Requirement, Verdict

    d = Decision("psql -h db.prod.internal app", Verdict(Requirement.ALLOW), "production", ())
    assert launch.command_runner(d, policy, SNAP, Facts(), None) is None  # pytest: no tty


def test_the_start_is_recorded_where_the_client_connects(policy: Policy) -> None:
    from guardsh.model import Decision, Requirement, Verdict

    p = launch.plan("psql -h db.prod.internal app", SNAP, Facts())
    assert p is not None
    d = Decision(p.argv[0], Verdict(Requirement.ALLOW), "staging", ())
    assert launch.start_decision(d, p, policy, SNAP, Facts()).environment == "production"
