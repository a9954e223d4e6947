"""Connection text -> parameters -> db Target (passwords never kept)."""

from __future__ import annotations

import pytest

from guardsh.model import Target
from guardsh.parse import dburl


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://app:s3cret@prod-db.internal:5433/app",
            {"engine": "postgresql", "user": "app", "host": "prod-db.internal", "port": "5433",
             "dbname": "app"},
        ),
        ("postgresql://prod-db/app", {"engine": "postgresql", "host": "prod-db", "dbname": "app"}),
        ("postgresql:///app?host=/var/run/postgresql",
         {"engine": "postgresql", "dbname": "app", "host": "/var/run/postgresql"}),
        ("postgresql://h1:5432,h2:5433/app",
         {"engine": "postgresql", "host": "h1,h2", "port": "5432", "dbname": "app"}),
        ("postgresql://[::1]:5432/app", {"engine": "postgresql", "host": "::1", "port": "5432",
                                         "dbname": "app"}),
        ("postgresql://u%40corp@h/my%20db", {"engine": "postgresql", "user": "u@corp", "host": "h",
                                             "dbname": "my db"}),
        ("postgresql+psycopg2://u:p@db.prod/app", {"engine": "postgresql", "user": "u",
                                                   "host": "db.prod", "dbname": "app"}),
        ("jdbc:postgresql://db.prod:5432/app", {"engine": "postgresql", "host": "db.prod",
                                                "port": "5432", "dbname": "app"}),
        ("postgresql://h/app?service=prod", {"engine": "postgresql", "host": "h", "dbname": "app",
                                             "service": "prod"}),
        ("mysql://root:pw@mysql-prod:3307/shop", {"engine": "mysql", "user": "root",
                                                  "host": "mysql-prod", "port": "3307",
                                                  "dbname": "shop"}),
        ("mariadb://m1/shop", {"engine": "mysql", "host": "m1", "dbname": "shop"}),
        ("clickhouse://ch-prod:9000/events", {"engine": "clickhouse", "host": "ch-prod",
                                              "port": "9000", "dbname": "events"}),
        ("sqlite:////srv/app/prod.db", {"engine": "sqlite", "dbname": "/srv/app/prod.db"}),
    ],
)  # fmt: skip
def test_parse_url(url: str, expected: dict[str, str]) -> None:
    got = dburl.parse_url(url)
    assert got is not None
    assert got.pop("url") == dburl.as_typed(url)  # see test_the_url_as_typed
    assert got == expected


@pytest.mark.parametrize(
    ("url", "typed"),
    [
        ("postgres://h1/app?sslmode=require", "postgres://h1/app?sslmode=require"),
        ("postgres://app:s3cret@h1:5433/app", "postgres://app@h1:5433/app"),
        ("postgres://:s3cret@h1/app", "postgres://h1/app"),
        ("postgresql://h1/app?password=s3cret&sslmode=require", "postgresql://h1/app?sslmode=require"),
        ("postgresql://h1/app?sslpassword=s3cret", "postgresql://h1/app"),
        ("postgresql://u:p@h1?dbname=app", "postgresql://u@h1?dbname=app"),
        ("jdbc:postgresql://db.prod:5432/app", "jdbc:postgresql://db.prod:5432/app"),
        ("sqlite:////srv/app/prod.db", "sqlite:////srv/app/prod.db"),
    ],
)  # fmt: skip
def test_the_url_as_typed(url: str, typed: str) -> None:
    """What a `db_url` pattern also sees: the URL as written, never a password."""
    assert dburl.as_typed(url) == typed
    got = dburl.parse_url(url)
    assert got is not None and got["url"] == typed


def test_parse_url_rejects_other_schemes() -> None:
    assert dburl.parse_url("redis://cache:6379/0") is None
    assert dburl.parse_url("not a url") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host=prod-db port=5432 dbname=app user=deploy",
         {"host": "prod-db", "port": "5432", "dbname": "app", "user": "deploy"}),
        ("host = db1  dbname='my app'", {"host": "db1", "dbname": "my app"}),
        ("dbname='it\\'s' password=secret", {"dbname": "it's"}),
        ("service=prod", {"service": "prod"}),
    ],
)  # fmt: skip
def test_parse_conninfo(text: str, expected: dict[str, str]) -> None:
    assert dburl.parse_conninfo(text) == expected


def test_parse_dbname_forms() -> None:
    assert dburl.parse_dbname("app") == {"dbname": "app"}
    assert dburl.parse_dbname("host=h dbname=d") == {"host": "h", "dbname": "d"}
    assert dburl.parse_dbname("postgres://h/d")["host"] == "h"
    assert dburl.parse_dbname("weird=") == {"weird": ""}


SERVICE_FILE = """
# comment
[prod]
host=prod-db.internal
port=5432
dbname=app
user=deploy
password=hunter2

[staging]
host = staging-db
dbname = app
"""


