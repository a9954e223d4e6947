"""`guardsh check` as a program: the DESIGN contract (exit codes, JSON, batch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from guardsh.exitcodes import Exit


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", "check", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_exit_0_for_read_only_in_production() -> None:
    r = run("--as", "production", "--", "ls -la /var/lib/postgresql")
    assert r.returncode == Exit.OK, r.stderr


def test_exit_10_and_json_for_the_foundation_story() -> None:
    line = 'sudo -u postgres bash -c "rm -rf /var/lib/postgresql/15/main"'
    r = run("--as", "production", "--json", "--", line)
    assert r.returncode == Exit.NEEDS_CONFIRMATION, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"verdict", "exit", "environment", "findings", "rules", "analysis_us"}
    assert data["verdict"] == "type" and data["exit"] == 10 and data["environment"] == "production"
    f = data["findings"][0]
    assert set(f) >= {"action", "object", "severity", "target", "environment", "evidence"}
    assert (f["action"], f["object"], f["severity"]) == (
        "fs.delete_recursive",
        "/var/lib/postgresql/15/main",
        "high",
    )
    assert f["evidence"]["text"] == "rm -rf /var/lib/postgresql/15/main"


def test_exit_20_when_denied(tmp_path: Path) -> None:
    policy = tmp_path / "deny.yaml"
    policy.write_text(
        "rules:\n  - id: no-drop\n    match: {actions: [fs.delete_recursive]}\n    require: deny\n"
    )
    r = run("--policy", str(policy), "--json", "--", "rm -rf /srv/x")
    assert r.returncode == Exit.DENIED, r.stderr
    assert "no-drop" in json.loads(r.stdout)["rules"]


def test_exit_2_for_an_incomplete_line_with_the_column() -> None:
    r = run("--", "psql -c 'DROP TABLE x")
    assert r.returncode == Exit.USAGE
    assert "unterminated single quote (column 9)" in r.stderr
    assert "^" in r.stderr


def test_exit_2_for_a_broken_policy_naming_file_and_line(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("rules:\n  - id: x\n    requires: type\n")
    r = run("--policy", str(policy), "--", "ls")
    assert r.returncode == Exit.USAGE
    assert f"{policy}:3:5: unknown key `requires`" in r.stderr
    assert "did you mean `require`" in r.stderr


def test_exit_2_for_usage_errors() -> None:
    assert run().returncode == Exit.USAGE
    assert run("--var", "NOEQUALS", "--", "ls").returncode == Exit.USAGE


def test_vars_replace_the_callers_environment() -> None:
    r = run("--json", "--var", "DIR=/var/lib/postgresql", "--", "rm -rf $DIR")
    assert json.loads(r.stdout)["findings"][0]["object"] == "/var/lib/postgresql"


def test_aliases_hostname_and_cwd(tmp_path: Path) -> None:
    (tmp_path / "ops.sh").write_text("rm -rf /srv/old\n")
    r = run(
        "--json",
        "--hostname",
        "prod-app-1",
        "--cwd",
        str(tmp_path),
        "--alias",
        "clean=source ops.sh",
        "--",
        "clean",
    )
    data = json.loads(r.stdout)
    assert data["environment"] == "production"
    assert [f["object"] for f in data["findings"]] == ["/srv/old"]


def test_batch_answers_every_line_in_order_and_survives_bad_lines() -> None:
    lines = [
        json.dumps({"cmd": "rm -rf /srv/x", "as": "production"}),
        "this is not json",
        json.dumps({"nocmd": 1}),
        json.dumps({"cmd": "echo 'open"}),
        json.dumps({"cmd": "kubectl get pods", "kube_context": "prod-eu"}),
        json.dumps({"cmd": "psql $DB -c 'TRUNCATE t'", "vars": {"DB": "postgres://prod-db/app"}}),
    ]
    r = run("--batch", "-", stdin="\n".join(lines) + "\n")
    assert r.returncode == Exit.OK, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["verdict"] == "type" and isinstance(out[0]["analysis_us"], int)
    assert "error" in out[1] and "error" in out[2]
    assert "unterminated" in out[3]["error"]
    assert out[4]["verdict"] == "allow"


def test_batch_refuses_dry_run_instead_of_ignoring_it() -> None:
    r = run("--batch", "-", "--dry-run", stdin=json.dumps({"cmd": "rm -rf /srv/x"}) + "\n")
    assert r.returncode == Exit.USAGE
    assert "--dry-run does not apply to --batch" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("code", list(Exit))
def test_exit_codes_are_stable(code: Exit) -> None:
    expected = {
        "OK": 0,
        "FAILURE": 1,
        "USAGE": 2,
        "NEEDS_CONFIRMATION": 10,
        "DENIED": 20,
        "REFUSED": 126,
    }
    assert int(code) == expected[code.name]
