"""Unit tables for the redis-cli analyzer, on hand-built invocations."""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.redis  # noqa: F401  (registers the analyzers)
from guardsh.analyze.redis import resp_or_lines, split_line
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Snapshot, Span, Stdin, Target, Word
from tests.analyze.support import brief, findings, spaced_words

LOCAL = Target("local", (("hostname", "cache-1"),))
SSH = Target("ssh", (("ssh_host", "prod-cache-1"),))


def run(
    line: str,
    *,
    target: Target = LOCAL,
    stdin: str | None = None,
    stdin_unknown: bool = False,
    via: tuple[str, ...] = (),
    extra: list[Word] | None = None,
    files: dict[str, str] | None = None,
) -> list[Finding]:
    argv = tuple(spaced_words(line)) + tuple(extra or ())
    if stdin_unknown:
        st: Stdin | None = Stdin(None, "pipe")
    else:
        st = Stdin(stdin, "heredoc", Span(100, 120)) if stdin is not None else None
    inv = Invocation(
        program=posixpath.basename(argv[0].value),
        argv=argv,
        span=Span(0, len(line)),
        target=target,
        stdin=st,
        via=via,
    )
    ctx = Context(
        line=line,
        snapshot=Snapshot(cwd="/srv/app"),
        facts=Facts(read_file=(files or {}).get),
        recurse_shell=lambda text, tgt, span: [],
    )
    return findings(inv, ctx)


H, L, N = "high", "low", "none"

FIRING = [
    ("redis-cli FLUSHALL", [("redis.flush", "all databases", H)]),
    ("redis-cli flushall async", [("redis.flush", "all databases", H)]),
    ("redis-cli -h h -p 6380 -n 2 FLUSHALL ASYNC", [("redis.flush", "all databases", H)]),
    ("redis-cli -n 3 FLUSHDB", [("redis.flush", "db 3", H)]),
    ("redis-cli -n3 flushdb sync", [("redis.flush", "db 3", H)]),
    ("redis-cli FlushDb", [("redis.flush", "db 0", H)]),
    ("redis-cli -u redis://u:pw@cache:6390/4 FLUSHDB", [("redis.flush", "db 4", H)]),
    ("redis-cli DEL sess:1 sess:2", [("redis.delete", "sess:1 sess:2", L)]),
    ("redis-cli unlink k", [("redis.delete", "k", L)]),
    ("redis-cli GETDEL k", [("redis.delete", "k", L)]),
    ("redis-cli DEL $KEYS", [("redis.delete", "$KEYS", H)]),
    ("redis-cli CONFIG SET maxmemory 2gb", [("redis.config", "config maxmemory", L)]),
    ("redis-cli config set save ''", [("redis.config", "config save", L)]),
    ("redis-cli CONFIG REWRITE", [("redis.config", "config file", L)]),
    ("redis-cli CONFIG RESETSTAT", [("redis.config", "stats", N)]),
    ("redis-cli SHUTDOWN", [("redis.config", "server", H)]),
    ("redis-cli shutdown nosave", [("redis.config", "server", H)]),
    ("redis-cli DEBUG SEGFAULT", [("redis.config", "DEBUG SEGFAULT", H)]),
    ("redis-cli debug reload", [("redis.config", "DEBUG RELOAD", H)]),
    ("redis-cli SWAPDB 0 1", [("redis.config", "db 0 <-> db 1", H)]),
    ("redis-cli REPLICAOF 10.0.0.5 6379", [("redis.config", "all databases", H)]),
    ("redis-cli SLAVEOF NO ONE", [("redis.config", "replication", L)]),
    ("redis-cli SCRIPT FLUSH", [("redis.config", "script flush", L)]),
    ("redis-cli FUNCTION FLUSH", [("redis.config", "function flush", L)]),
    ("redis-cli ACL DELUSER app", [("redis.config", "acl deluser", L)]),
    ("redis-cli CLUSTER RESET HARD", [("redis.config", "cluster reset", L)]),
    ("redis-cli MIGRATE h 6379 k 0 5000", [("redis.delete", "k", L)]),
    ("redis-cli EVAL \"return redis.call('FLUSHDB')\" 0", [("redis.flush", "db 0", H)]),
    (
        "redis-cli EVAL \"return redis.call('del', unpack(redis.call('keys', ARGV[1])))\" 0 s:*",
        [("redis.delete", "unpack(redis.call('keys', ARGV[1]))", H)],
    ),
    ("redis-cli EVALSHA abc123 0", [("shell.opaque", "abc123", L)]),
    ("redis-cli -r 5 -i 1 FLUSHDB", [("redis.flush", "db 0", H)]),
    ("redis-cli --tls -a s3cret --user admin FLUSHALL", [("redis.flush", "all databases", H)]),
    ("valkey-cli FLUSHALL", [("redis.flush", "all databases", H)]),
    ("redis-cli --cluster call 10.0.0.1:7000 FLUSHALL", [("redis.flush", "all databases", H)]),
    ("redis-cli --cluster del-node 10.0.0.1:7000 abc", [("redis.config", "cluster del-node", L)]),
    ("redis-cli EXPIRE k 0", [("redis.delete", "k", L)]),
    ("redis-cli expire k -1", [("redis.delete", "k", L)]),
    ("redis-cli PEXPIRE k 0 NX", [("redis.delete", "k", L)]),
    ("redis-cli EXPIRE k -5 lt", [("redis.delete", "k", L)]),
    ("redis-cli -n 4 EXPIRE k -100", [("redis.delete", "k", L)]),
    ("redis-cli EXPIREAT k 0", [("redis.delete", "k", L)]),
    ("redis-cli expireat k 999999999", [("redis.delete", "k", L)]),
    ("redis-cli EXPIREAT k 1700000000", [("redis.delete", "k", L)]),
    ("redis-cli PEXPIREAT k 1600000000000", [("redis.delete", "k", L)]),
    ("redis-cli EXPIRE $K 0", [("redis.delete", "$K", H)]),
    ("redis-cli EVAL \"redis.call('expire', KEYS[1], 0)\" 1 k", [("redis.delete", "KEYS[1]", H)]),
    ("redis-cli RENAME a b", [("redis.rename", "b", L)]),
    ("redis-cli rename sess:new sess:live", [("redis.rename", "sess:live", L)]),
    ("redis-cli RENAME a $B", [("redis.rename", "$B", L)]),
    ("redis-cli RENAMENX a b", [("redis.rename", "b", N)]),
]

