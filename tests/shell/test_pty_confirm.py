"""DESIGN's stories on a real terminal: real processes, a real PostgreSQL, real bash.

The test policy makes the machine running the tests production, so the
stories play out against this host.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import PgServer
from tests.shell.term import CTRL_C, Term

pytestmark = pytest.mark.pty
Shell = Callable[..., Term]
CARD = "━━ guardsh ━"


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A real process for the shell to (not) kill."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def _audit() -> list[dict[str, object]]:
    path = Path(os.environ["GUARDSH_AUDIT_LOG"])
    if not path.exists():
        return []
    return [json.loads(row) for row in path.read_text().splitlines() if row.strip()]


def _gone(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return True
        time.sleep(0.05)
    return False


def test_prompt_is_production_on_this_host(shell: Shell, prod_policy: Path) -> None:
    t = shell(policy=prod_policy)
    assert "[PROD]" in t.text


def test_wrong_name_leaves_the_process_running(
    shell: Shell, prod_policy: Path, victim: subprocess.Popen[bytes]
) -> None:
    t = shell(policy=prod_policy)
    t.line(f"kill {victim.pid}")
    t.expect_exact(CARD + " PRODUCTION")
    t.expect_exact(f"SIGTERM to pid {victim.pid}")
    t.expect_exact("rule prod-kill: Killing a process in production.")
    t.expect_exact(f"Type `{victim.pid}` to run it:")
    for wrong in ("1", f"{victim.pid}0", "yes"):
        time.sleep(0.2)
        t.send(wrong + "\r")
    t.expect_exact("declined")
    t.prompt()
    assert victim.poll() is None, "a wrong name must leave the process running"
    t.run('echo "status=$?"', "status=126")
    phases = [r["phase"] for r in _audit()]
    assert "declined" in phases


def test_right_name_runs_the_command(
    shell: Shell, prod_policy: Path, victim: subprocess.Popen[bytes]
) -> None:
    t = shell(policy=prod_policy)
    t.line(f"kill {victim.pid}")
    t.expect_exact(f"Type `{victim.pid}` to run it:")
    time.sleep(0.2)
    t.send(f"{victim.pid}\r")
    t.prompt()
    assert _gone(victim), "the confirmed kill must run"
    t.run('echo "status=$?"', "status=0")
    records = _audit()
    intent = next(
        r for r in records if r["phase"] == "intent" and r["line"] == f"kill {victim.pid}"
    )
    assert intent["verdict"] == "type"
    assert any(r["phase"] == "result" and r["exit"] == 0 for r in records)


def test_typed_ahead_answer_is_discarded(
    shell: Shell, prod_policy: Path, victim: subprocess.Popen[bytes]
) -> None:
    t = shell(policy=prod_policy)
    # the answer arrives in the same burst as the command: it must not count
    t.send(f"kill {victim.pid}\r{victim.pid}\r")
    t.expect_exact(f"Type `{victim.pid}` to run it:")
    time.sleep(1.0)
    assert victim.poll() is None
    t.send(CTRL_C)
    t.prompt()
    assert victim.poll() is None
    t.run('echo "status=$?"', "status=126")


def test_ctrl_c_at_the_card_declines(
    shell: Shell, prod_policy: Path, victim: subprocess.Popen[bytes]
) -> None:
    t = shell(policy=prod_policy)
    t.line(f"kill -9 {victim.pid}")
    t.expect_exact("to run it:")
    time.sleep(0.2)
    t.send(f"{victim.pid}")
    t.send(CTRL_C)
    t.expect_exact("not run (ctrl-c)")
    t.prompt()
    assert victim.poll() is None
    t.run('echo "status=$?"', "status=126")


@pytest.mark.server
def test_drop_table_in_real_postgres(shell: Shell, prod_policy: Path, pg_server: PgServer) -> None:
    dsn = pg_server.create_database("guardsh_shell")
    pg_server.psql(
        "CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2)", db="guardsh_shell"
    )
    t = shell(policy=prod_policy)
    t.run(f"export DATABASE_URL='{dsn}'")
    assert "[PROD] db:127.0.0.1/guardsh_shell " in t.text
    t.line('psql "$DATABASE_URL" -c "DROP TABLE users"')
    t.expect_exact("DROP TABLE users")
    t.expect_exact("Type `users` to run it:")
    for wrong in ("user", "Users", "guardsh_shell"):
        time.sleep(0.2)
        t.send(wrong + "\r")
    t.prompt()
    assert pg_server.psql("SELECT count(*) FROM users", db="guardsh_shell").strip() == "2"
    t.line('psql "$DATABASE_URL" -c "DROP TABLE users"')
    t.expect_exact("Type `users` to run it:")
    time.sleep(0.2)
    t.send("users\r")
    t.expect_exact("DROP TABLE")
    t.prompt()
    gone = pg_server.psql("SELECT to_regclass('public.users') IS NULL", db="guardsh_shell").strip()
    assert gone == "t"


@pytest.mark.server
def test_read_only_commands_run_without_a_card(
    shell: Shell, prod_policy: Path, pg_server: PgServer, work: Path
) -> None:
    dsn = pg_server.create_database("guardsh_ro")
    (work / "migrations").mkdir()
    (work / "migrations" / "001.sql").write_text("DROP TABLE old;\n")
    t = shell(policy=prod_policy)
    start = len(t.text)
    t.run("ls -la / | head -2")
    t.run('grep -r "DROP TABLE" migrations/ | wc -l | sed s/^/hits=/', "hits=1")
    t.run(f"psql '{dsn}' -Atc 'SELECT 40+2'", "42")
    t.run("kill -l | head -1 | wc -l | sed s/^/kl=/", "kl=1")
    t.run("cat /etc/hostname >/dev/null; echo ok-$((1+1))", "ok-2")
    assert CARD not in t.text[start:]


def test_deny_refuses_with_126(shell: Shell, tmp_path: Path, work: Path) -> None:
    policy = tmp_path / "deny.yaml"
    policy.write_text(
        "rules:\n  - id: no-recursive-delete\n    match: {actions: [fs.delete_recursive]}\n"
        "    require: deny\n    message: Never here.\n"
    )
    (work / "keep").mkdir()
    t = shell(policy=policy)
    t.line("rm -rf keep")
    t.expect_exact("Refused: the policy denies this command.")
    t.prompt()
    assert (work / "keep").is_dir()
    t.run('echo "status=$?"', "status=126")
    assert any(r["phase"] == "denied" for r in _audit())


def test_break_glass_runs_a_denied_command_and_records_why(
    shell: Shell, tmp_path: Path, work: Path
) -> None:
    policy = tmp_path / "glass.yaml"
    policy.write_text(
        "rules:\n  - id: no-recursive-delete\n    match: {actions: [fs.delete_recursive]}\n"
        "    require: deny\n    break_glass: true\n"
    )
    (work / "gone").mkdir()
    t = shell(policy=policy)
    t.line("rm -rf gone")
    t.expect_exact("type `break glass staging`")
    time.sleep(0.2)
    t.send("break glass staging\r")
    t.expect_exact("Reason (ticket or why):")
    time.sleep(0.2)
    t.send("INC-42 disk full\r")
    t.prompt()
    assert not (work / "gone").exists()
    glass = [r for r in _audit() if r["phase"] == "breakglass"]
    assert [(r["line"], r["reason"]) for r in glass] == [("rm -rf gone", "INC-42 disk full")]


@pytest.mark.server
def test_statement_typed_inside_psql_is_guarded(
    shell: Shell, prod_policy: Path, pg_server: PgServer
) -> None:
    dsn = pg_server.create_database("guardsh_inner")
    pg_server.psql("CREATE TABLE users (id int); INSERT INTO users VALUES (1)", db="guardsh_inner")
    t = shell(policy=prod_policy)
    t.line(f"psql '{dsn}'")
    t.expect_exact("guardsh_inner=#")
    time.sleep(0.3)
    t.send("DROP TABLE users;\r")
    t.expect_exact("Type `users` to run it:")
    for wrong in ("user", "nope", "USERS"):
        time.sleep(0.2)
        t.send(wrong + "\r")
    time.sleep(0.5)
    assert pg_server.psql("SELECT count(*) FROM users", db="guardsh_inner").strip() == "1"
    t.send("SELECT 40 + 2 AS answer;\r")
    t.expect(r"answer\s*\n-+\n\s*42")
    t.send("\\q\r")
    t.prompt()
    t.run('echo "psql-status=$?"', "psql-status=0")
