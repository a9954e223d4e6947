"""`guardsh -c`, `guardsh SCRIPT` and scripts on stdin, as sshd, scp, rsync and cron call them."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.shell.term import Term, guardsh_argv, term_env

REPO = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ, PYTHONPATH=str(REPO))
    e.update(extra)
    return e


def guardsh(
    *args: str, stdin: bytes | None = b"", cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", *args],
        input=stdin,
        capture_output=True,
        env=env(**extra),
        cwd=cwd,
        timeout=60,
    )


def test_ten_megabytes_pass_through_cat_unchanged() -> None:
    data = os.urandom(10 * 1024 * 1024)
    out = guardsh("-c", "cat", stdin=data)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(out.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    assert out.stderr == b""


def test_binary_both_ways_through_a_pipeline() -> None:
    data = bytes(range(256)) * 4096
    out = guardsh("-c", "cat | cat >&2; printf '\\0\\377'", stdin=data)
    assert out.stderr == data
    assert out.stdout == b"\0\xff"


@pytest.mark.parametrize("status", [0, 1, 2, 42, 126, 127, 255])
def test_exit_status_is_the_commands(status: int) -> None:
    assert guardsh("-c", f"exit {status}").returncode == status


def test_death_by_signal_is_passed_on() -> None:
    out = guardsh("-c", "kill -TERM $$")
    assert out.returncode == -signal.SIGTERM


def test_arguments_and_dollar_zero() -> None:
    out = guardsh("-c", 'printf "%s|" "$0" "$@"', "name", "a b", "c")
    assert out.stdout == b"name|a b|c|"


def test_command_not_found_is_127() -> None:
    out = guardsh("-c", "no-such-command-xyz")
    assert out.returncode == 127
    assert b"not found" in out.stderr


def test_the_refusal_names_the_target_once() -> None:
    out = guardsh("-c", "psql postgres://prod-db.internal/app -c 'DROP TABLE users'")
    assert out.returncode == 126
    err = out.stderr.decode()
    said = "guardsh:   DROP TABLE users on prod-db.internal/app — production (sql.drop_table)"
    assert said + "\n" in err
    assert "on db:" not in err


def test_no_terminal_refusal_is_126_and_names_the_rule(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    out = guardsh("-c", f"rm -rf {target}")
    assert out.returncode == 126
    err = out.stderr.decode()
    assert "refused (no terminal to confirm on)" in err
    assert "rule staging-high" in err
    assert "nothing was run" in err
    assert target.is_dir()
    records = [
        json.loads(r) for r in Path(os.environ["GUARDSH_AUDIT_LOG"]).read_text().splitlines()
    ]
    assert [r["phase"] for r in records if r.get("line")] == ["denied"]


def test_denied_is_126_too(tmp_path: Path) -> None:
    policy = tmp_path / "deny.yaml"
    policy.write_text(
        "rules:\n  - id: never\n    match: {actions: [fs.delete_recursive]}\n    require: deny\n"
    )
    out = guardsh("-c", "rm -rf /srv/nothing-here", GUARDSH_POLICY=str(policy))
    assert out.returncode == 126
    assert "refused (denied by policy)" in out.stderr.decode()
    assert "(rules staging-high, never)" in out.stderr.decode()


def test_allowed_commands_are_recorded_with_their_result() -> None:
    out = guardsh("-c", "exit 3")
    assert out.returncode == 3
    records = [
        json.loads(r) for r in Path(os.environ["GUARDSH_AUDIT_LOG"]).read_text().splitlines()
    ]
    phases = [(r["phase"], r.get("exit")) for r in records if r["phase"] in ("intent", "result")]
    assert phases == [("intent", None), ("result", 3)]


def test_script_is_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    script = tmp_path / "job.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho started\nrm -rf /srv/precious\n")
    out = guardsh(str(script))
    assert out.returncode == 126
    assert not marker.exists()
    assert out.stdout == b""
    assert f"{script} 4:" in out.stderr.decode()  # the line of the offending command


def test_script_runs_with_its_arguments(tmp_path: Path) -> None:
    script = tmp_path / "ok.sh"
    script.write_text('echo "args=$* zero=$(basename "$0")"\nexit 5\n')
    out = guardsh(str(script), "x", "y")
    assert out.returncode == 5
    assert out.stdout == b"args=x y zero=ok.sh\n"


def test_stdin_script_is_analyzed_as_a_whole(tmp_path: Path) -> None:
    marker = tmp_path / "m"
    out = guardsh(stdin=f"touch {marker}\nrm -rf /srv/x\n".encode())
    assert out.returncode == 126
    assert not marker.exists()
    ok = guardsh(stdin=b"echo from-stdin $((6*7))\n")
    assert (ok.returncode, ok.stdout) == (0, b"from-stdin 42\n")


def test_incomplete_command_is_a_usage_error() -> None:
    out = guardsh("-c", "echo 'unterminated")
    assert out.returncode == 2
    assert "unterminated single quote" in out.stderr.decode()


def test_login_flag_reads_the_profile() -> None:
    home = Path(os.environ["HOME"])
    (home / ".profile").write_text("export FROM_PROFILE=yes\n")
    assert guardsh("-lc", 'echo "p=${FROM_PROFILE-no}"').stdout == b"p=yes\n"
    assert guardsh("-c", 'echo "p=${FROM_PROFILE-no}"').stdout == b"p=no\n"


def test_dash_c_imports_neither_click_nor_prompt_toolkit() -> None:
    probe = (
        "import sys, runpy; sys.argv = ['guardsh', '-c', 'true']\n"
        "import atexit\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('click', 'prompt_toolkit')), file=sys.stderr))\n"
        "from guardsh.cli.main import main; main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env(), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-1] == b"[]"


@pytest.mark.pty
def test_dash_c_on_a_terminal_shows_the_card(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    t = Term(guardsh_argv("-c", f"rm -rf {target}"), env=term_env())
    try:
        t.expect_exact("━━ guardsh ━ STAGING")
        t.expect_exact("Run it? [y/N]")
        time.sleep(0.2)
        t.send("y\r")
        while t._pump(0.1):
            pass
        t.child.close()
        assert t.child.exitstatus == 0
        assert not target.exists()
    finally:
        t.close()


@pytest.mark.pty
def test_dash_c_on_a_terminal_decline_is_126(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    t = Term(guardsh_argv("-c", f"rm -rf {target}"), env=term_env())
    try:
        t.expect_exact("Run it? [y/N]")
        time.sleep(0.2)
        t.send("\r")
        t.expect_exact("not run (declined)")
        while t._pump(0.1):
            pass
        t.child.close()
        assert t.child.exitstatus == 126
        assert target.is_dir()
    finally:
        t.close()


@pytest.mark.parametrize("protected", [True, False])
def test_audit_required_refuses_only_in_a_protected_environment(
    tmp_path: Path, protected: bool
) -> None:
    policy = tmp_path / "policy.yaml"
    environment = "staging" if protected else "development"
    policy.write_text(f"settings:\n  audit_required: true\nunknown_environment: {environment}\n")
    (tmp_path / "file").write_text("")  # the log's directory is a file: nothing can be written
    log = tmp_path / "file" / "audit.jsonl"
    marker = tmp_path / "ran"
    out = guardsh("-c", f"touch {marker}", GUARDSH_POLICY=str(policy), GUARDSH_AUDIT_LOG=str(log))
    err = out.stderr.decode()
    assert "records are queued" in err
    if protected:
        assert out.returncode == 126
        assert "refused: the audit trail cannot be written and the policy requires it" in err
        assert not marker.exists()
    else:
        assert out.returncode == 0, err
        assert "refused" not in err
        assert marker.exists()