QUIET = [
    "redis-cli",
    "redis-cli -h web-1.example.internal -p 8080",
    "redis-cli GET k",
    "redis-cli KEYS 'sess:*'",
    "redis-cli SCAN 0 MATCH x*",
    "redis-cli INFO",
    "redis-cli DBSIZE",
    "redis-cli MONITOR",
    "redis-cli PING",
    "redis-cli --scan --pattern 'sess:*'",
    "redis-cli --bigkeys",
    "redis-cli CONFIG GET maxmemory",
    "redis-cli DEBUG OBJECT k",
    "redis-cli SHUTDOWN ABORT",
    "redis-cli SET flushall 1",
    "redis-cli GET DEL",
    "redis-cli -x SET k",
    "redis-cli ls",
    "redis-cli MIGRATE h 6379 k 0 5000 COPY",
    "redis-cli EVAL \"return redis.call('GET', KEYS[1])\" 1 k",
    "redis-cli EXPIRE k 60",
    "redis-cli PEXPIRE k 1500 XX",
    "redis-cli EXPIRE k $TTL",
    "redis-cli EXPIRE k 1.5",
    "redis-cli EXPIRE k +0",
    "redis-cli EXPIRE k 00",
    "redis-cli EXPIRE k 0 GT",
    "redis-cli EXPIRE k",
    "redis-cli EXPIREAT k 1900000000",
    "redis-cli PEXPIREAT k 1900000000000",
    "redis-cli EVAL \"redis.call('expire', KEYS[1], 3600)\" 1 k",
    "redis-cli TTL k",
    "redis-cli PTTL k",
    "redis-cli PERSIST k",
    "redis-cli EXISTS k",
    "redis-cli EXPIRETIME k",
    "redis-cli RENAME a",
    "redis-cli GET RENAME",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_flushdb_target_fields_from_options() -> None:
    (f,) = run("redis-cli -h prod-cache -p 6380 -n 2 FLUSHDB")
    assert f.target.kind == "db"
    assert f.target.get("db_engine") == "redis"
    assert (f.target.get("db_host"), f.target.get("db_port"), f.target.get("db_name")) == (
        "prod-cache",
        "6380",
        "2",
    )
    assert f.target.get("hostname") is None  # a remote server: not the local host's


def test_uri_target_drops_credentials_and_marks_tls() -> None:
    (f,) = run("redis-cli -u rediss://admin:s3cret@cache.internal:6390/5 FLUSHALL")
    t = f.target
    assert (t.get("db_host"), t.get("db_port"), t.get("db_name")) == ("cache.internal", "6390", "5")
    assert t.get("db_url") == "rediss://cache.internal:6390/5"
    assert "s3cret" not in repr(t)
    assert t.get("db_tls") == "true"


def test_later_option_wins_over_uri() -> None:
    (f,) = run("redis-cli -u redis://a:6379/1 -h b -n 7 FLUSHDB")
    assert (f.target.get("db_host"), f.target.get("db_name"), f.object) == ("b", "7", "db 7")


def test_local_server_inherits_the_remote_host() -> None:
    (f,) = run("redis-cli FLUSHALL", target=SSH)
    assert f.target.get("ssh_host") == "prod-cache-1"
    assert f.target.get("db_host") == "localhost"
    (g,) = run("redis-cli -h 127.0.0.1 FLUSHALL", target=SSH)
    assert g.target.get("ssh_host") == "prod-cache-1"
    (h,) = run("redis-cli -h other FLUSHALL", target=SSH)
    assert h.target.get("ssh_host") is None


def test_local_server_carries_hostname() -> None:
    (f,) = run("redis-cli FLUSHALL")
    assert f.target.get("hostname") == "cache-1"


def test_socket_is_local() -> None:
    (f,) = run("redis-cli -s /run/redis/redis.sock FLUSHALL")
    assert f.target.get("db_socket") == "/run/redis/redis.sock"
    assert f.target.get("hostname") == "cache-1"


def test_stdin_one_command_per_line() -> None:
    fs = run("redis-cli -h prod-cache", stdin="PING\nFLUSHALL\nGET k\nDEL a b\n")
    assert brief(fs) == [("redis.flush", "all databases", H), ("redis.delete", "a b", L)]
    assert fs[0].evidence == Span(100, 120)
    assert fs[0].target.get("db_host") == "prod-cache"


def test_stdin_select_switches_database() -> None:
    fs = run("redis-cli", stdin="SELECT 5\nFLUSHDB\n")
    assert brief(fs) == [("redis.flush", "db 5", H)]
    assert fs[0].target.get("db_name") == "5"


def test_stdin_quoted_arguments() -> None:
    fs = run("redis-cli", stdin='SET k "FLUSHALL now"\nDEL "key with space"\n')
    assert brief(fs) == [("redis.delete", "key with space", L)]


def test_stdin_read_only_is_quiet() -> None:
    assert run("redis-cli", stdin="GET a\nKEYS *\nINFO\n") == []


def test_stdin_ignored_when_command_given() -> None:
    assert run("redis-cli GET k", stdin="FLUSHALL\n") == []


def test_stdin_ignored_by_scan_mode() -> None:
    assert run("redis-cli --scan", stdin="FLUSHALL\n") == []


def test_unknown_stdin_is_opaque() -> None:
    assert brief(run("redis-cli -n 1", stdin_unknown=True)) == [
        ("shell.opaque", "commands on stdin", L)
    ]


def test_pipe_mode_reads_resp() -> None:
    resp = "*1\r\n$8\r\nFLUSHALL\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert brief(run("redis-cli --pipe", stdin=resp)) == [("redis.flush", "all databases", H)]


def test_xargs_del_with_unknown_keys_is_high() -> None:
    unknown = Word("{keys from redis-cli --scan}", known=False)
    fs = run("redis-cli del", via=("xargs",), extra=[unknown])
    assert brief(fs) == [("redis.delete", "{keys from redis-cli --scan}", H)]
    assert {"pattern", "unknown-object"} <= fs[0].tags


def test_xargs_del_without_visible_keys_is_high() -> None:
    assert brief(run("redis-cli -n 2 unlink", via=("xargs",))) == [
        ("redis.delete", "keys from stdin", H)
    ]


def test_del_with_glob_word_is_high() -> None:
    glob = Word("sess:*", known=True, glob=True)
    assert brief(run("redis-cli DEL", extra=[glob])) == [("redis.delete", "sess:*", H)]


def test_repeat_tag() -> None:
    (f,) = run("redis-cli -r 100 DEL k")
    assert "repeat" in f.tags


def test_cluster_call_target_is_the_node() -> None:
    (f,) = run("redis-cli --cluster call 10.0.0.1:7000 FLUSHDB")
    assert (f.target.get("db_host"), f.target.get("db_port")) == ("10.0.0.1", "7000")
    assert "cluster" in f.tags


def test_eval_file_is_read() -> None:
    files = {"/srv/app/wipe.lua": "redis.call('FLUSHALL')\nreturn 1\n"}
    assert brief(run("redis-cli --eval wipe.lua", files=files)) == [
        ("redis.flush", "all databases", H)
    ]


def test_eval_file_unreadable_is_opaque() -> None:
    assert brief(run("redis-cli --eval /x/gone.lua")) == [("shell.opaque", "/x/gone.lua", L)]


def test_evidence_is_the_command_words() -> None:
    line = "redis-cli -n 2 FLUSHDB"
    (f,) = run(line)
    assert f.evidence.text(line) == "FLUSHDB"


def test_split_line_and_resp_helpers() -> None:
    assert [w.value for w in split_line("SET 'a b' c") or []] == ["SET", "a b", "c"]
    assert split_line("   ") is None
    assert [w.value for w in split_line('SET "unbalanced') or []] == ["SET", '"unbalanced']
    cmds = [[w.value for w in c] for c in resp_or_lines("*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n")]
    assert cmds == [["DEL", "k"]]


def test_unknown_uri_is_not_guessed_local() -> None:
    (f,) = run("redis-cli -u $REDIS_URL FLUSHALL")
    assert (f.target.get("db_host"), f.target.get("hostname")) == ("$REDIS_URL", None)


def test_expire_and_rename_tags() -> None:
    (f,) = run("redis-cli EXPIRE k 0")
    assert f.tags == {"expire"}
    (g,) = run("redis-cli EXPIRE $K 0")
    assert g.tags == {"expire", "pattern", "unknown-object"}
    (h,) = run("redis-cli RENAME a b")
    assert h.tags == {"rename", "overwrite"}
    (i,) = run("redis-cli RENAMENX a b")
    assert i.tags == {"rename", "nx"}