def test_service_file() -> None:
    assert dburl.service_params(SERVICE_FILE, "prod") == {
        "host": "prod-db.internal",
        "port": "5432",
        "dbname": "app",
        "user": "deploy",
    }
    assert dburl.service_params(SERVICE_FILE, "staging") == {"host": "staging-db", "dbname": "app"}
    assert dburl.service_params(SERVICE_FILE, "missing") is None


def test_my_cnf() -> None:
    text = "[mysqld]\nport=1\n[client]\nhost=db-a\nuser=me\npassword=x\n[mysql]\ndatabase=shop\n"
    assert dburl.my_cnf_params(text) == {"host": "db-a", "user": "me", "dbname": "shop"}


def test_env_params() -> None:
    env = {"PGHOST": "h", "PGDATABASE": "d", "PGPASSWORD": "x", "PGPORT": ""}
    assert dburl.env_params(env.get) == {"host": "h", "dbname": "d"}


def test_sanitize_url() -> None:
    assert dburl.sanitize_url("postgres://u:pw@h:1/d") == "postgres://u@h:1/d"
    assert dburl.sanitize_url("postgres://h/d") == "postgres://h/d"


def test_db_target_remote() -> None:
    t = dburl.db_target(
        "postgresql",
        {"host": "prod-db.internal", "port": "5433", "dbname": "app", "user": "deploy"},
        Target("local", (("hostname", "laptop"),)),
    )
    assert t.kind == "db"
    assert t.as_json() == {
        "kind": "db",
        "db_engine": "postgresql",
        "db_host": "prod-db.internal",
        "db_port": "5433",
        "db_name": "app",
        "db_user": "deploy",
        "db_url": "postgresql://deploy@prod-db.internal:5433/app",
    }
    assert "password" not in str(t) and "hunter2" not in str(t)


def test_db_target_keeps_the_url_as_typed_when_it_differs() -> None:
    params = dburl.parse_url("postgres://h1/app?sslmode=require")
    assert params is not None
    t = dburl.db_target("postgresql", {**params, "user": "root"})
    assert t.get("db_url") == "postgresql://root@h1:5432/app"
    assert t.get("db_url_typed") == "postgres://h1/app?sslmode=require"
    same = dburl.parse_url("postgresql://root@h1:5432/app")
    assert same is not None
    assert dburl.db_target("postgresql", same).get("db_url_typed") is None


def test_db_target_drops_a_url_that_no_longer_says_where_it_goes() -> None:
    """`\\c other` in psql, or `clickhouse client URL --host h2`: the typed URL
    named another database or host than the one the target now is."""
    params = dburl.parse_url("postgres://h1/app")
    assert params is not None
    assert dburl.db_target("postgresql", {**params, "host": "h2"}).get("db_url_typed") is None
    assert dburl.db_target("postgresql", {**params, "dbname": "b"}).get("db_url_typed") is None
    t = dburl.db_target("postgresql", {**params, "port": "5433"})  # the URL did not say
    assert t.get("db_url_typed") == "postgres://h1/app"


def test_db_target_local_socket_copies_the_machine() -> None:
    machine = Target("ssh", (("ssh_host", "prod-db-1"), ("ssh_user", "ops")))
    t = dburl.db_target("postgresql", {"dbname": "app", "user": "postgres"}, machine)
    assert t.get("db_host") == "localhost"
    assert t.get("db_socket") == "yes"
    assert t.get("ssh_host") == "prod-db-1"
    assert t.get("db_via") == "ssh"
    t = dburl.db_target("postgresql", {"host": "/var/run/postgresql", "dbname": "a"}, machine)
    assert t.get("db_host") == "localhost" and t.get("db_socket") == "yes"


def test_db_target_remote_host_does_not_copy_the_machine() -> None:
    machine = Target("local", (("hostname", "laptop"),))
    t = dburl.db_target("postgresql", {"host": "db.example", "dbname": "a"}, machine)
    assert t.get("hostname") is None


def test_db_target_multi_host_and_mysql_socket() -> None:
    t = dburl.db_target("postgresql", {"host": "h1,h2", "dbname": "a"})
    assert t.get("db_host") == "h1" and t.get("db_hosts") == "h1,h2"
    t = dburl.db_target("mysql", {"host": "localhost", "dbname": "shop"})
    assert t.get("db_socket") == "yes" and t.get("db_port") is None
    t = dburl.db_target("mysql", {"host": "127.0.0.1", "dbname": "shop"})
    assert t.get("db_socket") is None and t.get("db_port") == "3306"


def test_db_target_sqlite() -> None:
    t = dburl.db_target(
        "sqlite", {"dbname": "/srv/app/prod.db"}, Target("local", (("hostname", "web-1"),))
    )
    assert t.get("db_name") == "/srv/app/prod.db"
    assert t.get("db_host") == "localhost"
    assert t.get("hostname") == "web-1"
    assert t.get("db_url") == "sqlite:////srv/app/prod.db"
