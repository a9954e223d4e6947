"""redis-cli against a real redis-server: `guardsh check` names the server and
database a line would hit, runs nothing itself, and stays quiet for reads that
really run.

MongoDB has no counterpart here: Debian's archive has no MongoDB server
(`apt-cache policy mongodb-server mongodb` shows no candidate on bookworm), so
mongosh/mongo targets are covered by tests/analyze/cases/mongo.yaml only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.analyze.support import bash, check, only
from tests.servers import RedisServer

pytestmark = pytest.mark.server


@pytest.fixture()
def seeded(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Keys in db 0 and db 3, fresh for each test; the shared server is left empty."""
    s = redis_server
    s.cli("FLUSHALL")
    s.cli("SET", "k", "v0")
    s.cli("SET", "sess:1", "a")
    s.cli("SET", "sess:2", "b")
    s.cli("-n", "3", "SET", "k3", "v3")
    yield s
    s.cli("FLUSHALL")


def test_flushall_names_the_port_and_runs_nothing(seeded: RedisServer) -> None:
    port = str(seeded.port)
    result = check(f"redis-cli -p {port} FLUSHALL")
    f = only(result, "redis.flush")
    assert (f["object"], f["severity"]) == ("all databases", "high")
    assert f["target"]["kind"] == "db"
    assert (f["target"]["db_engine"], f["target"]["db_port"]) == ("redis", port)
    # check analyzes only: the data is still there
    assert seeded.cli("GET", "k") == "v0"
    assert seeded.cli("-n", "3", "DBSIZE") == "1"


def test_flushdb_object_is_the_database_that_really_goes(seeded: RedisServer) -> None:
    port = seeded.port
    line = f"redis-cli -h 127.0.0.1 -p {port} -n 3 FLUSHDB"
    f = only(check(line), "redis.flush")
    assert (f["object"], f["target"]["db_name"], f["target"]["db_host"]) == (
        "db 3",
        "3",
        "127.0.0.1",
    )
    bash(line)  # now for real: db 3 empties, db 0 stays
    assert seeded.cli("-n", "3", "DBSIZE") == "0"
    assert seeded.cli("GET", "k") == "v0"


def test_uri_target(seeded: RedisServer) -> None:
    url = f"redis://default:secret@127.0.0.1:{seeded.port}/3"
    f = only(check(f"redis-cli -u {url} FLUSHDB"), "redis.flush")
    assert f["target"]["db_url"] == f"redis://127.0.0.1:{seeded.port}/3"
    assert "secret" not in json.dumps(f)
    assert f["object"] == "db 3"


def test_commands_on_stdin(seeded: RedisServer) -> None:
    port = seeded.port
    f = only(check(f"printf 'SELECT 3\\nFLUSHDB\\n' | redis-cli -p {port}"), "redis.flush")
    assert (f["object"], f["target"]["db_port"]) == ("db 3", str(port))
    reads = f"printf 'SELECT 3\\nGET k3\\n' | redis-cli -p {port}"
    assert "v3" in bash(reads)
    assert check(reads)["findings"] == []


def test_scan_into_xargs_del_is_a_high_delete(seeded: RedisServer) -> None:
    port = seeded.port
    scan = f"redis-cli -p {port} --scan --pattern 'sess:*'"
    assert sorted(bash(scan).split()) == ["sess:1", "sess:2"]
    assert check(scan)["findings"] == []
    f = only(check(f"{scan} | xargs redis-cli -p {port} del"), "redis.delete")
    assert f["severity"] == "high"
    assert "pattern" in f["tags"]
    assert f["target"]["db_port"] == str(port)


def test_real_reads_stay_quiet(seeded: RedisServer) -> None:
    port = seeded.port
    for line, out in (
        (f"redis-cli -p {port} GET k", "v0"),
        (f"redis-cli -p {port} DBSIZE", "3"),
        (f"redis-cli -p {port} KEYS 'sess:*'", "sess:"),
        (f"redis-cli -p {port} CONFIG GET port", str(port)),
        (f"echo 'GET k' | redis-cli -p {port}", "v0"),
    ):
        assert out in bash(line), line
        result = check(line)
        assert result["findings"] == [], line
        assert result["exit"] == 0, line


def test_expire_in_the_past_deletes_like_del_and_rename_overwrites(seeded: RedisServer) -> None:
    port = seeded.port
    for line in (f"redis-cli -p {port} EXPIRE k 0", f"redis-cli -p {port} EXPIREAT sess:1 1"):
        f = only(check(line), "redis.delete")
        assert (f["severity"], "expire" in f["tags"]) == ("low", True), line
        bash(line)  # for real: the key is gone at once
    assert seeded.cli("EXISTS", "k", "sess:1") == "0"
    later = f"redis-cli -p {port} EXPIRE sess:2 60"
    assert check(later)["findings"] == []
    bash(later)
    assert seeded.cli("EXISTS", "sess:2") == "1"
    seeded.cli("SET", "k", "old")
    rename = f"redis-cli -p {port} RENAME sess:2 k"
    f = only(check(rename), "redis.rename")
    assert (f["object"], f["severity"]) == ("k", "low")
    bash(rename)  # for real: k's old value is gone
    assert seeded.cli("GET", "k") == "b"
