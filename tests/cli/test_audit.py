"""`guardsh audit` without FILE reads the file that sessions write to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def guardsh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["verify"], "{log}"),
        (["tail"], "echo audited"),
        (["search", "--text", "echo"], "echo audited"),
        (["stats", "--json"], '"records": 2'),
        (["export", "--format", "csv"], "echo audited"),
    ],
)
def test_reading_commands_default_to_an_honoured_guardsh_audit_log(
    command: list[str], expected: str
) -> None:
    log = os.environ["GUARDSH_AUDIT_LOG"]  # honoured: a user install allows overrides
    assert guardsh("-c", "echo audited").returncode == 0
    out = guardsh("audit", *command)
    assert out.returncode == 0, out.stderr
    assert expected.format(log=log) in out.stdout


def test_an_override_the_system_layer_refuses_is_not_read(tmp_path: Path) -> None:
    system = Path(os.environ["GUARDSH_CONFIG_DIR"]) / "policy.d"
    system.mkdir(parents=True)
    (system / "00-site.yaml").write_text("settings:\n  allow_overrides: false\n")
    Path(os.environ["GUARDSH_AUDIT_LOG"]).write_text("")
    out = guardsh("audit", "tail")
    assert out.returncode == 2
    assert "no audit log found" in out.stderr and os.environ["GUARDSH_AUDIT_LOG"] not in out.stderr
