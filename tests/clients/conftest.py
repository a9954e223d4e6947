"""Fixtures for the client proxy's tests: a policy that makes a test server
production, and `python -m guardsh.clients CLIENT ...` on a real terminal."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.shell.term import Term, term_env

Start = Callable[..., Term]


def prod_policy(
    path: Path,
    *,
    ports: tuple[int, ...] = (),
    names: tuple[str, ...] = (),
    dev_names: tuple[str, ...] = (),
) -> Path:
    """A policy layer: the given ports / db names are production, `dev_names`
    development (an unprotected environment)."""
    match = []
    if ports:
        match.append(f"      db_port: [{', '.join(repr(str(p)) for p in ports)}]")
    if names:
        match.append(f"      db_name: [{', '.join(repr(n) for n in names)}]")
    text = ("environments:\n  - name: production\n    color: red\n    protected: true\n"
            "    match:\n" + "\n".join(match) + "\n")  # fmt: skip
    if dev_names:  # a database on this machine is as dangerous as the machine
        text += ("  - name: development\n    color: green\n    protected: false\n    match:\n"
                 f"      db_name: [{', '.join(repr(n) for n in dev_names)}]\n"
                 f"      hostname: [{socket.gethostname()!r}]\n")  # fmt: skip
    path.write_text(text)
    return path


def audit_records(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def audit_log(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"  # GUARDSH_AUDIT_LOG (tests/conftest.py)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Start]:
    """client(argv, policy=path, **env): a client under guard on a real pty."""
    started: list[Term] = []

    def start(argv: list[str], *, policy: Path, cwd: Path | None = None, **env: str) -> Term:
        extra = {"GUARDSH_POLICY": str(policy), "PAGER": "cat", **env}
        t = Term([sys.executable, "-m", "guardsh.clients", *argv], env=term_env(**extra),
                 cwd=str(cwd or tmp_path), timeout=20)  # fmt: skip
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


@pytest.fixture
def command(tmp_path: Path) -> Iterator[Start]:
    """command(line, policy=path, **env): `guardsh -c LINE` on a real terminal
    (what `ssh -t bastion LINE` runs under a ForceCommand)."""
    started: list[Term] = []

    def start(line: str, *, policy: Path, cwd: Path | None = None, **env: str) -> Term:
        extra = {"GUARDSH_POLICY": str(policy), "PAGER": "cat", **env}
        t = Term([sys.executable, "-m", "guardsh", "-c", line], env=term_env(**extra),
                 cwd=str(cwd or tmp_path), timeout=20)  # fmt: skip
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


# --------------------------------------------------------------------------- MariaDB
# Not in tests/servers.py (CI does not install it yet): these tests skip, with
# the package to install, where mariadbd is missing.


@dataclass(frozen=True)
class MariaServer:
    host: str
    port: int
    client: str

    def sql(self, text: str, db: str | None = None) -> str:
        argv = [self.client, "-h", self.host, "-P", str(self.port), "-u", "root", "-N", "-B",
                *([db] if db else []), "-e", text]  # fmt: skip
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
        return out.stdout.strip()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaServer]:
    server = shutil.which("mariadbd") or shutil.which("mysqld")
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    client = shutil.which("mariadb") or shutil.which("mysql")
    if not (server and install and client):
        pytest.skip("MariaDB not installed: apt-get install mariadb-server")
    base = Path(tempfile.mkdtemp(prefix="guardsh-maria-"))
    user_opt: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("mysql")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        user_opt = ["--user=mysql"]
    subprocess.run([install, *user_opt, f"--datadir={base}/data", "--skip-test-db",
                    "--auth-root-authentication-method=normal"],
                   capture_output=True, check=True, timeout=120)  # fmt: skip
    port = free_port()
    with (base / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [server, *user_opt, f"--datadir={base}/data", f"--socket={base}/sock",
             f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={base}/pid",
             "--skip-log-bin", "--innodb-buffer-pool-size=16M"],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    s = MariaServer("127.0.0.1", port, client)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                s.sql("SELECT 1")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        yield s
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
