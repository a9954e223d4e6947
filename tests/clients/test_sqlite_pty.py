"""sqlite3 under guard (batch mode: guardsh shows the prompt), on a real terminal."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path

import pexpect
import pytest

from tests.clients.conftest import Start, prod_policy
from tests.shell.term import CTRL_C, Term

pytestmark = pytest.mark.pty
SQLITE = shutil.which("sqlite3")
needs_sqlite = pytest.mark.skipif(
    SQLITE is None, reason="sqlite3 not installed (apt-get install sqlite3)"
)


def prompt(t: Term, path: Path) -> None:
    t.expect(re.compile(rf"\[PROD\] db:localhost:{re.escape(str(path))} sqlite>"))
    time.sleep(0.1)


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


@needs_sqlite
def test_drop_guarded_select_not(client: Start, tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
        db.execute("INSERT INTO orders VALUES (7)")
    assert SQLITE is not None
    t = client([SQLITE, str(path)], policy=prod_policy(tmp_path / "p.yaml", names=("*/prod.db",)))
    prompt(t, path)
    t.line("SELECT id * 6 FROM orders;")
    t.expect(r"\n42\n")
    prompt(t, path)
    t.line("SELECT 1,")  # multi-line: sqlite3 sees it only when complete
    time.sleep(0.2)
    t.line("2;")
    t.expect(r"\n1\|2\n")
    prompt(t, path)
    t.line("DROP TABLE orders;")
    t.expect_exact("Type `orders` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, path)
    assert tables(path) == ["orders"]
    t.line("DROP TABLE orders;")
    t.expect_exact("Type `orders` to run it:")
    time.sleep(0.1)
    t.line("orders")
    prompt(t, path)
    assert tables(path) == []
    t.line("SELECT * FROM orders;")  # an error keeps the session
    t.expect_exact("no such table: orders")
    prompt(t, path)
    t.line(".quit")
    t.child.expect(pexpect.EOF, timeout=10)


@needs_sqlite
def test_typed_ahead_keys_do_not_answer_the_card(client: Start, tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
    assert SQLITE is not None
    t = client([SQLITE, str(path)], policy=prod_policy(tmp_path / "p.yaml", names=("*/prod.db",)))
    prompt(t, path)
    t.send("DROP TABLE orders;\rorders\r")  # all at once, before the card is there
    t.expect_exact("Type `orders` to run it:")
    time.sleep(0.5)
    assert tables(path) == ["orders"], "typed-ahead keys answered the card"
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, path)
    assert tables(path) == ["orders"]
