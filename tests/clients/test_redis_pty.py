"""redis-cli under guard, on a real terminal, against a real redis-server."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pexpect
import pytest

from tests.clients.conftest import Start, audit_records, prod_policy
from tests.servers import RedisServer
from tests.shell.term import CTRL_C, Term

pytestmark = [pytest.mark.pty, pytest.mark.server]


def prompt(t: Term, port: int, db: str = "0") -> None:
    suffix = f"[{db}]" if db != "0" else ""
    t.expect(re.compile(rf"\[PROD\] db:127\.0\.0\.1/{db} 127\.0\.0\.1:{port}{re.escape(suffix)}>"))
    time.sleep(0.1)


def test_flushall_guarded_get_not(
    client: Start, redis_server: RedisServer, tmp_path: Path, audit_log: Path
) -> None:
    r = redis_server
    r.cli("SET", "guard:key", "kept")
    t = client([r.cli_path, "-h", r.host, "-p", str(r.port)],
               policy=prod_policy(tmp_path / "p.yaml", ports=(r.port,)))  # fmt: skip
    prompt(t, r.port)
    start = len(t.text)
    t.line("GET guard:key")
    t.expect_exact('"kept"')
    prompt(t, r.port)
    assert "guardsh" not in t.text[start:]
    t.line("FLUSHALL")
    t.expect_exact("FLUSHALL")
    t.expect_exact("Type `all databases` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, r.port)
    assert r.cli("GET", "guard:key") == "kept"
    t.line("FLUSHALL")
    t.expect_exact("Type `all databases` to run it:")
    time.sleep(0.1)
    t.line("all databases")
    t.expect_exact("OK")
    prompt(t, r.port)
    assert r.cli("EXISTS", "guard:key") == "0"
    phases = [r["phase"] for r in audit_records(audit_log) if "FLUSHALL" in str(r.get("line"))]
    assert phases.count("declined") == 1 and "intent" in phases and "result" in phases


def test_select_changes_database(client: Start, redis_server: RedisServer, tmp_path: Path) -> None:
    r = redis_server
    r.cli("-n", "3", "SET", "guard:db3", "x")
    t = client([r.cli_path, "-h", r.host, "-p", str(r.port)],
               policy=prod_policy(tmp_path / "p.yaml", ports=(r.port,)))  # fmt: skip
    prompt(t, r.port)
    t.line("SELECT 3")
    t.expect_exact("OK")
    prompt(t, r.port, "3")
    t.line("FLUSHDB")
    t.expect_exact("db 3")  # the card names the database SELECT switched to
    t.expect_exact("Type `db 3` to run it:")
    time.sleep(0.1)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    assert r.cli("-n", "3", "GET", "guard:db3") == "x"
    prompt(t, r.port, "3")
    t.send("\x04")  # Ctrl-D at an empty line: end of input for redis-cli
    t.child.expect(pexpect.EOF, timeout=10)


def test_typed_ahead_keys_do_not_answer_the_card(
    client: Start, redis_server: RedisServer, tmp_path: Path
) -> None:
    r = redis_server
    r.cli("SET", "guard:ahead", "kept")
    t = client([r.cli_path, "-h", r.host, "-p", str(r.port)],
               policy=prod_policy(tmp_path / "p.yaml", ports=(r.port,)))  # fmt: skip
    prompt(t, r.port)
    t.send("DEL guard:ahead\ry\r")  # all at once, before the card is there
    t.expect_exact("Run it? [y/N]")
    time.sleep(0.5)
    assert r.cli("GET", "guard:ahead") == "kept", "typed-ahead keys answered the card"
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t, r.port)
    assert r.cli("GET", "guard:ahead") == "kept"


def test_auth_stays_out_of_history_and_audit(
    client: Start, redis_server: RedisServer, tmp_path: Path, audit_log: Path
) -> None:
    r = redis_server
    t = client([r.cli_path, "-h", r.host, "-p", str(r.port)],
               policy=prod_policy(tmp_path / "p.yaml", ports=(r.port,)))  # fmt: skip
    prompt(t, r.port)
    t.line("AUTH alice hunter2-pw")
    t.expect_exact("(error)")
    prompt(t, r.port)
    t.line("GET guard:nothing")
    t.expect_exact("(nil)")
    prompt(t, r.port)
    t.send("\x04")
    t.child.expect(pexpect.EOF, timeout=10)
    state = Path(os.environ["XDG_STATE_HOME"]) / "guardsh" / "clients"
    saved = "".join(p.read_text() for p in state.iterdir())
    assert "GET guard:nothing" in saved and "hunter2" not in saved
    lines = [str(r.get("line")) for r in audit_records(audit_log)]
    assert "redis-cli> AUTH alice ***" in lines
    assert not [ln for ln in lines if "hunter2" in ln]
