"""The systemd units that run the collector on system installs."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

from guardsh.audit import SYSTEM_LOG, SYSTEM_SOCKET
from tests.audit.conftest import REPO, run_cli

PACKAGING = REPO / "packaging"


def unit(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(PACKAGING / name)
    return cp


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "apt-get install systemd (systemd-analyze)"
    for name in ("guardsh-audit.service", "guardsh-audit.socket"):
        text = (PACKAGING / name).read_text().replace("/usr/local/bin/guardsh", "/bin/true")
        (tmp_path / name).write_text(text)
    cp = subprocess.run(
        ["systemd-analyze", "verify", "./guardsh-audit.socket", "./guardsh-audit.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0 and not cp.stderr.strip(), cp.stderr


def test_units_agree_with_the_code() -> None:
    sock, svc = unit("guardsh-audit.socket"), unit("guardsh-audit.service")
    assert sock["Socket"]["ListenStream"] == SYSTEM_SOCKET
    assert sock["Socket"]["SocketMode"] == "0666"
    exec_start = shlex.split(svc["Service"]["ExecStart"])
    assert exec_start[:3] == ["/usr/local/bin/guardsh", "audit", "serve"]
    assert exec_start[exec_start.index("--log") + 1] == SYSTEM_LOG
    assert svc["Service"]["LogsDirectory"] == "guardsh"
    assert svc["Service"]["LogsDirectoryMode"] == "0700"
    # the service's own arguments are ones `audit serve` accepts
    cp = run_cli(*exec_start[2:], "--help")
    assert cp.returncode == 0, cp.stderr
