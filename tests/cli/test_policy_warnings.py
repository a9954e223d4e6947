"""A skipped user layer is said wherever a verdict is given: `guardsh check`
(its JSON `notes` and its text), `guardsh -c` (once, on stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from guardsh.exitcodes import Exit

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = "policy: your policy file was skipped: "


def guardsh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
    )


def broken_user_file() -> Path:
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "guardsh" / "policy.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("rules: {}\n")
    return user


def test_check_json_notes_name_the_skipped_user_file() -> None:
    user = broken_user_file()
    r = guardsh("check", "--json", "--hostname", "prod-db-1", "--", "rm -rf /srv/x")
    assert r.returncode == Exit.NEEDS_CONFIRMATION, r.stderr
    (note,) = json.loads(r.stdout)["notes"]
    assert note == f"{SKIPPED}{user}:1:8: expected a list of rules"


def test_check_text_and_batch_say_it_too() -> None:
    user = broken_user_file()
    r = guardsh("check", "--hostname", "web-1", "--", "ls")
    assert r.returncode == Exit.OK, r.stderr
    assert r.stdout.startswith(f"warning: {SKIPPED}{user}:1:8: expected a list of rules\n")
    batch = subprocess.run(
        [sys.executable, "-m", "guardsh", "check", "--batch", "-"],
        input='{"cmd": "ls"}\n{"cmd": "rm -rf /srv/x", "hostname": "prod-1"}\n',
        capture_output=True,
        text=True,
        timeout=60,
    )
    for line in batch.stdout.splitlines():
        assert json.loads(line)["notes"] == [f"{SKIPPED}{user}:1:8: expected a list of rules"]


def test_check_without_warnings_has_no_notes() -> None:
    r = guardsh("check", "--json", "--", "ls")
    assert json.loads(r.stdout)["notes"] == []


def test_dash_c_says_it_once_on_stderr() -> None:
    user = broken_user_file()
    r = guardsh("-c", "echo hello")
    assert r.returncode == 0 and r.stdout == "hello\n"
    assert r.stderr == f"guardsh: {SKIPPED}{user}:1:8: expected a list of rules\n"


def test_dash_c_says_it_before_a_refusal() -> None:
    user = broken_user_file()
    r = guardsh("-c", "rm -rf /srv/x", "--")
    assert r.returncode == Exit.REFUSED
    first, *rest = r.stderr.splitlines()
    assert first == f"guardsh: {SKIPPED}{user}:1:8: expected a list of rules"
    assert rest[0].startswith("guardsh: refused (no terminal to confirm on)")
    assert r.stderr.count(SKIPPED) == 1
