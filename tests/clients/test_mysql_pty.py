"""mariadb (the mysql client) under guard, against a real MariaDB server."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pexpect
import pytest

from tests.clients.conftest import MariaServer, Start, prod_policy
from tests.shell.term import CTRL_C, Term

pytestmark = [pytest.mark.pty, pytest.mark.server]


def prompt(t: Term, port: int, db: str) -> None:
    t.expect(re.compile(rf"\[PROD\] db:127\.0\.0\.1/{db} MariaDB \[{db}\]>"))
    time.sleep(0.1)


def test_drop_guarded_use_followed(
    client: Start, mariadb_server: MariaServer, tmp_path: Path
) -> None:
    m = mariadb_server
    m.sql("DROP DATABASE IF EXISTS shop; CREATE DATABASE shop; CREATE TABLE shop.items (id INT);"
          "DROP DATABASE IF EXISTS other; CREATE DATABASE other")  # fmt: skip
    t = client([m.client, "-h", m.host, "-P", str(m.port), "-u", "root", "other"],
               policy=prod_policy(tmp_path / "p.yaml", ports=(m.port,)))  # fmt: skip
    prompt(t, m.port, "other")
    t.line("use shop")
    prompt(t, m.port, "shop")
    t.line("SELECT 6 * 7 AS answer;")
    t.expect(r"\| answer \|\s+\+-+\+\s+\|\s+42 \|")
    prompt(t, m.port, "shop")
    t.line("DROP TABLE")
    time.sleep(0.2)
    t.line("  items;")
    t.expect_exact("Type `items` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, m.port, "shop")
    assert m.sql("SHOW TABLES", db="shop") == "items"
    t.line("DROP TABLE items;")
    t.expect_exact("Type `items` to run it:")
    time.sleep(0.1)
    t.line("items")
    t.expect_exact("Query OK")
    prompt(t, m.port, "shop")
    assert m.sql("SHOW TABLES", db="shop") == ""
    t.line("quit")
    t.child.expect(pexpect.EOF, timeout=10)


def test_the_prompt_has_no_control_characters(
    client: Start, mariadb_server: MariaServer, tmp_path: Path
) -> None:
    m = mariadb_server
    m.sql("CREATE DATABASE IF NOT EXISTS other")
    # TERM=screen (tmux, screen): the client's sgr0 ends with SI, shown as `^O`
    t = client([m.client, "-h", m.host, "-P", str(m.port), "-u", "root", "other"],
               policy=prod_policy(tmp_path / "p.yaml", ports=(m.port,)), TERM="screen")  # fmt: skip
    prompt(t, m.port, "other")
    t.line("SELECT 1 AS one;")
    t.expect_exact("1 row in set")
    prompt(t, m.port, "other")
    assert "^O" not in t.text  # SI itself, in the output, the terminal obeys


def test_a_fresh_environment_keeps_the_line_editor_off(
    client: Start, mariadb_server: MariaServer, tmp_path: Path
) -> None:
    m = mariadb_server
    m.sql("DROP DATABASE IF EXISTS fresh; CREATE DATABASE fresh; CREATE TABLE fresh.t (id INT)")
    # `env -i` (and sudo's env_reset) drop EDITRC: libedit would take every key unseen
    argv = ["env", "-i", "TERM=xterm", m.client, "-h", m.host, "-P", str(m.port), "-u", "root"]
    t = client([*argv, "fresh"], policy=prod_policy(tmp_path / "p.yaml", ports=(m.port,)))
    prompt(t, m.port, "fresh")
    t.line("DROP TABLE t;")
    t.expect_exact("Type `t` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    assert m.sql("SHOW TABLES", db="fresh") == "t"
